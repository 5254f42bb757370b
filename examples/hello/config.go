package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"
)

// config is everything the server can be told, by flag or by environment
// variable (a flag wins over its variable, so a pod's args override its env).
type config struct {
	listen            string
	version           string
	greeting          string
	readyAfter        time.Duration
	failLivenessAfter time.Duration
	exitAfter         time.Duration
	exitCode          int
	shutdownDelay     time.Duration
	cat               string
	fileRoot          string
}

// parseConfig reads args (without the program name) over the environment
// given by getenv.
func parseConfig(args []string, getenv func(string) string, errOut io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("hello", flag.ContinueOnError)
	fs.SetOutput(errOut)

	str := func(p *string, name, env, def, usage string) {
		if v := getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" (env "+env+")")
	}
	var envErr error
	dur := func(p *time.Duration, name, env, usage string) {
		var def time.Duration
		if v := getenv(env); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil && envErr == nil {
				envErr = fmt.Errorf("env %s=%q: want a duration such as 5s: %v", env, v, err)
			}
			def = d
		}
		fs.DurationVar(p, name, def, usage+" (env "+env+"; 0 means never)")
	}

	str(&c.listen, "listen", "LISTEN", ":8080", "address to listen on")
	str(&c.version, "version", "VERSION", "v1", "version reported on /")
	str(&c.greeting, "greeting", "GREETING", "", "greeting printed on / before the hostname")
	dur(&c.readyAfter, "ready-after", "READY_AFTER", "/readyz answers 503 until this long after start")
	dur(&c.failLivenessAfter, "fail-liveness-after", "FAIL_LIVENESS_AFTER", "/healthz answers 500 from this long after start")
	dur(&c.exitAfter, "exit-after", "EXIT_AFTER", "exit with --exit-code this long after start")
	dur(&c.shutdownDelay, "shutdown-delay", "SHUTDOWN_DELAY", "wait this long after SIGTERM before shutting down")
	exitCode := 0
	if v := getenv("EXIT_CODE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil && envErr == nil {
			envErr = fmt.Errorf("env EXIT_CODE=%q: want an integer", v)
		}
		exitCode = n
	}
	fs.IntVar(&c.exitCode, "exit-code", exitCode, "exit code used by --exit-after (env EXIT_CODE)")
	str(&c.cat, "cat", "CAT", "", "file served on /file when no ?path= is given")
	str(&c.fileRoot, "file-root", "FILE_ROOT", "/etc/hello", "directory under which /file?path= may read")

	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q: every option is a --flag", fs.Args())
	}
	return c, nil
}
