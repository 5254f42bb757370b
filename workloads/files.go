package workloads

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// StdinName is the file name diagnostics give to standard input ("-").
const StdinName = "<stdin>"

// manifestFile reports whether a file found in a folder is a manifest.
// Files named on the command line are read whatever their name.
func manifestFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// inputVisitor is called for each input file in order, or with the error
// that kept a path from being read.
type inputVisitor func(name string, r io.Reader, err error)

// walkInputs visits every manifest under paths: files as given, folders
// recursively in lexical order (following symbolic links, each real folder
// once, so a link loop ends), "-" as stdin. Folders whose name starts with
// a dot (.git, .github) are skipped: they hold no manifests but do hold
// YAML (CI workflows) that is not Kubernetes'.
func walkInputs(paths []string, stdin io.Reader, visit inputVisitor) {
	w := &walker{visit: visit, seenDirs: map[fileID]bool{}}
	for _, p := range paths {
		if p == "-" {
			visit(StdinName, stdin, nil)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			visit(p, nil, err)
			continue
		}
		if info.IsDir() {
			w.dir(p, info)
			continue
		}
		w.file(p)
	}
}

type fileID struct{ dev, ino uint64 }

type walker struct {
	visit    inputVisitor
	seenDirs map[fileID]bool
}

func (w *walker) file(name string) {
	f, err := os.Open(name)
	if err != nil {
		w.visit(name, nil, err)
		return
	}
	defer f.Close()
	w.visit(name, f, nil)
}

func (w *walker) dir(name string, info fs.FileInfo) {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		id := fileID{uint64(st.Dev), uint64(st.Ino)}
		if w.seenDirs[id] {
			return // reached again through a symbolic link
		}
		w.seenDirs[id] = true
	}
	entries, err := os.ReadDir(name)
	if err != nil {
		w.visit(name, nil, err)
		return
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		p := filepath.Join(name, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			target, err := os.Stat(p)
			if err != nil {
				w.visit(p, nil, err) // a dangling link, or a link loop
				continue
			}
			if target.IsDir() {
				if !strings.HasPrefix(e.Name(), ".") {
					w.dir(p, target)
				}
			} else if manifestFile(p) {
				w.file(p)
			}
			continue
		}
		switch {
		case e.IsDir():
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			info, err := e.Info()
			if err != nil {
				w.visit(p, nil, err)
				continue
			}
			w.dir(p, info)
		case e.Type().IsRegular() && manifestFile(p):
			w.file(p)
		}
	}
}
