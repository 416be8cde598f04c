package service

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is everything the calculator can be told, all of it from the
// environment (a container-friendly service takes no flags and no files).
type Config struct {
	// Port is SERVER_PORT (default 8000). 0 asks the kernel for a free port;
	// the "started" log line and /info report the one it got.
	Port int
	// Workers is WORKER_COUNT (default 4): how many /calculate requests are
	// worked on at once; the rest wait for a free worker.
	Workers int
	// LogFormat is LOG_FORMAT: "json" (default) or "text".
	LogFormat string
	// ShutdownTimeout is SHUTDOWN_TIMEOUT (default 10s): how long in-flight
	// requests may take to finish after SIGTERM. A Go duration ("10s",
	// "1500ms") or a whole number of seconds ("10").
	ShutdownTimeout time.Duration
	// SIGTERM is SIGTERM_MODE (default drain): what a SIGTERM does.
	SIGTERM SIGTERMMode
}

// Bounds of the configuration; anything outside refuses to start.
const (
	maxWorkers         = 1024
	maxShutdownTimeout = time.Hour
)

// ConfigError names the environment variable that was wrong.
type ConfigError struct {
	Var, Value, Want string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s=%q: want %s", e.Var, e.Value, e.Want)
}

// LoadConfig reads the configuration from getenv (os.Getenv in Main).
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{Port: 8000, Workers: 4, LogFormat: "json", ShutdownTimeout: 10 * time.Second, SIGTERM: SIGTERMMode{Mode: TermDrain}}
	if v, ok := lookup(getenv, "SERVER_PORT"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			return c, &ConfigError{"SERVER_PORT", v, "a TCP port 1..65535 (or 0 for any free port)"}
		}
		c.Port = n
	}
	if v, ok := lookup(getenv, "WORKER_COUNT"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxWorkers {
			return c, &ConfigError{"WORKER_COUNT", v, fmt.Sprintf("a whole number 1..%d", maxWorkers)}
		}
		c.Workers = n
	}
	if v, ok := lookup(getenv, "LOG_FORMAT"); ok {
		f := strings.ToLower(v)
		if f != "json" && f != "text" {
			return c, &ConfigError{"LOG_FORMAT", v, `"json" or "text"`}
		}
		c.LogFormat = f
	}
	if v, ok := lookup(getenv, "SHUTDOWN_TIMEOUT"); ok {
		d, err := parseTimeout(v)
		if err != nil || d <= 0 || d > maxShutdownTimeout {
			return c, &ConfigError{"SHUTDOWN_TIMEOUT", v, `a duration above 0 and up to 1h, e.g. "10s" or "10"`}
		}
		c.ShutdownTimeout = d
	}
	if v, ok := lookup(getenv, "SIGTERM_MODE"); ok {
		m, err := ParseSIGTERMMode(v)
		if err != nil {
			return c, &ConfigError{"SIGTERM_MODE", v, strings.TrimPrefix(err.Error(), "want ")}
		}
		c.SIGTERM = m
	}
	return c, nil
}

// lookup treats a variable set to the empty string like an unset one, the
// way `docker run -e VAR=` users expect.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := strings.TrimSpace(getenv(name))
	return v, v != ""
}

func parseTimeout(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}
