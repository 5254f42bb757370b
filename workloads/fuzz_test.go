package workloads

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes through the whole pipeline (split,
// parse, typed decode, defaults, validation): it must never panic, and every
// finding must have a rule and a message. Run: make fuzz.
func FuzzDecode(f *testing.F) {
	for _, glob := range []string{"testdata/corpus/real-world/*.yaml", "testdata/corpus/real-world/*/*.yaml", "testdata/rules/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &collect{}
		Validate([]string{"-"}, ValidateOptions{Stdin: bytes.NewReader(data)}, c)
		for _, d := range c.all() {
			if d.Rule == "" || d.Message == "" {
				t.Fatalf("diagnostic without rule or message: %+v", d)
			}
		}
	})
}
