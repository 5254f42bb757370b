package store

import "k8s.io/utils/clock"

// memUIDPrefix makes the memory store's uids look like UUIDs; the last
// group is the creating resourceVersion, so a run's uids are reproducible.
const memUIDPrefix = "00000000-0000-4000-8000-"

// NewMemory returns an in-memory store for tests and the simulator. It is
// deterministic: uids follow the resourceVersions and generateName
// suffixes come from a fixed seed.
func NewMemory(clk clock.PassiveClock) Store {
	return NewMemoryWithOptions(clk, Options{})
}

// NewMemoryWithOptions is NewMemory with tuning (LockTimeout is ignored).
func NewMemoryWithOptions(clk clock.PassiveClock, opts Options) Store {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	return newEngine(clk, opts, nil, memUIDPrefix, 0)
}
