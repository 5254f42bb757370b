// Package logs lays out, prunes and reads back the container log files a
// node writes, in kubelet's layout and the CRI log format:
//
//	<root>/<namespace>_<pod>_<uid>/<container>/<restartCount>.log
//
// One file per run of a container (the attempt is its restartCount); when a
// file passes its size cap the writer renames it to <file>.1 and starts
// afresh, so a run is <n>.log.1 (older) then <n>.log. Like kubelet, only
// the current and the previous run are kept (Prune).
//
// Each line of a file is "<RFC 3339 nano time> <stream> <tag> <text>",
// where tag is F for a full line and P for a piece of a longer one.
// The server's `berth logs` reads through Read; nodes/containerd writes.
package logs
