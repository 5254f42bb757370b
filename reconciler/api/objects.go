package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/berth-io/berth/reconciler/store"
)

// serveResource serves the store's verbs on one kind's URLs.
func (s *Server) serveResource(w http.ResponseWriter, r *http.Request, res *resource, req request) {
	status := len(req.sub) == 1 && req.sub[0] == "status"
	if len(req.sub) > 0 && !status {
		writeStatus(w, notFoundPath(r.URL.Path))
		return
	}
	if status && !hasStatus(res.kind) {
		writeStatus(w, notFoundPath(r.URL.Path))
		return
	}
	// A namespaced kind's object URL needs its namespace.
	if req.name != "" && res.namespaced && req.namespace == "" {
		writeStatus(w, notFoundPath(r.URL.Path))
		return
	}
	switch {
	case req.name == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		q := r.URL.Query()
		if watch := q.Get("watch"); watch == "true" || watch == "1" {
			s.serveWatch(w, r, res, req)
			return
		}
		s.serveList(w, r, res, req)
	case req.name == "" && r.Method == http.MethodPost:
		if res.namespaced && req.namespace == "" {
			writeStatus(w, methodNotAllowed(r.Method, r.URL.Path))
			return
		}
		s.serveCreate(w, r, res, req)
	case req.name != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		obj, err := s.opts.Store.Get(r.Context(), res.kind, req.namespace, req.name)
		if err != nil {
			writeStatus(w, storeStatus(err, res, req.name))
			return
		}
		setTypeMeta(obj, res)
		writeJSON(w, http.StatusOK, obj)
	case req.name != "" && r.Method == http.MethodPut:
		s.serveUpdate(w, r, res, req, status)
	case req.name != "" && r.Method == http.MethodDelete && !status:
		s.serveDelete(w, r, res, req)
	default:
		writeStatus(w, methodNotAllowed(r.Method, r.URL.Path))
	}
}

func (s *Server) serveList(w http.ResponseWriter, r *http.Request, res *resource, req request) {
	q := r.URL.Query()
	f, err := parseFilter(res.kind, q.Get("labelSelector"), q.Get("fieldSelector"))
	if err != nil {
		writeStatus(w, badRequest("%v", err))
		return
	}
	f.namespace = req.namespace
	objs, rv, err := s.opts.Store.List(r.Context(), res.kind, store.ListOptions{Namespace: req.namespace, Selector: f.labels})
	if err != nil {
		writeStatus(w, internalStatus(err))
		return
	}
	items := make([]store.Object, 0, len(objs))
	for _, o := range objs {
		if f.fields != nil && !f.matches(res.kind, o) {
			continue
		}
		setTypeMeta(o, res)
		items = append(items, o)
	}
	writeJSON(w, http.StatusOK, objectList{
		TypeMeta: metav1.TypeMeta{Kind: res.kind + "List", APIVersion: res.apiVersion},
		Metadata: metav1.ListMeta{ResourceVersion: strconv.FormatInt(rv, 10)},
		Items:    items,
	})
}

func (s *Server) serveCreate(w http.ResponseWriter, r *http.Request, res *resource, req request) {
	obj, ok := s.readObject(w, r, res, req)
	if !ok {
		return
	}
	out, err := s.opts.Store.Create(r.Context(), obj)
	if err != nil {
		writeStatus(w, storeStatus(err, res, obj.(metav1.Object).GetName()))
		return
	}
	setTypeMeta(out, res)
	writeJSON(w, http.StatusCreated, out)
}

// serveUpdate replaces an object; on the status subresource, as in
// Kubernetes, only the body's status (and resourceVersion) counts.
func (s *Server) serveUpdate(w http.ResponseWriter, r *http.Request, res *resource, req request, statusOnly bool) {
	obj, ok := s.readObject(w, r, res, req)
	if !ok {
		return
	}
	if statusOnly {
		cur, err := s.opts.Store.Get(r.Context(), res.kind, req.namespace, req.name)
		if err != nil {
			writeStatus(w, storeStatus(err, res, req.name))
			return
		}
		copyStatus(cur, obj)
		cur.(metav1.Object).SetResourceVersion(obj.(metav1.Object).GetResourceVersion())
		obj = cur
	}
	out, err := s.opts.Store.Update(r.Context(), obj)
	if err != nil {
		writeStatus(w, storeStatus(err, res, req.name))
		return
	}
	setTypeMeta(out, res)
	writeJSON(w, http.StatusOK, out)
}

