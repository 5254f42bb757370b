package controller_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/berth-io/berth/reconciler/controller"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// TestQueue runs scripts of queue operations, one per line:
//
//	add K | after K DUR | limited K | forget K | done K | tick DUR
//	pop K     (Pop hands out K; "pop -" means nothing is due)
//	due DUR   (NextDue is now+DUR; "due -" means nothing pending)
//	len N | requeues K N
func TestQueue(t *testing.T) {
	tests := []struct {
		name, script string
	}{
		{"dedupe", `
			add a
			add b
			add a
			len 2
			pop a
			pop b
			pop -
			due -`},
		{"re-added while processing waits for Done", `
			add a
			pop a
			add a
			add a
			pop -
			due -
			done a
			pop a
			done a
			pop -`},
		{"Done without re-add does not requeue", `
			add a
			pop a
			done a
			pop -`},
		{"after waits on the clock", `
			after a 1s
			pop -
			due 1s
			tick 999ms
			pop -
			due 1ms
			tick 1ms
			due 0s
			pop a`},
		{"after keeps the earlier time", `
			after a 5s
			after a 2s
			after a 9s
			due 2s
			tick 2s
			pop a
			done a
			due -`},
		{"after of a queued key queues nothing more", `
			add a
			after a 1s
			pop a
			done a
			tick 1s
			pop a`},
		{"due keys come out in due order", `
			after c 3s
			after a 1s
			after b 1s
			tick 5s
			pop a
			pop b
			pop c`},
		{"after 0 is add", `
			after a 0s
			pop a`},
		{"backoff doubles from 5ms and Forget resets it", `
			limited a
			requeues a 1
			due 5ms
			tick 5ms
			pop a
			limited a
			done a
			due 10ms
			tick 10ms
			pop a
			limited a
			done a
			due 20ms
			tick 20ms
			pop a
			forget a
			requeues a 0
			limited a
			done a
			due 5ms`},
		{"backoff is per key", `
			limited a
			tick 5ms
			pop a
			limited a
			done a
			limited b
			due 5ms
			tick 5ms
			pop b
			pop -
			due 5ms
			tick 5ms
			pop a`},
		{"a parked key keeps its earlier backoff time", `
			limited a
			limited a
			requeues a 2
			due 5ms`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := testingclock.NewFakeClock(t0)
			q := controller.NewQueue("test", clk)
			for i, line := range strings.Split(strings.TrimSpace(tt.script), "\n") {
				f := strings.Fields(line)
				fail := func(format string, args ...any) {
					t.Fatalf("line %d %q: %s", i+1, strings.TrimSpace(line), fmt.Sprintf(format, args...))
				}
				dur := func(s string) time.Duration {
					d, err := time.ParseDuration(s)
					if err != nil {
						fail("%v", err)
					}
					return d
				}
				switch f[0] {
				case "add":
					q.Add(f[1])
				case "after":
					q.AddAfter(f[1], dur(f[2]))
				case "limited":
					q.AddRateLimited(f[1])
				case "forget":
					q.Forget(f[1])
				case "done":
					q.Done(f[1])
				case "tick":
					clk.Step(dur(f[1]))
				case "pop":
					key, ok := q.Pop()
					if f[1] == "-" {
						if ok {
							fail("popped %q, want nothing", key)
						}
					} else if !ok || key != f[1] {
						fail("popped %q %v, want %q", key, ok, f[1])
					}
				case "due":
					at, ok := q.NextDue()
					if f[1] == "-" {
						if ok {
							fail("due at %v, want nothing", at.Sub(clk.Now()))
						}
					} else if !ok || at.Sub(clk.Now()) != dur(f[1]) {
						fail("due in %v (%v), want %s", at.Sub(clk.Now()), ok, f[1])
					}
				case "len":
					if got := fmt.Sprint(q.Len()); got != f[1] {
						fail("len %s", got)
					}
				case "requeues":
					if got := fmt.Sprint(q.NumRequeues(f[1])); got != f[2] {
						fail("requeues %s", got)
					}
				default:
					fail("unknown op")
				}
			}
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	b := controller.DefaultBackoff()
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 5 * time.Millisecond},
		{1, 10 * time.Millisecond},
		{2, 20 * time.Millisecond},
		{10, 5120 * time.Millisecond},
		{17, 655360 * time.Millisecond},
		{18, 1000 * time.Second},
		{500, 1000 * time.Second},
	}
	for _, tt := range tests {
		if got := b.Delay(tt.n); got != tt.want {
			t.Errorf("Delay(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

// TestQueueGetWaitsForClock: a blocked Get wakes when the fake clock
// reaches a parked key's time, and on ctx end and ShutDown.
func TestQueueGetWaitsForClock(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	q := controller.NewQueue("test", clk)
	q.AddAfter("a", time.Second)
	got := make(chan string)
	go func() {
		key, _ := q.Get(context.Background())
		got <- key
	}()
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	select {
	case key := <-got:
		t.Fatalf("Get returned %q before the key was due", key)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Step(time.Second)
	if key := <-got; key != "a" {
		t.Fatalf("Get = %q", key)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { _, ok := q.Get(ctx); done <- ok }()
	cancel()
	if <-done {
		t.Fatal("Get after cancel returned ok")
	}
	go func() { _, ok := q.Get(context.Background()); done <- ok }()
	q.ShutDown()
	if <-done {
		t.Fatal("Get after ShutDown returned ok")
	}
}

// TestQueueNeverConcurrent: with many workers and keys added all the
// time, a key is never processed by two workers at once, and every add is
// followed by a sync of its key.
func TestQueueNeverConcurrent(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	q := controller.NewQueue("test", clk)
	const keys, adds, workers = 10, 5000, 8
	var busy [keys]atomic.Int32
	var added, seen [keys]atomic.Int64 // adds per key; adds seen by a sync start
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				key, ok := q.Get(ctx)
				if !ok {
					return
				}
				var k int
				fmt.Sscanf(key, "k%d", &k)
				if busy[k].Add(1) != 1 {
					t.Errorf("key %s processed concurrently", key)
				}
				seen[k].Store(added[k].Load())
				time.Sleep(time.Microsecond)
				busy[k].Add(-1)
				q.Done(key)
			}
		})
	}
	for i := range adds {
		k := i % keys
		added[k].Add(1)
		q.Add(fmt.Sprintf("k%d", k))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := 0
		for k := range keys {
			if seen[k].Load() != added[k].Load() {
				left++
			}
		}
		if left == 0 && q.Len() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys added but never synced", left)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
}
