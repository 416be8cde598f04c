package lifecycle

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"glassbox/sandbox"
	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/image"
	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
)

func init() {
	startSandbox = startRuntime
	cleanupSandbox = sandbox.CleanupResources
}

// RunOptions are what a detached run adds to the sandbox's configuration.
type RunOptions struct {
	Restart     string        // --restart: no, on-failure[:N], always
	StopTimeout time.Duration // --stop-timeout; 0 means DefaultStopTimeout
	Ports       []state.Port  // -p, parsed (network.ParsePorts)
	// Network is --network: bridge (default), none or host.
	Network network.Mode
	// Health is the image's health check; nil for none.
	Health *Healthcheck
	// Remove (--rm) removes the sandbox, record and log, once it has exited
	// for good.
	Remove bool
}

// Run starts a detached sandbox: it reserves the name (cfg.Name, or a
// generated adjective_noun), starts the sandbox's supervisor and returns
// once the workload runs, or with the start error and nothing left behind.
// cfg must have passed Validate.
func (e *Engine) Run(cfg *sandbox.Config, opts RunOptions) (*state.Sandbox, error) {
	if _, err := ParsePolicy(opts.Restart); err != nil {
		return nil, err
	}
	if opts.StopTimeout < 0 {
		return nil, fmt.Errorf("--stop-timeout %s: cannot be negative", opts.StopTimeout)
	}
	if opts.Network == "" {
		opts.Network = network.DefaultMode
	}
	if len(opts.Ports) > 0 && opts.Network == network.None {
		return nil, fmt.Errorf("-p needs a network: a sandbox with --network none cannot publish ports")
	}
	// A port in use is an error before anything exists; the supervisor
	// binds them for good just before the sandbox starts.
	if err := network.CheckPorts(opts.Ports); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(toConfigJSON(cfg, opts.Network))
	if err != nil {
		return nil, fmt.Errorf("encode the sandbox's configuration: %w", err)
	}
	return e.launch(&Spec{
		ID: cfg.ID, Name: cfg.Name, Config: raw, Image: cfg.Image,
		Restart: opts.Restart, StopTimeout: opts.StopTimeout, Ports: opts.Ports, Health: opts.Health,
		AutoRemove: opts.Remove,
	})
}

// HealthFromImage is an image's HEALTHCHECK as the supervisor polls it:
// an HTTP check. A command check (HEALTHCHECK CMD …) needs `exec`, which
// glassbox does not have yet: the sandbox then has no health status.
func HealthFromImage(hc *image.Healthcheck) *Healthcheck {
	if !hc.IsHTTP() {
		return nil
	}
	return &Healthcheck{Path: hc.Path, Port: hc.Port, Interval: hc.Interval, Timeout: hc.Timeout, Retries: hc.Retries, StartPeriod: hc.StartPeriod}
}

// NetworkHooks attach a sandbox to the network in the start protocol
// (after its init exists in its own network namespace, before the workload
// runs) and detach it when it is destroyed. Only bridge mode needs them:
// the runtime does none and host itself.
func NetworkHooks(roots state.Roots, mode network.Mode) sandbox.Hooks {
	if mode != network.Bridge {
		return sandbox.Hooks{}
	}
	return sandbox.Hooks{
		OnCreated: func(sb *state.Sandbox) error {
			n, err := network.Attach(roots, sb.ID, sb.InitPID, mode)
			if err != nil {
				return err
			}
			n.Ports = sb.Network.Ports
			sb.Network = n
			return nil
		},
		OnDestroy: func(sb *state.Sandbox) error {
			return network.Detach(roots, sb.ID, sb.Network)
		},
	}
}

// RuntimeNetwork is the sandbox.Config.Network value for a mode: the
// runtime gives bridge sandboxes their own namespace and leaves the rest to
// NetworkHooks.
func RuntimeNetwork(mode network.Mode) string {
	switch mode {
	case network.Host:
		return sandbox.NetworkHost
	case network.None:
		return sandbox.NetworkNone
	}
	return sandbox.NetworkBridge
}

// configJSON is sandbox.Config as the supervisor receives it: the data,
// without the roots (the supervisor's own) and the hooks (functions,
// rebuilt from Network).
type configJSON struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	Hostname   string           `json:"hostname"`
	Image      string           `json:"image"`
	Layers     []state.Layer    `json:"layers"`
	Args       []string         `json:"args"`
	Env        []string         `json:"env"`
	WorkDir    string           `json:"work_dir"`
	Resources  cgroup.Resources `json:"resources"`
	NoInit     bool             `json:"no_init"`
	UserNS     bool             `json:"userns"`
	Network    network.Mode     `json:"network"`
	InitBinary string           `json:"init_binary,omitempty"`
}

func toConfigJSON(c *sandbox.Config, mode network.Mode) configJSON {
	return configJSON{
		ID: c.ID, Name: c.Name, Hostname: c.Hostname, Image: c.Image, Layers: c.Layers,
		Args: c.Args, Env: c.Env, WorkDir: c.WorkDir, Resources: c.Resources,
		NoInit: c.NoInit, UserNS: c.UserNS, Network: mode, InitBinary: c.InitBinary,
	}
}

func (j configJSON) config(roots state.Roots, id, name string) *sandbox.Config {
	return &sandbox.Config{
		Roots: roots, ID: id, Name: name, Hostname: j.Hostname, Image: j.Image, Layers: j.Layers,
		Args: j.Args, Env: j.Env, WorkDir: j.WorkDir, Resources: j.Resources,
		NoInit: j.NoInit, UserNS: j.UserNS, Network: RuntimeNetwork(j.Network),
		Hooks: NetworkHooks(roots, j.Network), InitBinary: j.InitBinary,
		// The state directory holds the supervisor's record, log and
		// control socket across starts: it goes with `rm`, not Destroy.
		KeepState: true,
	}
}

// runtimeContainer is a *sandbox.Container as the supervisor uses it: its
// output is copied from pipes into the log.
type runtimeContainer struct {
	*sandbox.Container
	copied sync.WaitGroup
}

func startRuntime(roots state.Roots, sp *Spec, stdout, stderr io.Writer) (container, error) {
	var j configJSON
	if err := json.Unmarshal(sp.Config, &j); err != nil {
		return nil, fmt.Errorf("decode the configuration of %s: %w", sp.ID, err)
	}
	cfg := j.config(roots, sp.ID, sp.Name)
	rc := &runtimeContainer{}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	for _, p := range []struct {
		r *os.File
		w io.Writer
	}{{outR, stdout}, {errR, stderr}} {
		rc.copied.Add(1)
		go func() {
			defer rc.copied.Done()
			defer p.r.Close()
			io.Copy(p.w, p.r)
		}()
	}
	c, err := sandbox.Start(cfg, sandbox.Stdio{Out: outW, Err: errW})
	outW.Close()
	errW.Close()
	if err != nil {
		return nil, err
	}
	rc.Container = c
	return rc, nil
}

// Wait waits for the workload, then (briefly) for the last of its output.
func (c *runtimeContainer) Wait() (*state.Exit, error) {
	exit, err := c.Container.Wait()
	done := make(chan struct{})
	go func() { c.copied.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second): // a straggler still holds the pipe
	}
	return exit, err
}

func (c *runtimeContainer) Signal(sig syscall.Signal) error { return c.Container.Signal(sig) }
