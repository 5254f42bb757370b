package sim

import (
	"context"
	"fmt"
	"time"
)

// RunChecked is RunUntilIdle that lets check see every state: it steps the
// manager, calls check after each step, and moves the fake clock to the
// next due time when nothing is due now.
func (c *Cluster) RunChecked(ctx context.Context, max time.Duration, check func()) error {
	deadline := c.Clock.Now().Add(max)
	for {
		progressed := c.Manager.Step(ctx)
		check()
		if err := ctx.Err(); err != nil {
			return err
		}
		if progressed {
			continue
		}
		next, ok := c.Manager.NextDue()
		if !ok {
			return nil
		}
		if next.After(deadline) {
			return fmt.Errorf("sim: still busy after %s of simulated time (next due %s)", max, next.Sub(deadline))
		}
		if next.After(c.Clock.Now()) {
			c.Clock.SetTime(next)
		}
	}
}
