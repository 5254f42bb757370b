package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/berth-io/berth/sources"
)

func TestBackendStatusOfFetchErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int32
	}{
		{"fetch timed out", fmt.Errorf("source %q: %w", "web", errors.Join(sources.ErrFetch, context.DeadlineExceeded)), http.StatusGatewayTimeout},
		{"fetch failed", fmt.Errorf("source %q: %w", "web", sources.ErrFetch), http.StatusBadGateway},
		{"other", errors.New("--revision pins one source"), http.StatusBadRequest},
	}
	for _, tt := range tests {
		st := backendStatus(tt.err)
		if st.Code != tt.want || st.Message != tt.err.Error() {
			t.Errorf("%s: %d %q, want %d with the error's text", tt.name, st.Code, st.Message, tt.want)
		}
	}
}
