package controller

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestExpectations(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := NewExpectations(clk)
	if !e.Satisfied("rs") {
		t.Fatal("no expectations: not satisfied")
	}
	e.Expect("rs", 2, []string{"ns/a"})
	steps := []struct {
		do   func()
		want bool
	}{
		{func() {}, false},
		{func() { e.CreationObserved("rs") }, false},
		{func() { e.CreationObserved("rs") }, false},         // the deletion is still due
		{func() { e.DeletionObserved("rs", "ns/b") }, false}, // not expected: does not count
		{func() { e.DeletionObserved("rs", "ns/a") }, true},
	}
	for i, s := range steps {
		s.do()
		if got := e.Satisfied("rs"); got != s.want {
			t.Errorf("step %d: Satisfied = %v, want %v", i, got, s.want)
		}
	}
	e.ExpectCreations("rs", 1)
	clk.Step(ExpectationsTimeout + time.Second)
	if !e.Satisfied("rs") {
		t.Error("expired expectations still block")
	}
	e.ExpectDeletions("rs", []string{"ns/c"})
	e.Forget("rs")
	if !e.Satisfied("rs") {
		t.Error("forgotten expectations still block")
	}
}
