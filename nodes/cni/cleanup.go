package cni

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
)

// Chains the portmap and firewall plugins share between every network on
// the machine. Cleanup removes them only once no network uses them.
var (
	hostportChains = []string{"CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK"}
	firewallChains = []string{"CNI-FORWARD", "CNI-ADMIN"}
)

// Cleanup removes everything the network put on the host: it tears down
// every pod still listed, deletes the bridge link, and deletes the
// iptables rules and chains of this network (those that name its bridge,
// its network name or an address in its subnet, and the per-pod CNI-*
// chains they lead to). The chains portmap and firewall share between
// networks (CNI-HOSTPORT-*, CNI-FORWARD, CNI-ADMIN) are removed only when
// nothing is left in them. For tests and `berth agent` uninstall; the
// StateDir itself is left to the caller.
func (n *Network) Cleanup(ctx context.Context) error {
	var errs []error
	ids, err := n.List()
	errs = append(errs, err)
	for _, id := range ids {
		errs = append(errs, n.Teardown(ctx, id, "", nil))
	}
	errs = append(errs, n.deleteBridge(ctx))
	if _, err := exec.LookPath("iptables-save"); err == nil {
		for _, table := range []string{"nat", "filter"} {
			errs = append(errs, cleanTable(ctx, table, n.ours))
		}
		errs = append(errs, pruneShared(ctx, "nat", "CNI-HOSTPORT-DNAT", hostportChains))
		errs = append(errs, pruneShared(ctx, "filter", "CNI-FORWARD", firewallChains))
	}
	return errors.Join(errs...)
}

func (n *Network) deleteBridge(ctx context.Context) error {
	if _, err := os.Stat("/sys/class/net/" + n.cfg.BridgeName); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if out, err := exec.CommandContext(ctx, "ip", "link", "delete", n.cfg.BridgeName).CombinedOutput(); err != nil {
		return fmt.Errorf("cni: delete bridge %s: %v: %s", n.cfg.BridgeName, err, bytes.TrimSpace(out))
	}
	return nil
}

// rule is one "-A CHAIN ..." line of iptables-save; num is its 1-based
// position in its chain, as `iptables -D CHAIN num` wants.
type rule struct {
	chain string
	num   int
	spec  string
}

// iptablesTable reads one table: its chains and its rules in order.
func iptablesTable(ctx context.Context, table string) (chains map[string]bool, rules []rule, err error) {
	out, err := exec.CommandContext(ctx, "iptables-save", "-t", table).Output()
	if err != nil {
		return nil, nil, fmt.Errorf("cni: iptables-save -t %s: %w", table, err)
	}
	chains = map[string]bool{}
	count := map[string]int{}
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, ":"):
			if f := strings.Fields(line[1:]); len(f) > 0 {
				chains[f[0]] = true
			}
		case strings.HasPrefix(line, "-A "):
			f := strings.SplitN(line[3:], " ", 2)
			spec := ""
			if len(f) == 2 {
				spec = f[1]
			}
			count[f[0]]++
			rules = append(rules, rule{chain: f[0], num: count[f[0]], spec: spec})
		}
	}
	return chains, rules, nil
}

// target returns the chain a rule jumps or goes to ("" if none).
func (r rule) target() string {
	f := strings.Fields(r.spec)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "-j" || f[i] == "-g" {
			return f[i+1]
		}
	}
	return ""
}

// ours reports whether a rule belongs to this network: it names the
// bridge as an interface, this network in a CNI comment, or an address
// inside the subnet.
func (n *Network) ours(r rule) bool {
	if strings.Contains(r.spec, `name: \"`+n.cfg.NetworkName+`\"`) {
		return true
	}
	_, subnet, _ := net.ParseCIDR(n.cfg.Subnet)
	f := strings.Fields(r.spec)
	for i, tok := range f {
		if (tok == "-i" || tok == "-o") && i+1 < len(f) && f[i+1] == n.cfg.BridgeName {
			return true
		}
		tok = strings.Trim(tok, `"`)
		if host, _, err := net.SplitHostPort(tok); err == nil {
			tok = host // --to-destination IP:port
		}
		if ip, _, err := net.ParseCIDR(tok); err == nil && subnet.Contains(ip) {
			return true
		}
		if ip := net.ParseIP(tok); ip != nil && subnet.Contains(ip) {
			return true
		}
	}
	return false
}

func isShared(chain string) bool {
	for _, c := range append(hostportChains, firewallChains...) {
		if c == chain {
			return true
		}
	}
	return false
}

// podRules matches the rules the bridge plugin made for one pod (its
// masquerade chain and the jump to it), by their comment.
func (n *Network) podRules(podID string) func(rule) bool {
	tag := `name: \"` + n.cfg.NetworkName + `\" id: \"` + podID + `\"`
	return func(r rule) bool { return strings.Contains(r.spec, tag) }
}

// cleanTable deletes the rules in table that match ours, and the private
// CNI-* chains that hold or receive them (with every jump into those
// chains).
func cleanTable(ctx context.Context, table string, ours func(rule) bool) error {
	chains, rules, err := iptablesTable(ctx, table)
	if err != nil {
		return err
	}
	private := map[string]bool{}
	for _, r := range rules {
		if !ours(r) {
			continue
		}
		for _, c := range []string{r.chain, r.target()} {
			if strings.HasPrefix(c, "CNI-") && !isShared(c) && chains[c] {
				private[c] = true
			}
		}
	}
	var errs []error
	// Delete from the last rule up so the numbers of the rest hold.
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		if private[r.chain] || !(ours(r) || private[r.target()]) {
			continue
		}
		errs = append(errs, iptables(ctx, "-t", table, "-D", r.chain, fmt.Sprint(r.num)))
	}
	for c := range private {
		errs = append(errs, iptables(ctx, "-t", table, "-F", c))
	}
	for c := range private {
		errs = append(errs, iptables(ctx, "-t", table, "-X", c))
	}
	return errors.Join(errs...)
}

// pruneShared removes the shared chains of a plugin, and the jumps into
// them, once its main chain has no rule left but jumps to the others.
func pruneShared(ctx context.Context, table, main string, shared []string) error {
	chains, rules, err := iptablesTable(ctx, table)
	if err != nil || !chains[main] {
		return err
	}
	isOne := map[string]bool{}
	for _, c := range shared {
		isOne[c] = true
	}
	for _, r := range rules {
		if r.chain == main && !isOne[r.target()] {
			return nil // still in use
		}
	}
	var errs []error
	for i := len(rules) - 1; i >= 0; i-- {
		if r := rules[i]; !isOne[r.chain] && isOne[r.target()] {
			errs = append(errs, iptables(ctx, "-t", table, "-D", r.chain, fmt.Sprint(r.num)))
		}
	}
	for _, c := range shared {
		if chains[c] {
			errs = append(errs, iptables(ctx, "-t", table, "-F", c))
		}
	}
	for _, c := range shared {
		if chains[c] {
			errs = append(errs, iptables(ctx, "-t", table, "-X", c))
		}
	}
	return errors.Join(errs...)
}

func iptables(ctx context.Context, args ...string) error {
	// -w waits for the xtables lock the plugins also take.
	out, err := exec.CommandContext(ctx, "iptables", append([]string{"-w"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cni: iptables %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
