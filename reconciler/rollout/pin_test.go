package rollout

import (
	"strings"
	"testing"

	"github.com/berth-io/berth/reconciler/gitops"
	"github.com/berth-io/berth/rollouts"
)

// TestPinValueIsGitopsPinHash: `rollout undo` pins with the value the
// sync compares against, so that only a change of the object's spec lifts
// the pin.
func TestPinValueIsGitopsPinHash(t *testing.T) {
	for _, la := range []string{
		lastApplied("web", "app:v1"),
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"a":"b"}},"data":{"k":"v"}}`,
		"not JSON",
	} {
		if got, want := PinValue(la), gitops.PinHash(la); got != want {
			t.Errorf("PinValue(%s) = %s, gitops.PinHash = %s", la, got, want)
		}
	}
	labeled := strings.Replace(lastApplied("web", "app:v1"), `"metadata":{"name":"web"}`, `"metadata":{"name":"web","labels":{"chart":"1.2.4"}}`, 1)
	if PinValue(labeled) != PinValue(lastApplied("web", "app:v1")) {
		t.Error("a metadata-only change changes the pin value")
	}
	if PinValue(lastApplied("web", "app:v2")) == PinValue(lastApplied("web", "app:v1")) {
		t.Error("a spec change leaves the pin value as it was")
	}
}

// TestPausedUndoNamesBerth: the refusal to undo a paused Deployment names
// berth's command, which also lifts a pin.
func TestPausedUndoNamesBerth(t *testing.T) {
	if msg := rollouts.PausedRollbackMessage; !strings.Contains(msg, "'berth rollout resume'") || strings.Contains(msg, "kubectl") {
		t.Errorf("message %q", msg)
	}
}
