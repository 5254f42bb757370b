package workloads

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
)

// File is a manifest file held in memory: a Git revision's file, or one
// sent to the API (`berth diff PATH`).
type File struct {
	// Path names the file in diagnostics ("apps/web.yaml").
	Path string
	Data []byte
}

// LoadFiles is Load over files already in memory, in the order given: the
// same decoding, defaults, validation and whole-input checks, each finding
// naming the file by its Path. An input with no documents gets the same
// RuleNoDocuments error Load gives.
func LoadFiles(files []File) ([]*Object, []Diagnostic, Summary) {
	var (
		objs  []*Object
		diags diagnosticList
		sum   Summary
	)
	dec, chk := NewDecoder(), NewChecker()
	for _, f := range files {
		sum.Files++
		err := dec.DecodeFile(f.Path, bytes.NewReader(f.Data), func(d Decoded) {
			if d.Object != nil {
				d.Result.Diagnostics = append(d.Result.Diagnostics, chk.Check(d.Object)...)
				d.Result.Namespace = strings.Clone(d.Object.Meta().GetNamespace())
				objs = append(objs, d.Object)
			}
			sum.Documents++
			switch {
			case d.Result.Ignored && d.Result.Valid(false):
				sum.Ignored++
			case d.Result.Valid(false):
				sum.Valid++
			default:
				sum.Invalid++
			}
			for _, dg := range d.Result.Diagnostics {
				sum.count(dg)
			}
			diags.Document(d.Result)
		})
		if err != nil { // a bytes.Reader does not fail; kept for safety
			sum.Unreadable++
			dg := Diagnostic{Severity: SeverityError, Pos: Position{File: f.Path}, Rule: RuleIOError, Message: ioMessage(f.Path, err)}
			sum.count(dg)
			diags.Diagnostic(dg)
		}
	}
	for _, dg := range chk.Finish() {
		sum.count(dg)
		diags.Diagnostic(dg)
	}
	if sum.Documents == 0 && sum.Unreadable == 0 {
		dg := Diagnostic{
			Severity: SeverityError, Pos: Position{File: "."}, Rule: RuleNoDocuments,
			Message: "no Kubernetes manifests found (berth reads *.yaml, *.yml and *.json); a check that validates nothing must not pass",
		}
		sum.count(dg)
		diags.Diagnostic(dg)
	}
	return objs, diags, sum
}

// maxReadFile bounds one file ReadFiles reads into memory; the decoder
// refuses documents over 4 MiB anyway.
const maxReadFile = 64 << 20

// ReadFiles reads the manifest files under paths exactly as `berth
// validate` walks them (files as given, folders recursively in lexical
// order with dot-folders skipped and symbolic links followed once, "-" as
// stdin) into memory, for `berth diff PATH`. Paths are the names validate
// would print. The first path that cannot be read is the error.
func ReadFiles(paths []string, stdin io.Reader) ([]File, error) {
	var (
		files []File
		first error
	)
	walkInputs(paths, stdin, func(name string, r io.Reader, err error) {
		if first != nil {
			return
		}
		var data []byte
		if err == nil {
			data, err = io.ReadAll(io.LimitReader(r, maxReadFile+1))
		}
		switch {
		case err != nil:
			first = fmt.Errorf("cannot read %s: %w", name, unwrapPath(err))
		case len(data) > maxReadFile:
			first = fmt.Errorf("%s is larger than %d MiB", name, maxReadFile>>20)
		default:
			files = append(files, File{Path: filepath.ToSlash(name), Data: data})
		}
	})
	return files, first
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
