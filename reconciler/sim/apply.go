package sim

import (
	"context"
	"errors"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/berth-io/berth/reconciler/store"
	"github.com/berth-io/berth/workloads"
)

// ApplyDeployment stores d as a user's desired state: Kubernetes' defaults
// applied, created if new, otherwise its spec, labels and annotations
// replace the stored ones (retrying on conflicts, as a GitOps sync does).
func (c *Cluster) ApplyDeployment(ctx context.Context, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	d = d.DeepCopy()
	workloads.Default(d)
	for {
		cur, err := c.Store.Get(ctx, "Deployment", d.Namespace, d.Name)
		if errors.Is(err, store.ErrNotFound) {
			created, err := c.Store.Create(ctx, d)
			if err != nil {
				return nil, err
			}
			return created.(*appsv1.Deployment), nil
		}
		if err != nil {
			return nil, err
		}
		next := cur.(*appsv1.Deployment).DeepCopy()
		next.Spec = d.Spec
		next.Labels = d.Labels
		for k, v := range d.Annotations {
			if next.Annotations == nil {
				next.Annotations = map[string]string{}
			}
			next.Annotations[k] = v
		}
		updated, err := c.Store.Update(ctx, next)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return updated.(*appsv1.Deployment), nil
	}
}
