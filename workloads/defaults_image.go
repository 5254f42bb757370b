package workloads

import (
	"regexp"
	"strings"
)

// imageRefRegexp is the grammar of an image reference
// (github.com/distribution/reference), which Kubernetes' image-name parser
// uses: [domain[:port]/]path[:tag][@digest]. Path components are lower
// case; the domain may not be.
var imageRefRegexp = func() *regexp.Regexp {
	const (
		alnum     = `[a-z0-9]+`
		separator = `(?:[._]|__|[-]+)`
		component = alnum + `(?:` + separator + alnum + `)*`
		domainCmp = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
		host      = `(?:` + domainCmp + `(?:\.` + domainCmp + `)*|\[[a-fA-F0-9:]+\])`
		domain    = host + `(?::[0-9]+)?`
		name      = `(?:` + domain + `/)?` + component + `(?:/` + component + `)*`
		tag       = `[\w][\w.-]{0,127}`
		digest    = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
	)
	return regexp.MustCompile(`^(` + name + `)(?::(` + tag + `))?(?:@(` + digest + `))?$`)
}()

// imageIDRegexp is a bare 64-hex image id, which a reference may not be.
var imageIDRegexp = regexp.MustCompile(`^[a-f0-9]{64}$`)

// imageTag returns the tag Kubernetes finds in an image reference: the
// written tag, "latest" when there is neither tag nor digest, and "" for a
// digest-only reference or one that does not parse (upper case in the path,
// an unknown digest algorithm, a bad length, ...).
func imageTag(image string) string {
	if image == "" || imageIDRegexp.MatchString(image) {
		return ""
	}
	m := imageRefRegexp.FindStringSubmatch(image)
	if m == nil {
		return ""
	}
	name, tag, digest := m[1], m[2], m[3]
	// The limit applies to the normalized name (docker.io/library/...).
	if len(normalizedImageName(name)) > 255 {
		return ""
	}
	if digest != "" && !validDigest(digest) {
		return ""
	}
	if tag == "" && digest == "" {
		return "latest"
	}
	return tag
}

// normalizedImageName adds Docker Hub's domain and "library/" the way
// docker does: the first component is a domain only if it has a dot or a
// colon, is "localhost", or has upper case.
func normalizedImageName(name string) string {
	first, rest, found := strings.Cut(name, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first) {
		return name
	}
	if !found {
		return "docker.io/library/" + name
	}
	return "docker.io/" + first + "/" + rest
}

// validDigest accepts the algorithms a Kubernetes build knows, each with
// its exact length of lower-case hex.
func validDigest(d string) bool {
	alg, hex, _ := strings.Cut(d, ":")
	size := 0
	switch alg {
	case "sha256":
		size = 64
	case "sha384":
		size = 96
	case "sha512":
		size = 128
	}
	if size == 0 || len(hex) != size {
		return false
	}
	return strings.Trim(hex, "0123456789abcdef") == ""
}
