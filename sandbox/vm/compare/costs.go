package compare

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"glassbox/sandbox/state"
	"glassbox/sandbox/vm"
)

// settle is how long instances idle before their memory is read: what a
// start-up allocated and freed has been returned, what stays is the cost.
const settle = 500 * time.Millisecond

func (r *runner) measureMemory() error {
	return r.sizedStep("read each one's memory on the host", func() (string, []state.FigurePart, error) {
		time.Sleep(settle)
		m := r.machines[len(r.machines)-1]
		rss, src, err := m.RSS()
		if err != nil {
			return "", nil, err
		}
		r.set(state.Figure{Row: state.RowMemory, Side: state.SideVM, Value: float64(rss), Unit: "bytes",
			Source: "qemu's resident memory, " + src + " (guest RAM touched, the emulator, its translated code)"})

		sb, err := r.lastSandbox()
		if err != nil {
			return "", nil, err
		}
		usage, parts, src, err := cgroupMemory(sb)
		if err != nil {
			return "", nil, err
		}
		f := state.Figure{Row: state.RowMemory, Side: state.SideSandbox, Value: float64(usage), Unit: "bytes", Parts: parts,
			Source: "the sandbox's cgroup, " + src}
		if sup, _, err := vm.ProcessRSS(sb.SupervisorPID); err == nil {
			f.Beside = []state.FigurePart{{Name: "its supervisor process (RSS)", Value: float64(sup)}}
		}
		r.set(f)

		hostRSS, src, err := vm.ProcessRSS(r.hostCalc.Process.Pid)
		if err != nil {
			return "", nil, err
		}
		r.set(state.Figure{Row: state.RowMemory, Side: state.SideHost, Value: float64(hostRSS), Unit: "bytes",
			Source: "the calculator as a plain process on the host, " + src})
		return "", []state.FigurePart{{Name: "VM", Value: float64(rss)}, {Name: "sandbox", Value: float64(usage)}}, nil
	})
}

// measureThroughput loads each one's /health for the same time, one after
// the other: the host first, then the sandbox, then the VM.
func (r *runner) measureThroughput(ctx context.Context, ports map[state.CompareSide]int) error {
	rates := map[state.CompareSide]float64{}
	for _, s := range []state.CompareSide{state.SideHost, state.SideSandbox, state.SideVM} {
		if err := r.step(fmt.Sprintf("load the %s's /health for %s", sideWord(s), r.opts.Load), func() (string, error) {
			rate, err := load(ctx, ports[s], r.opts.Load)
			if err != nil {
				return "", err
			}
			rates[s] = rate
			return fmt.Sprintf("%.0f requests/s", rate), nil
		}); err != nil {
			return err
		}
	}
	src := fmt.Sprintf("GET /health over %d keep-alive connections for %s, counted by glassbox on the host", loadConns, r.opts.Load)
	for _, s := range []state.CompareSide{state.SideVM, state.SideSandbox, state.SideHost} {
		r.set(state.Figure{Row: state.RowThroughput, Side: s, Value: rates[s], Unit: "req/s", Relative: rates[s] / rates[state.SideHost], Source: src})
	}
	return nil
}

// setDensity divides the memory the kernel says is available by each
// one's measured memory.
func (r *runner) setDensity() error {
	avail, err := memAvailable()
	if err != nil {
		return err
	}
	r.set(state.Figure{Row: state.RowDensity, Side: state.SideHost, Value: float64(avail), Unit: "bytes", Source: "/proc/meminfo MemAvailable"})
	for _, s := range []state.CompareSide{state.SideVM, state.SideSandbox} {
		mem, _ := r.c.Get(s, state.RowMemory)
		n := 0.0
		if mem.Value > 0 {
			n = float64(int64(float64(avail) / mem.Value))
		}
		r.set(state.Figure{Row: state.RowDensity, Side: s, Value: n, Unit: "count",
			Source: "/proc/meminfo MemAvailable ÷ the memory row (memory only: CPU, ports and the kernel's own limits come first in practice)"})
	}
	return nil
}

