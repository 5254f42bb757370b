package rollouts

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"
)

// ComputeHash returns the pod-template-hash of template, mixing in
// collisionCount when set (mirrors controller.ComputeHash).
//
// Upstream feeds FNV-32a a go-spew dump of the Go struct; berth feeds it the
// encoding/json form of the template instead, because spew is not a
// dependency berth may take. JSON is stable across runs, processes and
// platforms, sorts map keys (so label and annotation order never matter), and
// omits unset optional fields, so the hash of a template does not move when
// k8s.io/api grows a field the template does not use. The hash therefore
// differs from the one kube-controller-manager would compute for the same
// template, which only matters for names: FindNewReplicaSet compares
// templates, not hashes, so ReplicaSets created by Kubernetes are still
// adopted. Like upstream, collisionCount is appended as 8 little-endian bytes
// (the uint32 value, then 4 zero bytes), the 32-bit sum is written in decimal
// and each digit is mapped onto the alphabet "bcdfghjklmnpqrstvwxz2456789"
// (rand.SafeEncodeString), giving a label-safe value of up to 10 characters.
//
// Callers pass the Deployment's template, which carries no pod-template-hash
// label; the label is hashed like any other when present.
func ComputeHash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	b, err := json.Marshal(template)
	if err != nil {
		// Unreachable for k8s.io/api types; hash the error so the result stays
		// deterministic rather than panicking in a controller.
		b = []byte(err.Error())
	}
	h.Write(b)
	if collisionCount != nil {
		var buf [8]byte
		binary.LittleEndian.PutUint32(buf[:], uint32(*collisionCount))
		h.Write(buf[:])
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}
