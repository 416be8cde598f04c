package lifecycle

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"glassbox/sandbox"
	"glassbox/sandbox/network"
	"glassbox/sandbox/state"
)

func init() {
	startSandbox = startRuntime
	cleanupSandbox = sandbox.CleanupResources
	removeWritableLayer = sandbox.RemoveWritableLayer
}

// Run starts a detached sandbox: it checks the request (Request, prepare),
// reserves the name (the request's, or a generated adjective_noun), starts
// the sandbox's supervisor and returns once the workload runs, or with the
// start error and nothing left behind.
func (e *Engine) Run(req *Request) (*state.Sandbox, error) {
	// The supervisor starts up while the request is checked (prestart).
	sup := e.prestart()
	sp, err := e.prepare(req, true)
	if err != nil {
		sup.abandon()
		return nil, err
	}
	return e.launch(sp, sup)
}

// RunForeground runs a sandbox owned by this process, as `glassbox run`
// without -d does: it checks the request, binds the published ports (a port
// in use fails before the start), starts the sandbox with stdio as its
// standard streams, passes every signal from signals on to it, waits for the
// workload and removes everything. It returns how the workload ended (nil
// when it never started) and what went wrong, if anything.
func (e *Engine) RunForeground(req *Request, stdio sandbox.Stdio, signals <-chan os.Signal) (*state.Exit, error) {
	go sandbox.PrepareToStartProcesses() // while the request is checked
	sp, err := e.prepare(req, false)
	if err != nil {
		return nil, err
	}
	var ls []*net.TCPListener
	if len(sp.Ports) > 0 {
		if ls, err = network.Listen(sp.Ports); err != nil {
			return nil, err
		}
	}
	cfg := sp.Config
	cfg.Hooks = networkHooks(e.Roots, cfg.Network)
	if attach := cfg.Hooks.OnCreated; attach != nil && len(sp.Ports) > 0 {
		// The record says what this process publishes (its proxy carries
		// it), so that ps, top and inspect show the ports of a foreground
		// run as they do a detached one's.
		ports := make([]state.Port, len(sp.Ports))
		for i, p := range sp.Ports {
			p.Via = state.ViaProxy
			ports[i] = p
		}
		cfg.Hooks.OnCreated = func(sb *state.Sandbox) error {
			sb.Network.Ports = ports
			return attach(sb)
		}
	}
	c, err := sandbox.Start(cfg, stdio)
	if err != nil {
		for _, l := range ls {
			l.Close()
		}
		return nil, err
	}
	defer c.Destroy()
	if proxy := publish(ls, sp.Ports, c.State()); proxy != nil {
		defer proxy.Close()
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-signals:
				if sig, ok := s.(syscall.Signal); ok {
					c.Signal(sig)
				}
			case <-done:
				return
			}
		}
	}()
	exit, werr := c.Wait()
	return exit, errors.Join(werr, c.Destroy())
}

// publish forwards the bound host ports ls to the sandbox's address (the
// host's loopback for a sandbox on the host's network); nil when there are
// none.
func publish(ls []*net.TCPListener, ports []state.Port, sb *state.Sandbox) *network.Proxy {
	if len(ls) == 0 {
		return nil
	}
	target := netip.MustParseAddr("127.0.0.1")
	if ip, err := netip.ParseAddr(sb.Network.IP); err == nil {
		target = ip
	}
	return network.Forward(ls, ports, target)
}

// networkHooks attach a sandbox to the network in the start protocol
// (after its init exists in its own network namespace, before the workload
// runs) and detach it when it is destroyed. Only bridge mode needs them:
// the runtime does none and host itself. They are built once by whoever
// starts the sandbox (RunForeground, or the supervisor for all its starts).
func networkHooks(roots state.Roots, mode string) sandbox.Hooks {
	if mode != sandbox.NetworkBridge {
		return sandbox.Hooks{}
	}
	return sandbox.Hooks{
		OnCreated: func(sb *state.Sandbox) error {
			n, err := network.Attach(roots, sb.ID, sb.InitPID, network.Bridge)
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

// runtimeContainer is a *sandbox.Container as the supervisor uses it: its
// output is copied from pipes, or from its terminal, into the log.
type runtimeContainer struct {
	*sandbox.Container
	copied sync.WaitGroup
	// hold is what keeps a detached -i or -t workload's input open: the
	// write end of its stdin pipe, or its terminal's master side. Nothing
	// is written (glassbox has no attach); a shell waits for input as it
	// would under docker run -dit.
	hold *os.File
	tty  bool // hold is a terminal's master
}

// detachedTTYRows and detachedTTYCols size a detached workload's terminal.
const detachedTTYRows, detachedTTYCols = 24, 80

func startRuntime(cfg *sandbox.Config, stdout, stderr io.Writer) (container, error) {
	rc := &runtimeContainer{}
	if cfg.TTY {
		return startTerminal(rc, cfg, stdout)
	}
	var stdin *os.File
	if cfg.OpenStdin {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		defer r.Close()
		stdin, rc.hold = r, w
	}
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
	c, err := sandbox.Start(cfg, sandbox.Stdio{In: stdin, Out: outW, Err: errW})
	outW.Close()
	errW.Close()
	if err != nil {
		rc.release()
		return nil, err
	}
	rc.Container = c
	return rc, nil
}

// startTerminal starts a workload with a terminal: what it writes there
// goes to the log as stdout, as docker logs shows a -t container's output.
func startTerminal(rc *runtimeContainer, cfg *sandbox.Config, stdout io.Writer) (container, error) {
	stdio := sandbox.Stdio{Rows: detachedTTYRows, Cols: detachedTTYCols, Terminal: func(master *os.File) {
		rc.hold, rc.tty = master, true
		rc.copied.Add(1)
		go func() {
			defer rc.copied.Done()
			io.Copy(stdout, master)
		}()
	}}
	c, err := sandbox.Start(cfg, stdio)
	if err != nil {
		rc.release()
		return nil, err
	}
	rc.Container = c
	return rc, nil
}

func (c *runtimeContainer) release() {
	if c.hold != nil {
		c.hold.Close()
	}
}

// Wait waits for the workload, then for the last of its output. The end
// of the sandbox's PID 1 kills everything in its pid namespace, so the
// pipes reach their end once the kernel has done that and the supervisor
// has copied what was left in them, which takes a moment on a busy
// machine; the bound is for a straggler that holds a pipe all the same.
func (c *runtimeContainer) Wait() (*state.Exit, error) {
	exit, err := c.Container.Wait()
	if c.tty {
		// The rest of the terminal's output is in its buffer.
		c.hold.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	}
	done := make(chan struct{})
	go func() { c.copied.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	c.release()
	return exit, err
}

func (c *runtimeContainer) Signal(sig syscall.Signal) error { return c.Container.Signal(sig) }
