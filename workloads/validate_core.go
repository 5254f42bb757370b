package workloads

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxDataBytes is the largest a ConfigMap's or Secret's data may be (1 MiB).
const maxDataBytes = 1 << 20

// namespaceObject checks a Namespace: its name is a DNS label.
func (c *checks) namespaceObject(ns *corev1.Namespace) {
	c.objectMeta(&ns.ObjectMeta, labelName)
}

// configMap checks a ConfigMap: keys are file-name-like, not repeated in
// binaryData, and the whole fits in etcd's limit.
func (c *checks) configMap(cm *corev1.ConfigMap) {
	c.objectMeta(&cm.ObjectMeta, subdomainName)
	data, binary := field.NewPath("data"), field.NewPath("binaryData")
	size := 0
	for _, k := range keysInOrder(cm.Data) {
		c.invalidAll(data.Key(k), RuleInvalid, k, validation.IsConfigMapKey(k))
		if _, dup := cm.BinaryData[k]; dup {
			c.invalid(data.Key(k), RuleUniqueName, k, "duplicate of key present in binaryData")
		}
		size += len(cm.Data[k])
	}
	for _, k := range keysInOrder(cm.BinaryData) {
		c.invalidAll(binary.Key(k), RuleInvalid, k, validation.IsConfigMapKey(k))
		size += len(cm.BinaryData[k])
	}
	if size > maxDataBytes {
		c.add(data, RuleInvalid, field.TooLong(data, "", maxDataBytes))
	}
}

// secret checks a Secret: keys, size, and the keys its type requires.
// stringData is merged into data by the API server, so both count.
func (c *checks) secret(s *corev1.Secret) {
	c.objectMeta(&s.ObjectMeta, subdomainName)
	data, str := field.NewPath("data"), field.NewPath("stringData")
	size := 0
	for _, k := range keysInOrder(s.Data) {
		c.invalidAll(data.Key(k), RuleInvalid, k, validation.IsConfigMapKey(k))
		size += len(s.Data[k])
	}
	for _, k := range keysInOrder(s.StringData) {
		c.invalidAll(str.Key(k), RuleInvalid, k, validation.IsConfigMapKey(k))
		if _, dup := s.Data[k]; !dup {
			size += len(s.StringData[k])
		}
	}
	if size > maxDataBytes {
		c.add(data, RuleInvalid, field.TooLong(data, "", maxDataBytes))
	}
	c.secretType(s, data)
}

// secretValue returns the value of a key from data or stringData
// (stringData wins, as on the server).
func secretValue(s *corev1.Secret, key string) ([]byte, bool) {
	if v, ok := s.StringData[key]; ok {
		return []byte(v), true
	}
	v, ok := s.Data[key]
	return v, ok
}

// secretType checks the shape the built-in secret types require.
func (c *checks) secretType(s *corev1.Secret, data *field.Path) {
	has := func(key string) bool { _, ok := secretValue(s, key); return ok }
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			c.required(metadataPath.Child("annotations").Key(corev1.ServiceAccountNameKey), RuleRequired, "")
		}
	case corev1.SecretTypeDockercfg:
		c.secretJSON(s, corev1.DockerConfigKey, data)
	case corev1.SecretTypeDockerConfigJson:
		c.secretJSON(s, corev1.DockerConfigJsonKey, data)
	case corev1.SecretTypeBasicAuth:
		if !has(corev1.BasicAuthUsernameKey) && !has(corev1.BasicAuthPasswordKey) {
			c.required(data.Key(corev1.BasicAuthUsernameKey), RuleRequired, "")
			c.required(data.Key(corev1.BasicAuthPasswordKey), RuleRequired, "")
		}
	case corev1.SecretTypeSSHAuth:
		if v, _ := secretValue(s, corev1.SSHAuthPrivateKey); len(v) == 0 {
			c.required(data.Key(corev1.SSHAuthPrivateKey), RuleRequired, "")
		}
	case corev1.SecretTypeTLS:
		for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
			if !has(k) {
				c.required(data.Key(k), RuleRequired, "")
			}
		}
	}
}

// secretJSON checks the key a docker config secret must hold, and that it
// is JSON.
func (c *checks) secretJSON(s *corev1.Secret, key string, data *field.Path) {
	v, ok := secretValue(s, key)
	if !ok {
		c.required(data.Key(key), RuleRequired, "a "+string(s.Type)+" Secret must hold the key "+key)
		return
	}
	if err := json.Unmarshal(v, &map[string]any{}); err != nil {
		c.invalid(data.Key(key), RuleInvalid, "<secret contents redacted>", err.Error())
	}
}

// service checks a Service.
func (c *checks) service(svc *corev1.Service) {
	c.objectMeta(&svc.ObjectMeta, dns1035Name)
	s := &svc.Spec
	headless := s.ClusterIP == corev1.ClusterIPNone
	switch s.Type {
	case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		if headless && (s.Type == corev1.ServiceTypeNodePort || s.Type == corev1.ServiceTypeLoadBalancer) {
			c.invalid(specPath.Child("clusterIP"), RuleInvalid, s.ClusterIP, "may not be set to 'None' for "+string(s.Type)+" services")
		}
	case corev1.ServiceTypeExternalName:
		c.externalName(s)
	default:
		unsupportedValue(c, specPath.Child("type"), RuleEnum, s.Type,
			corev1.ServiceTypeClusterIP, corev1.ServiceTypeExternalName, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort)
	}
	if len(s.Ports) == 0 && !headless && s.Type != corev1.ServiceTypeExternalName {
		c.required(specPath.Child("ports"), RuleRequired, "")
	}
	c.servicePorts(s)
	c.labelMap(s.Selector, specPath.Child("selector"), RuleSelector)
	c.clusterIPs(s)
	c.serviceEnums(s)
}

