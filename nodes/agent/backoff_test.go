package agent

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := newBackoff(DefaultBackoffInitial, DefaultBackoffMax)
	t0 := epoch()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	// exit → (wait before restart, window)
	steps := []struct {
		exit, now int
		wait      time.Duration
	}{
		{0, 0, 0},                  // first exit: at once
		{1, 1, 10 * time.Second},   // inside the 10s window
		{1, 11, 0},                 // window passed
		{12, 12, 20 * time.Second}, // doubled
		{12, 32, 0},
		{33, 33, 40 * time.Second},
	}
	for i, s := range steps {
		wait, _ := b.wait("k", at(s.exit), at(s.now))
		if wait != s.wait {
			t.Fatalf("step %d: wait %v, want %v", i, wait, s.wait)
		}
		if wait == 0 {
			b.restarted("k", at(s.exit), at(s.now))
		}
	}
	// Long after (more than 2×max since the last restart), it starts over.
	if wait, _ := b.wait("k", at(33+601), at(33+601)); wait != 0 {
		t.Fatalf("after a long run: wait %v", wait)
	}
	b.restarted("k", at(33+601), at(33+601))
	if wait, _ := b.wait("k", at(33+602), at(33+602)); wait != 10*time.Second {
		t.Fatalf("restarted window: wait %v, want 10s", wait)
	}
	// The window is capped at 300s.
	for range 10 {
		b.restarted("c", t0, t0)
	}
	if _, window := b.wait("c", t0, t0); window != DefaultBackoffMax {
		t.Errorf("window %v, want %v", window, DefaultBackoffMax)
	}
}

func epoch() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }
