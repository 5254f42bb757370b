package gitops

import (
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	lines := func(n int, change map[int]string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			if s, ok := change[i]; ok {
				if s != "" {
					b.WriteString(s + "\n")
				}
				continue
			}
			b.WriteString("line" + string(rune('a'+i-1)) + "\n")
		}
		return b.String()
	}
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"create", "", "a\nb\n", "--- live\n+++ desired\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"delete", "a\n", "", "--- live\n+++ desired\n@@ -1 +0,0 @@\n-a\n"},
		{"change in the middle", lines(10, nil), lines(10, map[int]string{5: "five"}),
			"--- live\n+++ desired\n@@ -2,7 +2,7 @@\n lineb\n linec\n lined\n-linee\n+five\n linef\n lineg\n lineh\n"},
		{"two hunks", lines(20, nil), lines(20, map[int]string{2: "two", 19: ""}),
			"--- live\n+++ desired\n@@ -1,5 +1,5 @@\n linea\n-lineb\n+two\n linec\n lined\n linee\n@@ -16,5 +16,4 @@\n linep\n lineq\n liner\n-lines\n linet\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unifiedDiff(tt.a, tt.b, "live", "desired"); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
