package workloads

// DocumentResult is what validation found about one document (one object;
// each item of a List is its own result).
type DocumentResult struct {
	Origin
	// APIVersion, Kind, Namespace and Name are as far as decoding got; empty
	// when the document did not parse.
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
	// Ignored is set for a kind berth knows but does not serve.
	Ignored     bool         `json:"ignored,omitempty"`
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
}

// Valid reports whether the document has no errors (with strict, no
// warnings either).
func (r DocumentResult) Valid(strict bool) bool {
	for _, d := range r.Diagnostics {
		if d.Severity == SeverityError || strict {
			return false
		}
	}
	return true
}

// Summary counts what a validation run saw.
type Summary struct {
	Files     int `json:"files"`
	Documents int `json:"documents"`
	Valid     int `json:"valid"`
	Invalid   int `json:"invalid"`
	Ignored   int `json:"ignored"`
	Errors    int `json:"errors"`
	Warnings  int `json:"warnings"`
	// Unreadable counts files and folders that could not be read (berth
	// validate exits 2 when there are any).
	Unreadable int `json:"unreadable"`
}