// startMany starts --vms VMs and --sandboxes sandboxes at once, for real,
// checks that each answers /health, reads what they hold together, and
// removes them.
func (r *runner) startMany(ctx context.Context) error {
	if r.opts.VMs > 0 {
		if err := r.manyVMs(ctx, r.opts.VMs); err != nil {
			return err
		}
	}
	if r.opts.Sandboxes > 0 {
		if err := r.manySandboxes(ctx, r.opts.Sandboxes); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) manyVMs(ctx context.Context, n int) error {
	// The rounds' machine stays out of the count.
	r.stopVMs()
	var total int64
	t := time.Now()
	err := r.sizedStep(fmt.Sprintf("boot %d VMs at once and wait for each one's /health", n), func() (string, []state.FigurePart, error) {
		type result struct {
			m   *vm.Machine
			err error
		}
		results := make(chan result, n)
		for i := 1; i <= n; i++ {
			go func() {
				m, _, _, err := r.startVM(ctx, fmt.Sprintf("%d-many-%d", os.Getpid(), i))
				results <- result{m, err}
			}()
		}
		var errs []error
		for range n {
			res := <-results
			if res.err != nil {
				errs = append(errs, res.err)
				continue
			}
			rss, _, err := res.m.RSS()
			if err != nil {
				errs = append(errs, err)
			}
			total += rss
		}
		if len(errs) > 0 {
			return "", nil, errs[0]
		}
		return fmt.Sprintf("%d healthy", n), []state.FigurePart{{Name: "together", Value: float64(total)}}, nil
	})
	took := time.Since(t)
	r.stopVMs()
	if err != nil {
		return err
	}
	r.set(state.Figure{Row: state.RowStarted, Side: state.SideVM, Value: float64(n), Unit: "count",
		Parts:  []state.FigurePart{{Name: "memory together", Value: float64(total)}, {Name: "seconds until all answered", Value: took.Seconds()}},
		Source: "qemu processes started at once; each one's /proc/PID/status VmRSS once all answered /health"})
	return nil
}

func (r *runner) manySandboxes(ctx context.Context, n int) error {
	var total, supervisors int64
	t := time.Now()
	var ids []string
	err := r.sizedStep(fmt.Sprintf("start %d sandboxes and wait for each one's /health", n), func() (string, []state.FigurePart, error) {
		for i := 1; i <= n; i++ {
			if ctx.Err() != nil {
				return "", nil, ctx.Err()
			}
			sb, _, _, err := r.startSandbox(ctx, fmt.Sprintf("%smany-%d", r.prefix, i))
			if err != nil {
				return "", nil, fmt.Errorf("sandbox %d of %d: %w", i, n, err)
			}
			ids = append(ids, sb.ID)
			if i%10 == 0 && i < n {
				r.emit(state.CompareEvent{Step: fmt.Sprintf("start %d sandboxes and wait for each one's /health", n), Note: fmt.Sprintf("%d of %d healthy", i, n)})
			}
		}
		all, err := r.eng.List(true)
		if err != nil {
			return "", nil, err
		}
		for _, sb := range all {
			if !slices.Contains(ids, sb.ID) {
				continue
			}
			usage, _, _, err := cgroupMemory(sb)
			if err != nil {
				return "", nil, err
			}
			total += usage
			if rss, _, err := vm.ProcessRSS(sb.SupervisorPID); err == nil {
				supervisors += rss
			}
		}
		return fmt.Sprintf("%d healthy", n), []state.FigurePart{{Name: "together", Value: float64(total)}}, nil
	})
	took := time.Since(t)
	if rerr := r.step(fmt.Sprintf("remove the %d sandboxes", len(ids)), func() (string, error) {
		for _, id := range ids {
			if err := r.removeSandbox(id); err != nil {
				return "", err
			}
		}
		return "", nil
	}); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	r.set(state.Figure{Row: state.RowStarted, Side: state.SideSandbox, Value: float64(n), Unit: "count",
		Parts:  []state.FigurePart{{Name: "memory together", Value: float64(total)}, {Name: "seconds until all answered", Value: took.Seconds()}},
		Beside: []state.FigurePart{{Name: "their supervisor processes (RSS)", Value: float64(supervisors)}},
		Source: "sandboxes started one after the other; each one's cgroup memory usage (and its supervisor's /proc/PID/status VmRSS) once all answered /health"})
	return nil
}
