package lifecycle

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"glassbox/sandbox"
	"glassbox/sandbox/state"
)

// Spec is what a supervisor is told to run, written by Engine.Run into the
// sandbox's state directory (spec.json) before the supervisor starts. It
// outlives the supervisor: `glassbox restart` of an exited sandbox starts a
// new supervisor from the same spec. Its Config has passed Validate (in
// Engine.prepare): the supervisor starts it as it is.
type Spec struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Config is the sandbox's configuration, as the runtime takes it.
	Config      *sandbox.Config `json:"config"`
	Restart     Policy          `json:"restart"`
	StopTimeout time.Duration   `json:"stop_timeout"`
	Ports       []state.Port    `json:"ports,omitempty"`
	Health      *Healthcheck    `json:"health,omitempty"`
	// AutoRemove (--rm) removes the sandbox's record and log once it has
	// exited for good.
	AutoRemove bool `json:"auto_remove,omitempty"`
	// Log caps the workload's log (--log-opt).
	Log LogConfig `json:"log,omitempty"`
}

// Healthcheck is an image's HEALTHCHECK: a command run inside the sandbox
// (Cmd, HEALTHCHECK CMD, through the same path as glassbox exec: exit 0 is
// healthy) or an HTTP GET of Path on Port inside it (the built-in
// calculator's); Retries failures in a row make it unhealthy; failures
// during StartPeriod do not count.
type Healthcheck struct {
	Cmd         []string      `json:"cmd,omitempty"`
	Path        string        `json:"path,omitempty"`
	Port        int           `json:"port,omitempty"`
	Interval    time.Duration `json:"interval"`
	Timeout     time.Duration `json:"timeout"`
	Retries     int           `json:"retries"`
	StartPeriod time.Duration `json:"start_period"`
}

const specFile = "spec.json"

func (e *Engine) writeSpec(sp *Spec) error {
	data, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return fmt.Errorf("encode spec of %s: %w", sp.ID, err)
	}
	path := e.store.Path(sp.ID, specFile)
	if err := os.WriteFile(path+".tmp", data, 0o600); err != nil {
		return fmt.Errorf("write spec of %s: %w", sp.ID, err)
	}
	return os.Rename(path+".tmp", path)
}

func readSpec(store *state.Store, id string) (*Spec, error) {
	data, err := os.ReadFile(store.Path(id, specFile))
	if err != nil {
		return nil, fmt.Errorf("read spec of %s: %w", id, err)
	}
	var sp Spec
	if err := json.Unmarshal(data, &sp); err != nil {
		return nil, fmt.Errorf("decode spec of %s: %w", id, err)
	}
	if sp.Config == nil {
		return nil, fmt.Errorf("decode spec of %s: it has no configuration", id)
	}
	// The record's id and name are the configuration's (a spec written
	// before the name was generated has it only at the top).
	sp.Config.ID, sp.Config.Name = sp.ID, sp.Name
	return &sp, nil
}
