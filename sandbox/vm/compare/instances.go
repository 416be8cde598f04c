package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox"
	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/image"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/state"
	"glassbox/sandbox/vm"
)

// How long an instance may take to answer /health. Booting under
// emulation on a busy machine takes seconds; a sandbox, milliseconds.
const (
	vmHealthWait      = 3 * time.Minute
	sandboxHealthWait = time.Minute
)

// imagePort is the port the calculator listens on inside.
func (r *runner) imagePort() int {
	if hc := r.image.Config.Healthcheck; hc != nil && hc.Port > 0 {
		return hc.Port
	}
	if ports := r.image.Config.TCPPorts(); len(ports) > 0 {
		return ports[0]
	}
	return 8000
}

// startVM boots one machine and waits for its /health; it returns the
// machine (recorded for clean-up), its host port and the time from
// starting qemu to the first healthy answer.
func (r *runner) startVM(ctx context.Context, name string) (*vm.Machine, int, time.Duration, error) {
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, 0, 0, err
		}
		m, err := vm.Start(vm.Options{
			Qemu: r.qemu, Name: name, Kernel: r.kernel, Initramfs: r.initrd, Accel: r.accel,
			MemoryMB: r.opts.MemoryMB, CPUs: r.opts.CPUs, HostPort: port, GuestPort: r.imagePort(),
		})
		if err != nil {
			return nil, 0, 0, err
		}
		r.mu.Lock()
		r.machines = append(r.machines, m)
		r.mu.Unlock()
		wctx, cancel := context.WithTimeout(ctx, vmHealthWait)
		err = waitHealthy(wctx, port, m.Done())
		cancel()
		took := time.Since(m.Started())
		switch {
		case err == nil:
			return m, port, took, nil
		case errors.Is(err, errGone) && attempt == 0 && strings.Contains(m.Console(), "host forwarding"):
			r.stopVM(m) // the free port was taken meanwhile: once more with another
			continue
		case errors.Is(err, errGone):
			return nil, 0, 0, m.ExitError()
		case ctx.Err() != nil:
			return nil, 0, 0, ctx.Err()
		}
		return nil, 0, 0, fmt.Errorf("%s did not answer /health within %s; its console:\n%s", m.Name, vmHealthWait, m.Console())
	}
}

func (r *runner) stopVM(m *vm.Machine) {
	m.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.machines = slices.DeleteFunc(r.machines, func(x *vm.Machine) bool { return x == m })
}

// stopVMs stops every machine this run has running.
func (r *runner) stopVMs() {
	r.mu.Lock()
	ms := r.machines
	r.machines = nil
	r.mu.Unlock()
	for _, m := range ms {
		m.Stop()
	}
}

// startSandbox starts one calculator sandbox and waits for its /health
// through the published port.
func (r *runner) startSandbox(ctx context.Context, name string) (*state.Sandbox, int, time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return nil, 0, 0, err
	}
	t := time.Now()
	quota, period := cgroup.CPUs(float64(r.opts.CPUs))
	sb, err := r.eng.Run(&lifecycle.Request{
		Config: sandbox.Config{Name: name, Image: image.Builtin,
			Resources: cgroup.Resources{MemoryBytes: int64(r.opts.MemoryMB) << 20, CPUQuotaUS: quota, CPUPeriodUS: period}},
		Ports: []state.Port{{HostIP: "127.0.0.1", HostPort: port}}, // ContainerPort 0: the image's
	})
	if err != nil {
		return nil, 0, 0, err
	}
	r.sandboxes = append(r.sandboxes, sb.ID)
	wctx, cancel := context.WithTimeout(ctx, sandboxHealthWait)
	defer cancel()
	if err := waitHealthy(wctx, port, nil); err != nil {
		if ctx.Err() != nil {
			return nil, 0, 0, ctx.Err()
		}
		return nil, 0, 0, fmt.Errorf("sandbox %s did not answer /health within %s: %w", sb.Name, sandboxHealthWait, err)
	}
	return sb, port, time.Since(t), nil
}

func (r *runner) removeSandbox(id string) error {
	r.sandboxes = slices.DeleteFunc(r.sandboxes, func(x string) bool { return x == id })
	return r.removeRecord(id)
}

// removeRecord kills and removes a sandbox (rm -f); one already gone is fine.
func (r *runner) removeRecord(id string) error {
	if err := r.eng.Remove(id, true); err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	return nil
}

