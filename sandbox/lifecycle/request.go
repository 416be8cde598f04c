package lifecycle

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"glassbox/sandbox"
	"glassbox/sandbox/image"
	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
)

// Request is one `glassbox run`, typed: every flag of the verb lands in one
// field here, already parsed (cmd/glassbox/run.go binds them), and
// Engine.Run or Engine.RunForeground checks the whole request once, before
// anything is created (prepare, below). The UI's "new sandbox" key builds a
// Request too.
//
// To add a run flag:
//  1. its meaning: a field of sandbox.Config that the runtime acts on, checked
//     in Config.ValidateInput — or, for what only the engine does around the
//     runtime (ports, restarts, removal), a field of Request checked in
//     Request.check;
//  2. the flag: one line in cmd/glassbox/run.go binding it to that field
//     (through a pflag.Value of runflags.go when the text needs parsing).
//
// Nothing else parses or checks it again.
type Request struct {
	// Config is the sandbox to run. Image names the image (the built-in
	// calculator when empty); Args, when empty, is the image's command; Env
	// (-e) is merged over the image's; WorkDir and User default to the image's;
	// Network is bridge when empty. The engine fills in Layers, Roots,
	// Hooks and KeepState.
	Config sandbox.Config
	// Ports are the published ports (-p). A ContainerPort of 0 is the
	// image's first exposed port; a HostPort of 0 is a free port, picked
	// while the request is prepared.
	Ports []state.Port
	// Restart is the restart policy (--restart): detached sandboxes only;
	// the zero Policy means none was asked for ("no").
	Restart Policy
	// StopTimeout is the grace period of a stop (--stop-timeout): detached
	// sandboxes only; 0 means DefaultStopTimeout.
	StopTimeout time.Duration
	// Remove (--rm) removes a detached sandbox, record and log, once it has
	// exited for good. A foreground run always removes everything.
	Remove bool
	// Log (--log-opt) caps a detached sandbox's log: the zero value is
	// docker's local driver's 20 MB × 5 files.
	Log LogConfig

	// Unexposed, when set, hears of each published port whose container
	// port the image's own command does not listen on (-p 9000:9000 on an
	// image that exposes 8000): docker allows it, and nothing will answer
	// there. It is told while the request is checked, from the image that
	// check looked up; never for a command of the user's own, which may
	// listen anywhere. Not a flag: the CLI warns through it.
	Unexposed func(p state.Port, image string, exposed []int)
}

// check refuses what the engine cannot do with the request, before the
// configuration itself is looked at.
func (r *Request) check(detached bool) error {
	if !detached {
		if r.Restart != (Policy{}) {
			return errors.New("--restart needs -d: only a detached sandbox has a supervisor to apply it")
		}
		if r.StopTimeout != 0 {
			return errors.New("--stop-timeout needs -d: only a detached sandbox has a supervisor to apply it")
		}
		if r.Log != (LogConfig{}) {
			return errors.New("--log-opt needs -d: a foreground run's output goes to the terminal, not to a log")
		}
	}
	if r.StopTimeout < 0 {
		return fmt.Errorf("--stop-timeout %s: cannot be negative", r.StopTimeout)
	}
	return nil
}

