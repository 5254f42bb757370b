// Package join assembles an agent that joins a berth server over its API
// (`berth agent --server URL --token-file F`), as nodes/static assembles
// the standalone one: it reads the node token (pinning the server's CA),
// registers the Node (refusing a name another live agent holds), waits
// for the server to give the node its pod subnet, starts this machine's
// runtime on that subnet, and runs the same node agent the server runs in
// process, against a watch cache over the API instead of the store.
//
// An agent that loses the server keeps its pods: the cache keeps what it
// holds while lists fail, writes are retried, and once the server answers
// again the node and its pods are synced at once.
package join
