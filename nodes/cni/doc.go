// Package cni gives each pod its own network namespace on the node's bridge,
// through CNI's libcni and the standard plugins (bridge + host-local +
// loopback, portmap for hostPort), as kubelet's CRI runtimes do.
//
// Everything it keeps on disk lives under Config.StateDir: the netns bind
// mounts (StateDir/netns/<podID>), host-local's IP reservations
// (StateDir/ipam) and libcni's result cache (StateDir/cache). Nothing goes
// to /var/lib/cni or /run/netns, so several agents, and tests, can share a
// machine as long as each has its own StateDir, bridge name, network name
// and subnet.
//
// Linux only; Setup and Teardown need root (CAP_SYS_ADMIN and CAP_NET_ADMIN).
package cni
