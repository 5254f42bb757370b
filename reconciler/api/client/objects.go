package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/berth-io/berth/reconciler/api"
	"github.com/berth-io/berth/reconciler/store"
)

// ListOptions select what List and Watch see, in Kubernetes' selector
// syntax.
type ListOptions struct {
	LabelSelector string // "app=web,tier!=db"
	// FieldSelector: metadata.name, metadata.namespace, and per kind
	// spec.nodeName, status.phase (pods), involvedObject.kind/name
	// (events)...
	FieldSelector string
	// TimeoutSeconds, for a watch, asks the server to end the stream
	// after that long (0: no limit); the client ends it then too, in
	// case the server does not.
	TimeoutSeconds int64
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.LabelSelector != "" {
		q.Set("labelSelector", o.LabelSelector)
	}
	if o.FieldSelector != "" {
		q.Set("fieldSelector", o.FieldSelector)
	}
	return q
}

// List returns the objects of kind in namespace ("" = all namespaces)
// matching labelSelector, as typed objects (*corev1.Pod...), and the
// resourceVersion to Watch from.
func (c *Client) List(ctx context.Context, kind, namespace, labelSelector string) ([]store.Object, string, error) {
	return c.ListWithOptions(ctx, kind, namespace, ListOptions{LabelSelector: labelSelector})
}

// ListWithOptions is List with a field selector too.
func (c *Client) ListWithOptions(ctx context.Context, kind, namespace string, opts ListOptions) ([]store.Object, string, error) {
	path, err := api.ResourcePath(kind, namespace, "")
	if err != nil {
		return nil, "", err
	}
	var list struct {
		Metadata metav1.ListMeta   `json:"metadata"`
		Items    []json.RawMessage `json:"items"`
	}
	if err := c.do(ctx, http.MethodGet, path, opts.query(), nil, &list); err != nil {
		return nil, "", err
	}
	out := make([]store.Object, 0, len(list.Items))
	for _, raw := range list.Items {
		obj, err := decodeObject(kind, raw)
		if err != nil {
			return nil, "", err
		}
		out = append(out, obj)
	}
	return out, list.Metadata.ResourceVersion, nil
}

// Get returns one object.
func (c *Client) Get(ctx context.Context, kind, namespace, name string) (store.Object, error) {
	if name == "" {
		return nil, fmt.Errorf("get %s: a name is required", kind)
	}
	path, err := api.ResourcePath(kind, namespaceOrDefault(kind, namespace), name)
	if err != nil {
		return nil, err
	}
	return c.objectCall(ctx, kind, http.MethodGet, path, nil)
}

// Create creates obj (its namespace "" is "default") and returns it as
// stored.
func (c *Client) Create(ctx context.Context, obj store.Object) (store.Object, error) {
	kind, m, err := describe(obj)
	if err != nil {
		return nil, err
	}
	path, err := api.ResourcePath(kind, namespaceOrDefault(kind, m.GetNamespace()), "")
	if err != nil {
		return nil, err
	}
	return c.objectCall(ctx, kind, http.MethodPost, path, obj)
}

// Update replaces obj; its metadata.resourceVersion must be the stored
// one (errors.Is(err, store.ErrConflict) otherwise).
func (c *Client) Update(ctx context.Context, obj store.Object) (store.Object, error) {
	return c.update(ctx, obj, "")
}

// UpdateStatus replaces only obj's status (the status subresource), as
// agents report pods.
func (c *Client) UpdateStatus(ctx context.Context, obj store.Object) (store.Object, error) {
	return c.update(ctx, obj, "/status")
}

func (c *Client) update(ctx context.Context, obj store.Object, sub string) (store.Object, error) {
	kind, m, err := describe(obj)
	if err != nil {
		return nil, err
	}
	if m.GetName() == "" {
		return nil, fmt.Errorf("update %s: metadata.name is required", kind)
	}
	path, err := api.ResourcePath(kind, namespaceOrDefault(kind, m.GetNamespace()), m.GetName())
	if err != nil {
		return nil, err
	}
	return c.objectCall(ctx, kind, http.MethodPut, path+sub, obj)
}

// Delete deletes one object (a running pod gracefully).
func (c *Client) Delete(ctx context.Context, kind, namespace, name string) error {
	return c.DeleteWithOptions(ctx, kind, namespace, name, store.DeleteOptions{})
}

// DeleteWithOptions deletes with the store's preconditions and grace
// period.
func (c *Client) DeleteWithOptions(ctx context.Context, kind, namespace, name string, opts store.DeleteOptions) error {
	if name == "" {
		return fmt.Errorf("delete %s: a name is required", kind)
	}
	path, err := api.ResourcePath(kind, namespaceOrDefault(kind, namespace), name)
	if err != nil {
		return err
	}
	body := &metav1.DeleteOptions{
		TypeMeta:           metav1.TypeMeta{Kind: "DeleteOptions", APIVersion: "v1"},
		GracePeriodSeconds: opts.GracePeriodSeconds,
	}
	if opts.UID != "" || opts.ResourceVersion != 0 {
		body.Preconditions = &metav1.Preconditions{}
		if opts.UID != "" {
			uid := types.UID(opts.UID)
			body.Preconditions.UID = &uid
		}
		if opts.ResourceVersion != 0 {
			rv := strconv.FormatInt(opts.ResourceVersion, 10)
			body.Preconditions.ResourceVersion = &rv
		}
	}
	return c.do(ctx, http.MethodDelete, path, nil, body, nil)
}