// externalName checks an ExternalName service: a DNS name and no cluster IP.
func (c *checks) externalName(s *corev1.ServiceSpec) {
	p := specPath.Child("externalName")
	if cname := strings.TrimSuffix(s.ExternalName, "."); cname == "" {
		c.required(p, RuleRequired, "")
	} else {
		c.dnsSubdomain(cname, p, RuleName)
	}
	if s.ClusterIP != "" {
		c.forbidden(specPath.Child("clusterIP"), RuleInvalid, "may not be set for ExternalName services")
	}
}

// servicePorts checks spec.ports: numbers, names (required when there are
// several, unique), protocols, target ports, node ports.
func (c *checks) servicePorts(s *corev1.ServiceSpec) {
	path := specPath.Child("ports")
	names := map[string]bool{}
	ports, nodePorts := map[string]bool{}, map[string]bool{}
	for i, sp := range s.Ports {
		p := path.Index(i)
		switch {
		case sp.Name == "" && len(s.Ports) > 1:
			c.required(p.Child("name"), RulePortName, "a Service with several ports must name each one")
		case sp.Name == "":
		case names[sp.Name]:
			c.duplicate(p.Child("name"), RulePortName, sp.Name)
		default:
			c.dnsLabel(sp.Name, p.Child("name"), RulePortName)
			names[sp.Name] = true
		}
		if sp.Port == 0 {
			c.required(p.Child("port"), RuleRequired, "")
		} else {
			c.invalidAll(p.Child("port"), RulePort, sp.Port, validation.IsValidPortNum(int(sp.Port)))
		}
		c.protocol(sp.Protocol, p.Child("protocol"))
		// a zero targetPort is defaulted to port
		if sp.TargetPort.Type == intstr.String || sp.TargetPort.IntVal != 0 {
			c.portNumOrName(sp.TargetPort, p.Child("targetPort"), nil)
		}
		if sp.AppProtocol != nil {
			c.labelKey(*sp.AppProtocol, p.Child("appProtocol"), RuleInvalid)
		}
		proto := string(sp.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		if key := proto + "/" + itoa(sp.Port); ports[key] {
			c.duplicate(p, RulePort, key)
		} else {
			ports[key] = true
		}
		c.nodePort(sp, s.Type, p.Child("nodePort"), proto, nodePorts)
	}
}

// nodePort checks a port's nodePort: only for NodePort and LoadBalancer
// services, in range, not used twice.
func (c *checks) nodePort(sp corev1.ServicePort, typ corev1.ServiceType, path *field.Path, proto string, seen map[string]bool) {
	if sp.NodePort == 0 {
		return
	}
	if typ == "" || typ == corev1.ServiceTypeClusterIP {
		c.forbidden(path, RulePort, "may not be used when `type` is 'ClusterIP'")
		return
	}
	c.invalidAll(path, RulePort, sp.NodePort, validation.IsValidPortNum(int(sp.NodePort)))
	if key := proto + "/" + itoa(sp.NodePort); seen[key] {
		c.duplicate(path, RulePort, sp.NodePort)
	} else {
		seen[key] = true
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// clusterIPs checks spec.clusterIP and spec.clusterIPs: "None" or IPs.
func (c *checks) clusterIPs(s *corev1.ServiceSpec) {
	check := func(ip string, path *field.Path) {
		if ip != "" && ip != corev1.ClusterIPNone && net.ParseIP(ip) == nil {
			c.invalid(path, RuleInvalid, ip, "must be empty, 'None', or a valid IP address")
		}
	}
	check(s.ClusterIP, specPath.Child("clusterIP"))
	for i, ip := range s.ClusterIPs {
		check(ip, specPath.Child("clusterIPs").Index(i))
	}
	for i, ip := range s.ExternalIPs {
		if net.ParseIP(ip) == nil {
			c.invalid(specPath.Child("externalIPs").Index(i), RuleInvalid, ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
		}
	}
}

// serviceEnums checks the enumerated fields of a Service spec; empty
// values are left to Default.
func (c *checks) serviceEnums(s *corev1.ServiceSpec) {
	switch s.SessionAffinity {
	case "", corev1.ServiceAffinityNone, corev1.ServiceAffinityClientIP:
	default:
		unsupportedValue(c, specPath.Child("sessionAffinity"), RuleEnum, s.SessionAffinity,
			corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone)
	}
	external := s.Type == corev1.ServiceTypeNodePort || s.Type == corev1.ServiceTypeLoadBalancer
	switch p := s.ExternalTrafficPolicy; {
	case p == "":
	case !external:
		c.invalid(specPath.Child("externalTrafficPolicy"), RuleInvalid, p, "may only be set for externally-accessible services")
	case p != corev1.ServiceExternalTrafficPolicyCluster && p != corev1.ServiceExternalTrafficPolicyLocal:
		unsupportedValue(c, specPath.Child("externalTrafficPolicy"), RuleEnum, p,
			corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal)
	}
	if p := s.InternalTrafficPolicy; p != nil && *p != corev1.ServiceInternalTrafficPolicyCluster && *p != corev1.ServiceInternalTrafficPolicyLocal {
		unsupportedValue(c, specPath.Child("internalTrafficPolicy"), RuleEnum, *p,
			corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal)
	}
}