// prepare checks a request once, in this order — the engine's part, the
// user's input, the host, then the image (looked up last: building the
// built-in one writes) — and turns it into the spec a sandbox is started
// from. It creates nothing.
func (e *Engine) prepare(req *Request, detached bool) (*Spec, error) {
	if err := req.check(detached); err != nil {
		return nil, err
	}
	cfg := req.Config
	cfg.Roots = e.Roots
	// A sandbox's writable layer goes with its record, which is runtime
	// state: no host crash keeps it (sandbox.Config.ThrowawayUpper).
	cfg.ThrowawayUpper = true
	if cfg.Network == "" {
		cfg.Network = sandbox.NetworkBridge
	}
	if err := cfg.ValidateInput(); err != nil {
		return nil, err
	}
	if len(req.Ports) > 0 && cfg.Network == sandbox.NetworkNone {
		return nil, errors.New("-p needs a network: a sandbox with --network none cannot publish ports")
	}
	if err := sandbox.CheckHost(cfg.UserNS); err != nil {
		return nil, err
	}
	name := cfg.Image
	if name == "" {
		name = image.Builtin
	}
	store := image.NewStore(e.Roots)
	if e.Binary != "" {
		store.Self = e.Binary // the built-in image carries the glassbox the engine runs
	}
	im, err := store.Get(name)
	if err != nil {
		return nil, err
	}
	cfg.Image, cfg.Layers, cfg.Expose = im.Name, im.TopFirst(), im.Config.TCPPorts()
	if len(cfg.Args) == 0 {
		cfg.Args = im.Argv()
	}
	cfg.Env = sandbox.MergeEnv(im.Config.Env, cfg.Env)
	cfg.ImageEnv = im.Config.Env
	if cfg.WorkDir == "" {
		cfg.WorkDir = im.Config.WorkingDir
	}
	if cfg.User == "" {
		cfg.User = im.Config.User // -u wins over the image's USER, as in docker
	}
	if err := cfg.ValidateImage(); err != nil {
		return nil, err
	}
	ports, err := imagePorts(req.Ports, &cfg)
	if err != nil {
		return nil, err
	}
	if req.Unexposed != nil && len(req.Config.Args) == 0 && len(cfg.Expose) > 0 {
		for _, p := range ports {
			if !slices.Contains(cfg.Expose, p.ContainerPort) {
				req.Unexposed(p, cfg.Image, cfg.Expose)
			}
		}
	}
	if detached {
		// A port in use is an error before anything exists; the supervisor
		// binds them for good just before the sandbox starts. (A foreground
		// run binds them itself, and keeps them.)
		if err := network.CheckPorts(ports); err != nil {
			return nil, err
		}
	}
	return &Spec{
		ID: cfg.ID, Name: cfg.Name, Config: &cfg,
		Restart: req.Restart, StopTimeout: req.StopTimeout, Ports: ports,
		Health: healthFromImage(im.Config.Healthcheck, im.Config.Shell), AutoRemove: req.Remove, Log: req.Log,
	}, nil
}

// imagePorts fills in what a request left to the image and the host: the
// image's exposed port for a container port of 0, a free port on the host
// address for a host port of 0.
func imagePorts(ports []state.Port, cfg *sandbox.Config) ([]state.Port, error) {
	out := make([]state.Port, len(ports))
	for i, p := range ports {
		if p.ContainerPort == 0 {
			if len(cfg.Expose) == 0 {
				return nil, fmt.Errorf("image %s exposes no TCP port: name the container port to publish", cfg.Image)
			}
			p.ContainerPort = cfg.Expose[0]
		}
		if p.HostIP == "" {
			p.HostIP = state.DefaultHostIP
		}
		if p.Proto == "" {
			p.Proto = "tcp"
		}
		if p.HostPort == 0 {
			free, err := freePort(p.HostIP)
			if err != nil {
				return nil, err
			}
			p.HostPort = free
		}
		out[i] = p
	}
	return out, nil
}

func freePort(hostIP string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(hostIP, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", hostIP, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// healthFromImage is an image's HEALTHCHECK as the supervisor runs it: a
// command (CMD, or CMD-SHELL through the image's SHELL, /bin/sh -c by
// default) or the built-in calculator's HTTP GET; nil for none (NONE).
func healthFromImage(hc *image.Healthcheck, shell []string) *Healthcheck {
	if hc == nil {
		return nil
	}
	h := &Healthcheck{Interval: hc.Interval, Timeout: hc.Timeout, Retries: hc.Retries, StartPeriod: hc.StartPeriod}
	switch {
	case hc.IsHTTP():
		h.Path, h.Port = hc.Path, hc.Port
	case len(hc.Test) > 1 && hc.Test[0] == "CMD":
		h.Cmd = hc.Test[1:]
	case len(hc.Test) > 1 && hc.Test[0] == "CMD-SHELL":
		if len(shell) == 0 {
			shell = []string{"/bin/sh", "-c"}
		}
		h.Cmd = append(append([]string{}, shell...), hc.Test[1])
	default:
		return nil
	}
	return h
}