func (c *Client) objectCall(ctx context.Context, kind, method, path string, body any) (store.Object, error) {
	var raw json.RawMessage
	if err := c.do(ctx, method, path, nil, body, &raw); err != nil {
		return nil, err
	}
	return decodeObject(kind, raw)
}

// EventError is the type of the last event of a watch the server ended
// with an error; its Object is the *metav1.Status (WatchError turns it
// into an error: errors.Is(err, store.ErrExpired) means list again).
const EventError store.EventType = "ERROR"

// Watch streams the changes to kind's objects in namespace ("" = all)
// after resourceVersion (from List; "" or "0" starts with an ADDED event
// per existing object). The channel closes when ctx ends or the stream
// does; if the server ended it with an error, the last event before the
// close has type EventError (see WatchError). A stream that breaks (the
// connection drops) ends with an EventError too; one the server closes
// cleanly just closes.
func (c *Client) Watch(ctx context.Context, kind, namespace, resourceVersion string) (<-chan store.Event, error) {
	return c.WatchWithOptions(ctx, kind, namespace, resourceVersion, ListOptions{})
}

// WatchWithOptions is Watch with selectors.
func (c *Client) WatchWithOptions(ctx context.Context, kind, namespace, resourceVersion string, opts ListOptions) (<-chan store.Event, error) {
	path, err := api.ResourcePath(kind, namespace, "")
	if err != nil {
		return nil, err
	}
	q := opts.query()
	q.Set("watch", "true")
	if resourceVersion != "" {
		q.Set("resourceVersion", resourceVersion)
	}
	cancel := context.CancelFunc(func() {})
	if opts.TimeoutSeconds > 0 {
		q.Set("timeoutSeconds", strconv.FormatInt(opts.TimeoutSeconds, 10))
		// A little later than the server's end, for a server that
		// does not honour it or a stream that stopped moving.
		ctx, cancel = context.WithTimeout(ctx, time.Duration(opts.TimeoutSeconds)*time.Second+2*time.Second)
	}
	resp, err := c.send(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	ch := make(chan store.Event)
	go func() {
		defer cancel()
		defer close(ch)
		defer resp.Body.Close()
		send := func(ev store.Event) bool {
			select {
			case ch <- ev:
				return true
			case <-ctx.Done():
				return false
			}
		}
		dec := json.NewDecoder(bufio.NewReader(resp.Body))
		for {
			var line struct {
				Type   store.EventType `json:"type"`
				Object json.RawMessage `json:"object"`
			}
			if err := dec.Decode(&line); err != nil {
				if ctx.Err() == nil && !errors.Is(err, io.EOF) {
					send(errorEvent(http.StatusInternalServerError, metav1.StatusReasonInternalError,
						fmt.Sprintf("the watch of %s broke: %v; watch again from the last resourceVersion", api.Plural(kind), err)))
				}
				return
			}
			if line.Type == EventError {
				var st metav1.Status
				if err := json.Unmarshal(line.Object, &st); err != nil {
					st = metav1.Status{Code: http.StatusInternalServerError, Reason: metav1.StatusReasonInternalError, Message: "the watch ended with an unreadable error"}
				}
				send(store.Event{Type: EventError, Object: &st})
				return
			}
			obj, err := decodeObject(kind, line.Object)
			if err != nil {
				send(errorEvent(http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error()))
				return
			}
			rv, _ := strconv.ParseInt(obj.(metav1.Object).GetResourceVersion(), 10, 64)
			if !send(store.Event{Type: line.Type, Object: obj, ResourceVersion: rv}) {
				return
			}
		}
	}()
	return ch, nil
}

func errorEvent(code int32, reason metav1.StatusReason, msg string) store.Event {
	return store.Event{Type: EventError, Object: &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Code: code, Reason: reason, Message: msg,
	}}
}

// decodeObject decodes one object of kind. It is lenient about fields it
// does not know, so an older client reads a newer server.
func decodeObject(kind string, raw []byte) (store.Object, error) {
	obj, err := store.New(kind)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, obj); err != nil {
		return nil, fmt.Errorf("decoding a %s from the server: %w", kind, err)
	}
	return obj, nil
}

// describe returns obj's kind and metadata.
func describe(obj store.Object) (string, metav1.Object, error) {
	kind, err := store.KindOf(obj)
	if err != nil {
		return "", nil, err
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return "", nil, fmt.Errorf("a %s without metadata", kind)
	}
	return kind, m, nil
}

// namespaceOrDefault is where the store puts an object of kind given
// namespace.
func namespaceOrDefault(kind, namespace string) string {
	if store.Namespaced(kind) && namespace == "" {
		return metav1.NamespaceDefault
	}
	return namespace
}
