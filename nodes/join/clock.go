package join

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/berth-io/berth/reconciler/api/client"
)

// MaxClockSkew is how far this machine's clock may be from the server's
// before the agent warns: heartbeats, probe times and tolerationSeconds
// are compared across machines.
const MaxClockSkew = 30 * time.Second

// serverOffset asks the server's /healthz for its Date header and returns
// the server's time minus ours (to the second; the header has no finer
// resolution), measured at the middle of the request.
func serverOffset(ctx context.Context, c *client.Client, server string, now func() time.Time) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/healthz", nil)
	if err != nil {
		return 0, err
	}
	start := now()
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	end := now()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return 0, fmt.Errorf("the server's answer has no Date header: %w", err)
	}
	mid := start.Add(end.Sub(start) / 2)
	return date.Sub(mid).Truncate(time.Second), nil
}

// skewMessage is the warning for an offset beyond MaxClockSkew, or "".
func skewMessage(offset time.Duration) string {
	abs, dir := offset, "behind"
	if offset < 0 {
		abs, dir = -offset, "ahead of"
	}
	if abs <= MaxClockSkew {
		return ""
	}
	return fmt.Sprintf("this machine's clock is %s %s the server's: node heartbeats, pod start times and tolerationSeconds will be wrong (the node may be seen as not ready); synchronise the clocks (NTP)", abs, dir)
}

// checkClock logs loudly when the clocks differ by more than
// MaxClockSkew, and returns the offset (0 when it cannot be measured).
func checkClock(ctx context.Context, c *client.Client, server string, now func() time.Time, log *slog.Logger) time.Duration {
	off, err := serverOffset(ctx, c, server, now)
	if err != nil {
		log.Warn("could not compare this machine's clock with the server's", "err", err)
		return 0
	}
	if msg := skewMessage(off); msg != "" {
		log.Error("CLOCK SKEW: "+msg, "offset", off)
	}
	return off
}
