// Package webhook receives push notifications from Git hosts and triggers
// the named source's fetch: POST /hooks/<source>, signed as GitHub
// (X-Hub-Signature-256), GitLab (X-Gitlab-Token) or generically
// (X-Signature-256: sha256=<hex HMAC-SHA256 of the body>).
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// DefaultMaxBody bounds a request's body: GitHub's own cap on a webhook
// payload (25 MB; a push of many commits can exceed a few MiB). The
// signature covers the whole body, so a smaller limit would refuse real
// pushes; the API server applies the same limit, and bounds the time a
// client may take to send it.
const DefaultMaxBody = 25 << 20

// PathPrefix is where the receiver is mounted; the source's name follows.
const PathPrefix = "/hooks/"

// Options configure a Receiver.
type Options struct {
	// Secret returns a source's webhook secret, and false for an unknown
	// source. A source without a secret (empty) accepts no hook: an
	// unsigned trigger would let anyone make the server fetch. For an
	// unknown source it may still return the secret every source shares:
	// a request signed with it is told 404, any other 401.
	Secret func(source string) ([]byte, bool)
	// Trigger asks the source for an immediate fetch; false if the source
	// is gone.
	Trigger func(source string) bool
	// MaxBody is the largest body accepted (default DefaultMaxBody).
	MaxBody int64
}

// Receiver is the http.Handler for POST /hooks/<source>.
type Receiver struct {
	opts Options
}

// New returns a Receiver.
func New(opts Options) *Receiver {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	return &Receiver{opts: opts}
}

// response is the JSON body of every answer.
type response struct {
	Source    string `json:"source,omitempty"`
	Triggered bool   `json:"triggered"`
	Message   string `json:"message"`
}

// ServeHTTP implements http.Handler.
func (h *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, response{Message: "use POST"})
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || name == "" || strings.Contains(name, "/") {
		reply(w, http.StatusNotFound, response{Message: "no such hook; POST to " + PathPrefix + "<source>"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			reply(w, http.StatusRequestEntityTooLarge, response{Message: "body too large"})
			return
		}
		reply(w, http.StatusBadRequest, response{Message: "cannot read the body"})
		return
	}
	// The signature is checked before the source's existence is told: an
	// unsigned request learns nothing about which sources there are. (A
	// server whose sources share one secret, as berth's do, returns it
	// for an unknown name too.)
	secret, known := h.opts.Secret(name)
	if len(secret) == 0 || !verify(r.Header, body, secret) {
		// Say nothing about which check failed.
		reply(w, http.StatusUnauthorized, response{Message: "missing or bad signature"})
		return
	}
	if !known {
		reply(w, http.StatusNotFound, response{Source: name, Message: "no such source"})
		return
	}
	if r.Header.Get("X-GitHub-Event") == "ping" {
		reply(w, http.StatusOK, response{Source: name, Message: "pong"})
		return
	}
	if !h.opts.Trigger(name) {
		reply(w, http.StatusNotFound, response{Source: name, Message: "no such source"})
		return
	}
	reply(w, http.StatusAccepted, response{Source: name, Triggered: true, Message: "fetch triggered"})
}

// verify checks the request's signature, whichever the host's scheme.
func verify(h http.Header, body, secret []byte) bool {
	if sig := h.Get("X-Hub-Signature-256"); sig != "" {
		return validHMAC(sig, body, secret)
	}
	if tok := h.Get("X-Gitlab-Token"); tok != "" {
		return subtle.ConstantTimeCompare([]byte(tok), secret) == 1
	}
	if sig := h.Get("X-Signature-256"); sig != "" {
		return validHMAC(sig, body, secret)
	}
	return false
}

// validHMAC checks "sha256=<hex HMAC-SHA256 of body>" in constant time.
func validHMAC(sig string, body, secret []byte) bool {
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

func reply(w http.ResponseWriter, code int, r response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(r)
}

// Sign returns the "sha256=<hex>" signature of body, as GitHub sends it
// in X-Hub-Signature-256 (for tests and for scripts calling the generic
// hook).
func Sign(body, secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
