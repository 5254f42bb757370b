package webhook

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReceiver(t *testing.T) {
	secret := []byte("hook-secret")
	body := `{"ref":"refs/heads/main"}`
	good := Sign([]byte(body), secret)
	bad := Sign([]byte(body), []byte("other"))
	tests := []struct {
		name          string
		method, path  string
		headers       map[string]string
		body          string
		wantCode      int
		wantTriggered bool
	}{
		{"github push", "POST", "/hooks/web", map[string]string{"X-Hub-Signature-256": good, "X-GitHub-Event": "push"}, body, 202, true},
		{"github ping", "POST", "/hooks/web", map[string]string{"X-Hub-Signature-256": good, "X-GitHub-Event": "ping"}, body, 200, false},
		{"github bad signature", "POST", "/hooks/web", map[string]string{"X-Hub-Signature-256": bad, "X-GitHub-Event": "push"}, body, 401, false},
		{"github signature of another body", "POST", "/hooks/web", map[string]string{"X-Hub-Signature-256": good}, body + " ", 401, false},
		{"github signature not hex", "POST", "/hooks/web", map[string]string{"X-Hub-Signature-256": "sha256=zz"}, body, 401, false},
		{"github sha1 only", "POST", "/hooks/web", map[string]string{"X-Hub-Signature": "sha1=" + good[7:]}, body, 401, false},
		{"gitlab token", "POST", "/hooks/web", map[string]string{"X-Gitlab-Token": "hook-secret", "X-Gitlab-Event": "Push Hook"}, body, 202, true},
		{"gitlab wrong token", "POST", "/hooks/web", map[string]string{"X-Gitlab-Token": "hook-secreT"}, body, 401, false},
		{"generic", "POST", "/hooks/web", map[string]string{"X-Signature-256": good}, body, 202, true},
		{"generic bad", "POST", "/hooks/web", map[string]string{"X-Signature-256": bad}, body, 401, false},
		{"generic without prefix", "POST", "/hooks/web", map[string]string{"X-Signature-256": good[7:]}, body, 401, false},
		{"no signature", "POST", "/hooks/web", nil, body, 401, false},
		{"source without a secret", "POST", "/hooks/open", map[string]string{"X-Gitlab-Token": ""}, body, 401, false},
		{"unknown source, no secret", "POST", "/hooks/nope", map[string]string{"X-Signature-256": good}, body, 401, false},
		{"unknown source, shared secret, signed", "POST", "/hooks/shared-nope", map[string]string{"X-Signature-256": good}, body, 404, false},
		{"unknown source, shared secret, bad signature", "POST", "/hooks/shared-nope", map[string]string{"X-Signature-256": bad}, body, 401, false},
		{"unknown source, shared secret, unsigned", "POST", "/hooks/shared-nope", nil, body, 401, false},
		{"no source", "POST", "/hooks/", nil, body, 404, false},
		{"nested path", "POST", "/hooks/web/x", nil, body, 404, false},
		{"GET", "GET", "/hooks/web", nil, "", 405, false},
		{"too large", "POST", "/hooks/web", map[string]string{"X-Signature-256": good}, strings.Repeat("x", 2048), 413, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var triggered []string
			h := New(Options{
				Secret: func(s string) ([]byte, bool) {
					switch s {
					case "web":
						return secret, true
					case "open":
						return nil, true
					case "shared-nope":
						return secret, false
					}
					return nil, false
				},
				Trigger: func(s string) bool { triggered = append(triggered, s); return true },
				MaxBody: 1024,
			})
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Errorf("code %d, want %d (%s)", rec.Code, tt.wantCode, rec.Body)
			}
			if (len(triggered) == 1) != tt.wantTriggered || len(triggered) > 1 {
				t.Errorf("triggered %v, want %v", triggered, tt.wantTriggered)
			}
			var resp response
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("body %q is not JSON: %v", rec.Body, err)
			}
			if resp.Triggered != tt.wantTriggered {
				t.Errorf("response says triggered=%v", resp.Triggered)
			}
			if strings.Contains(rec.Body.String(), string(secret)) {
				t.Errorf("response %q holds the secret", rec.Body)
			}
		})
	}
}

func TestReceiverSourceGone(t *testing.T) {
	h := New(Options{
		Secret:  func(string) ([]byte, bool) { return []byte("s"), true },
		Trigger: func(string) bool { return false },
	})
	req := httptest.NewRequest(http.MethodPost, "/hooks/web", strings.NewReader("{}"))
	req.Header.Set("X-Signature-256", Sign([]byte("{}"), []byte("s")))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("code %d, want 404", rec.Code)
	}
}
