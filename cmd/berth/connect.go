package main

import (
	"github.com/berth-io/berth/reconciler/api/client"
)

// connectServer builds the real API client from --server and
// --token-file, or the config SPEC.md says is read without them.
func connectServer(server, tokenFile string) (serverClient, error) {
	cfg, err := client.LoadConfig(server, tokenFile)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}