// startRounds starts the VM and the sandbox Rounds times each,
// interleaved, and keeps the last of each running for the other figures.
func (r *runner) startRounds(ctx context.Context) (vmPort, sbPort int, err error) {
	var vmTimes, sbTimes []float64
	n := r.opts.Rounds
	for i := 1; i <= n; i++ {
		var m *vm.Machine
		var took time.Duration
		if err := r.step(fmt.Sprintf("boot the VM and wait for /health (%d of %d)", i, n), func() (string, error) {
			var err error
			m, vmPort, took, err = r.startVM(ctx, fmt.Sprintf("%d-%d", os.Getpid(), i))
			if err != nil {
				return "", err
			}
			return "healthy after " + seconds(took), nil
		}); err != nil {
			return 0, 0, err
		}
		vmTimes = append(vmTimes, took.Seconds())
		if i < n {
			r.stopVM(m)
		}

		var sb *state.Sandbox
		if err := r.step(fmt.Sprintf("start the sandbox and wait for /health (%d of %d)", i, n), func() (string, error) {
			var err error
			sb, sbPort, took, err = r.startSandbox(ctx, r.prefix+strconv.Itoa(i))
			if err != nil {
				return "", err
			}
			return "healthy after " + seconds(took), nil
		}); err != nil {
			return 0, 0, err
		}
		sbTimes = append(sbTimes, took.Seconds())
		if i < n {
			if err := r.removeSandbox(sb.ID); err != nil {
				return 0, 0, err
			}
		}
	}
	r.set(state.Figure{Row: state.RowStartToHealth, Side: state.SideVM, Value: median(vmTimes), Unit: "s", Samples: vmTimes,
		Source: fmt.Sprintf("median of %d: from starting qemu to the first 200 of GET /health through its hostfwd port", n)})
	r.set(state.Figure{Row: state.RowStartToHealth, Side: state.SideSandbox, Value: median(sbTimes), Unit: "s", Samples: sbTimes,
		Source: fmt.Sprintf("median of %d: from the engine's Run (what glassbox run -d does) to the first 200 of GET /health through the published port", n)})
	return vmPort, sbPort, nil
}

func seconds(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}

// startHostCalculator runs the image's own calculator file as a plain
// process on the host: the reference for memory and throughput.
func (r *runner) startHostCalculator() (string, error) {
	bin, err := r.calculatorFile()
	if err != nil {
		return "", err
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(bin)
	cmd.Args[0] = "calculator" // glassbox is a multi-call binary
	cmd.Env = append(os.Environ(), r.image.Config.Env...)
	cmd.Env = append(cmd.Env, "SERVER_PORT="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cpus, err := startPinned(cmd, r.opts.CPUs)
	if cmd.Process != nil {
		r.hostCalc = cmd // started: clean-up stops it, whatever came after
	}
	if err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}
	r.hostPort = port
	ctx, cancel := context.WithTimeout(context.Background(), sandboxHealthWait)
	defer cancel()
	if err := waitHealthy(ctx, port, nil); err != nil {
		return "", fmt.Errorf("the calculator on the host (%s) did not answer /health: %w", bin, err)
	}
	return fmt.Sprintf("port %d, on CPU %s", port, cpus), nil
}

// startPinned starts cmd on the first n CPUs this process may use, the
// budget the VM (-smp) and the sandbox (--cpus) get: a child inherits the
// CPU affinity of the thread that forks it, so the forking thread is
// pinned for the moment of the start.
func startPinned(cmd *exec.Cmd, n int) (string, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var all, pin unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		return "", fmt.Errorf("sched_getaffinity: %w", err)
	}
	var picked []string
	for c := 0; c < 1024 && len(picked) < n; c++ {
		if all.IsSet(c) {
			pin.Set(c)
			picked = append(picked, strconv.Itoa(c))
		}
	}
	if err := unix.SchedSetaffinity(0, &pin); err != nil {
		return "", fmt.Errorf("sched_setaffinity: %w", err)
	}
	err := cmd.Start()
	if rerr := unix.SchedSetaffinity(0, &all); rerr != nil && err == nil {
		err = fmt.Errorf("restore sched_setaffinity: %w", rerr)
	}
	return strings.Join(picked, ","), err
}
