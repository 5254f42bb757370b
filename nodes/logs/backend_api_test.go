package logs_test

import (
	"github.com/berth-io/berth/nodes/logs"
	"github.com/berth-io/berth/reconciler/api"
)

// Backend is the API server's Logs backend.
var _ api.Logs = (*logs.Backend)(nil)