// readObject decodes the body and reconciles its name and namespace with
// the URL's, as the Kubernetes API server does.
func (s *Server) readObject(w http.ResponseWriter, r *http.Request, res *resource, req request) (store.Object, bool) {
	data, ok := readBody(w, r)
	if !ok {
		return nil, false
	}
	obj, err := decodeObject(data, res)
	if err != nil {
		writeStatus(w, badRequest("decoding the request body: %v", err))
		return nil, false
	}
	m := obj.(metav1.Object)
	if res.namespaced {
		switch ns := m.GetNamespace(); {
		case ns == "":
			m.SetNamespace(req.namespace)
		case ns != req.namespace:
			writeStatus(w, badRequest("the namespace of the provided object (%s) does not match the namespace sent on the request (%s)", ns, req.namespace))
			return nil, false
		}
	}
	if req.name != "" {
		switch name := m.GetName(); {
		case name == "":
			m.SetName(req.name)
		case name != req.name:
			writeStatus(w, badRequest("the name of the object (%s) does not match the name on the URL (%s)", name, req.name))
			return nil, false
		}
	}
	return obj, true
}

func (s *Server) serveDelete(w http.ResponseWriter, r *http.Request, res *resource, req request) {
	var opts metav1.DeleteOptions
	data, ok := readBody(w, r)
	if !ok {
		return
	}
	if len(data) > 0 {
		if err := decodeStrict(data, &opts); err != nil {
			writeStatus(w, badRequest("decoding the DeleteOptions body: %v", err))
			return
		}
	}
	if g := r.URL.Query().Get("gracePeriodSeconds"); g != "" {
		n, err := strconv.ParseInt(g, 10, 64)
		if err != nil || n < 0 {
			writeStatus(w, badRequest("gracePeriodSeconds %q is not a non-negative integer", g))
			return
		}
		opts.GracePeriodSeconds = &n
	}
	sopts := store.DeleteOptions{GracePeriodSeconds: opts.GracePeriodSeconds}
	if p := opts.Preconditions; p != nil {
		if p.UID != nil {
			sopts.UID = string(*p.UID)
		}
		if p.ResourceVersion != nil && *p.ResourceVersion != "" {
			rv, err := strconv.ParseInt(*p.ResourceVersion, 10, 64)
			if err != nil || rv <= 0 {
				writeStatus(w, badRequest("preconditions.resourceVersion %q is not a positive integer", *p.ResourceVersion))
				return
			}
			sopts.ResourceVersion = rv
		}
	}
	if err := s.opts.Store.Delete(r.Context(), res.kind, req.namespace, req.name, sopts); err != nil {
		writeStatus(w, storeStatus(err, res, req.name))
		return
	}
	writeJSON(w, http.StatusOK, &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
		Details:  &metav1.StatusDetails{Name: req.name, Group: res.group, Kind: res.plural},
	})
}

// readBody reads the whole (size-capped) body, answering failures.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Body == nil {
		return nil, true
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeStatus(w, newStatus(http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge,
				fmt.Sprintf("the request body is larger than %d bytes", tooBig.Limit)))
			return nil, false
		}
		writeStatus(w, badRequest("reading the request body: %v", err))
		return nil, false
	}
	return data, true
}

// hasStatus reports whether kind has a status subresource (a Status
// field).
func hasStatus(kind string) bool {
	obj, err := store.New(kind)
	if err != nil {
		return false
	}
	return reflect.ValueOf(obj).Elem().FieldByName("Status").IsValid()
}

// copyStatus sets dst's Status field to src's (both of one kind that has
// one).
func copyStatus(dst, src store.Object) {
	d := reflect.ValueOf(dst).Elem().FieldByName("Status")
	sv := reflect.ValueOf(src).Elem().FieldByName("Status")
	d.Set(sv)
}
