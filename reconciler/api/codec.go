package api

import (
	"encoding/json"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"

	"github.com/berth-io/berth/reconciler/store"
)

// decodeStrict decodes JSON as the Kubernetes API server does with
// fieldValidation=Strict: field names are case-sensitive, and unknown or
// duplicate fields are errors rather than silently dropped.
func decodeStrict(data []byte, v any) error {
	strict, err := kjson.UnmarshalStrict(data, v)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		return errors.Join(strict...)
	}
	return nil
}

// decodeObject decodes a request's object of resource r, checking the
// kind and apiVersion it names, if any.
func decodeObject(data []byte, r *resource) (store.Object, error) {
	// The body's kind first: a wrong kind would otherwise surface as a
	// baffling field error.
	var tm metav1.TypeMeta
	if err := json.Unmarshal(data, &tm); err != nil {
		return nil, err
	}
	if tm.Kind != "" && tm.Kind != r.kind {
		return nil, fmt.Errorf("the body is a %s; this URL takes a %s", tm.Kind, r.kind)
	}
	if tm.APIVersion != "" && tm.APIVersion != r.apiVersion {
		return nil, fmt.Errorf("the body's apiVersion is %s; %s is %s", tm.APIVersion, r.kind, r.apiVersion)
	}
	obj, err := store.New(r.kind)
	if err != nil {
		return nil, err
	}
	if err := decodeStrict(data, obj); err != nil {
		return nil, err
	}
	setTypeMeta(obj, r)
	return obj, nil
}

// setTypeMeta makes obj carry its apiVersion and kind, as every object
// the API sends does.
func setTypeMeta(obj store.Object, r *resource) {
	obj.GetObjectKind().SetGroupVersionKind(schema.FromAPIVersionAndKind(r.apiVersion, r.kind))
}

// objectList is a typed list as Kubernetes sends it ("PodList").
type objectList struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ListMeta `json:"metadata"`
	Items           []store.Object  `json:"items"`
}

// watchEvent is one line of a watch stream.
type watchEvent struct {
	Type   string `json:"type"`
	Object any    `json:"object"`
}
