package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// SortEvents orders events by the time they were last seen, oldest first,
// as kubectl events does.
func SortEvents(events []corev1.Event) {
	sort.SliceStable(events, func(i, j int) bool { return eventTime(&events[i]).Before(eventTime(&events[j])) })
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	}
	return e.EventTime.Time
}

// EventPrinter writes kubectl events' table, LAST SEEN TYPE REASON
// OBJECT MESSAGE (NAMESPACE first with -A), a header once then a row per
// event, so a watch can feed it one event at a time.
type EventPrinter struct {
	AllNamespaces bool
	// Now returns the time ages are measured to.
	Now func() time.Time

	headerDone bool
}

// Print writes events (already sorted) and flushes.
func (p *EventPrinter) Print(w io.Writer, events ...corev1.Event) error {
	tw := NewTabWriter(w)
	if !p.headerDone {
		if p.AllNamespaces {
			fmt.Fprint(tw, "NAMESPACE\t")
		}
		fmt.Fprintln(tw, "LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE")
		p.headerDone = true
	}
	now := p.Now()
	for i := range events {
		e := &events[i]
		if p.AllNamespaces {
			fmt.Fprintf(tw, "%s\t", e.Namespace)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s/%s\t%s\n", eventInterval(e, now), e.Type, e.Reason,
			e.InvolvedObject.Kind, e.InvolvedObject.Name, strings.TrimSpace(e.Message))
	}
	return tw.Flush()
}

// eventInterval is kubectl's "5s (x3 over 2m)" for a repeated event, else
// the time since it was first seen.
func eventInterval(e *corev1.Event, now time.Time) string {
	first := eventFirstSeen(e, now)
	switch {
	case e.Series != nil:
		return fmt.Sprintf("%s (x%d over %s)", Age(e.Series.LastObservedTime.Time, now), e.Series.Count, first)
	case e.Count > 1:
		return fmt.Sprintf("%s (x%d over %s)", Age(e.LastTimestamp.Time, now), e.Count, first)
	}
	return first
}

func eventFirstSeen(e *corev1.Event, now time.Time) string {
	if !e.EventTime.IsZero() {
		return Age(e.EventTime.Time, now)
	}
	return Age(e.FirstTimestamp.Time, now)
}

// eventLastSeen is `get events`' LAST SEEN.
func eventLastSeen(e *corev1.Event, now time.Time) string {
	first := Age(e.FirstTimestamp.Time, now)
	if e.FirstTimestamp.IsZero() {
		first = Age(e.EventTime.Time, now)
	}
	switch {
	case e.Series != nil:
		return Age(e.Series.LastObservedTime.Time, now)
	case !e.LastTimestamp.IsZero():
		return Age(e.LastTimestamp.Time, now)
	}
	return first
}

func eventCount(e *corev1.Event) int32 {
	switch {
	case e.Series != nil:
		return e.Series.Count
	case e.Count == 0:
		return 1
	}
	return e.Count
}

func eventSource(e *corev1.Event) string {
	component := e.Source.Component
	if component == "" {
		component = e.ReportingController
	}
	host := e.Source.Host
	if host == "" {
		host = e.ReportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}
