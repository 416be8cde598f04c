// Package compare puts the calculator in glassbox's micro-VM and in a
// glassbox sandbox side by side on this machine and measures both: whose
// kernel answers, how long each takes from start to its first healthy
// answer, how much host memory and disk one instance holds, how fast it
// serves compared with the host, and how many would fit.
//
// Everything it starts — qemu processes, sandboxes, a calculator on the
// host — it stops and removes before Run returns, whatever the reason
// (an error, or the context cancelled by Ctrl-C or SIGTERM). qemu also dies
// with this process (a parent-death signal), the initramfs lives in a
// memory file, and sandboxes left by a run that was killed are removed by
// the next run (their names carry the dead run's process id).
package compare

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"glassbox/sandbox/image"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/state"
	"glassbox/sandbox/vm"
)

// Options say what to measure.
type Options struct {
	Roots  state.Roots // set by Run from the engine
	Kernel string      // --kernel; "" finds one (vm.FindKernel)
	// Rounds is how many starts of each the start → /health median takes.
	Rounds int
	// VMs and Sandboxes, when more than 0, are started for real at once
	// (density), then removed.
	VMs, Sandboxes int
	// Load is how long each throughput measurement runs.
	Load time.Duration
	// MemoryMB and CPUs are each instance's budget: the VM's -m and -smp,
	// the sandbox's --memory and --cpus.
	MemoryMB, CPUs int
}

// Defaults for Options' zero fields.
const (
	DefaultRounds   = 3
	DefaultLoad     = 2 * time.Second
	DefaultMemoryMB = 256
	DefaultCPUs     = 1
	maxRounds       = 20
	maxSandboxes    = 1000
)

func (o *Options) fill() {
	if o.Rounds == 0 {
		o.Rounds = DefaultRounds
	}
	if o.Load == 0 {
		o.Load = DefaultLoad
	}
	if o.MemoryMB == 0 {
		o.MemoryMB = DefaultMemoryMB
	}
	if o.CPUs == 0 {
		o.CPUs = DefaultCPUs
	}
}

// Validate checks the options before anything is started.
func (o *Options) Validate() error {
	o.fill()
	switch {
	case o.Rounds < 1 || o.Rounds > maxRounds:
		return fmt.Errorf("--rounds %d: must be 1..%d", o.Rounds, maxRounds)
	case o.VMs < 0:
		return fmt.Errorf("--vms %d: cannot be negative", o.VMs)
	case o.Sandboxes < 0 || o.Sandboxes > maxSandboxes:
		return fmt.Errorf("--sandboxes %d: must be 0..%d", o.Sandboxes, maxSandboxes)
	case o.Load < 100*time.Millisecond || o.Load > time.Minute:
		return fmt.Errorf("--load %s: must be 100ms..1m", o.Load)
	case o.MemoryMB < 64 || o.MemoryMB > 64<<10:
		return fmt.Errorf("--memory %d MiB: must be 64..65536", o.MemoryMB)
	case o.CPUs < 1 || o.CPUs > 64:
		return fmt.Errorf("--cpus %d: must be 1..64", o.CPUs)
	}
	// Each VM may grow to its -m: refuse what cannot fit, before starting.
	if o.VMs > 0 {
		avail, err := memAvailable()
		if err != nil {
			return err
		}
		if need := int64(o.VMs) * int64(o.MemoryMB) << 20; need > avail*3/4 {
			return fmt.Errorf("--vms %d: %d MiB of guest memory each would need %d MiB, more than 3/4 of the %d MiB available",
				o.VMs, o.MemoryMB, need>>20, avail>>20)
		}
	}
	return nil
}

// runner holds one Run's state: what it started, to stop it all.
type runner struct {
	opts   Options
	eng    *lifecycle.Engine
	emit   func(state.CompareEvent)
	c      *state.Comparison
	prefix string // names of this run's sandboxes: vmvs-<pid>-

	qemu   string
	kernel *vm.Kernel
	accel  vm.Accel
	image  *image.Image
	init   string // the VM's /init when the image does not carry glassbox ("": it does)
	initrd *vm.Initramfs

	mu        sync.Mutex // guards machines: VMs boot in parallel for --vms
	machines  []*vm.Machine
	sandboxes []string // ids
	hostCalc  *exec.Cmd
	hostPort  int
}

// Run measures the comparison, reporting progress and each figure to emit
// as it goes (emit is called from Run's goroutine only). Sandboxes are run
// by eng, the way `glassbox run -d` runs one. It checks that qemu and a
// kernel are there before it starts anything, and stops and removes
// everything it started before it returns.
func Run(ctx context.Context, opts Options, eng *lifecycle.Engine, emit func(state.CompareEvent)) (c *state.Comparison, err error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.Roots = eng.Roots
	r := &runner{opts: opts, eng: eng, emit: emit, prefix: fmt.Sprintf("vmvs-%d-", os.Getpid())}
	if r.qemu, err = vm.FindQemu(); err != nil {
		return nil, err
	}
	if r.kernel, err = vm.FindKernel(opts.Kernel); err != nil {
		return nil, err
	}
	r.accel = vm.DetectAccel()
	start := time.Now()
	defer func() {
		if cerr := r.cleanup(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	if err := r.removeLeftovers(); err != nil {
		return nil, fmt.Errorf("remove what a killed run left: %w", err)
	}
	if err := r.measure(ctx); err != nil {
		if ctx.Err() != nil {
			return r.c, ctx.Err()
		}
		return r.c, err
	}
	r.c.Duration = time.Since(start)
	return r.c, nil
}

// step reports a step, runs it and reports its end.
func (r *runner) step(name string, f func() (note string, err error)) error {
	return r.sizedStep(name, func() (string, []state.FigurePart, error) {
		note, err := f()
		return note, nil, err
	})
}

// sizedStep is a step whose end reports sizes it measured as well.
func (r *runner) sizedStep(name string, f func() (note string, sizes []state.FigurePart, err error)) error {
	r.emit(state.CompareEvent{Step: name})
	t := time.Now()
	note, sizes, err := f()
	if err != nil {
		note, sizes = "failed", nil
	}
	r.emit(state.CompareEvent{Step: name, Done: true, Elapsed: time.Since(t), Note: note, Sizes: sizes})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (r *runner) set(f state.Figure) {
	r.c.Set(f)
	r.emit(state.CompareEvent{Figure: &f})
}

func (r *runner) measure(ctx context.Context) error {
	qemuVersion, _ := exec.Command(r.qemu, "--version").Output()
	r.c = &state.Comparison{
		Accel: r.accel.Name, AccelWhy: r.accel.Why,
		Qemu:      strings.TrimSpace(strings.SplitN(string(qemuVersion), "\n", 2)[0]),
		KernelImg: r.kernel.Image, KernelOf: r.kernel.Origin,
		MemoryMB: r.opts.MemoryMB, CPUs: r.opts.CPUs, Rounds: r.opts.Rounds,
		VMs: r.opts.VMs, Sandboxes: r.opts.Sandboxes,
	}
	setup := *r.c
	r.emit(state.CompareEvent{Setup: &setup})

	if err := r.step("find the calculator image", func() (string, error) {
		store := image.NewStore(r.opts.Roots)
		im, err := store.Get(image.Builtin)
		r.image = im
		// An image with the lean calculator does not carry glassbox, the
		// VM's init: the initramfs adds it.
		if store.Lean != nil {
			r.init = store.Self
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d layers", len(im.Layers)), nil
	}); err != nil {
		return err
	}
	if err := r.sizedStep("write the VM's initramfs", r.writeInitramfs); err != nil {
		return err
	}
	r.setDiskVM()

	vmPort, sbPort, err := r.startRounds(ctx)
	if err != nil {
		return err
	}
	// The host's answers, read just before the calculators' own: the
	// uptimes are then of the same moment.
	host, err := hostFacts()
	if err != nil {
		return err
	}
	r.setKernelFigures(state.SideHost, host, host, "uname(2), /proc/sys/kernel/random/boot_id and /proc/uptime, read on the host")
	for _, side := range []struct {
		s    state.CompareSide
		port int
	}{{state.SideVM, vmPort}, {state.SideSandbox, sbPort}} {
		var in *info
		if err := r.step("ask the calculator in the "+sideWord(side.s)+" where it runs (GET /info)", func() (string, error) {
			var err error
			in, err = getInfo(ctx, side.port)
			if err != nil {
				return "", err
			}
			return "kernel " + in.KernelRelease, nil
		}); err != nil {
			return err
		}
		r.setKernelFigures(side.s, *in, host, "the calculator's GET /info, inside the "+sideWord(side.s))
	}
	if err := r.step("start the calculator on the host, for reference", r.startHostCalculator); err != nil {
		return err
	}
	if err := r.measureMemory(); err != nil {
		return err
	}
	if err := r.setDiskSandbox(); err != nil {
		return err
	}
	if err := r.measureThroughput(ctx, map[state.CompareSide]int{state.SideVM: vmPort, state.SideSandbox: sbPort, state.SideHost: r.hostPort}); err != nil {
		return err
	}
	if err := r.setDensity(); err != nil {
		return err
	}
	return r.startMany(ctx)
}

func sideWord(s state.CompareSide) string {
	switch s {
	case state.SideVM:
		return "VM"
	case state.SideSandbox:
		return "sandbox"
	}
	return "host"
}

func (r *runner) setKernelFigures(s state.CompareSide, in, host info, source string) {
	same := func(b bool) *bool { return &b }
	r.set(state.Figure{Row: state.RowKernelRelease, Side: s, Text: in.KernelRelease, Same: same(in.KernelRelease == host.KernelRelease), Source: source})
	r.set(state.Figure{Row: state.RowBootID, Side: s, Text: in.BootID, Same: same(in.BootID == host.BootID), Source: source})
	r.set(state.Figure{Row: state.RowKernelUptime, Side: s, Value: in.KernelUptime, Unit: "s", Source: source})
}

func (r *runner) writeInitramfs() (string, []state.FigurePart, error) {
	im := r.image
	var layers []string
	for _, l := range im.Layers {
		layers = append(layers, l.Dir)
	}
	env := append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, im.Config.Env...)
	cfg := vm.GuestConfig("glassbox-vm", im.Argv(), env, im.Config.WorkingDir)
	initrd, err := vm.NewInitramfs(layers, r.init, r.kernel, cfg)
	if err != nil {
		return "", nil, err
	}
	r.initrd = initrd
	return "", []state.FigurePart{{Name: "initramfs", Value: float64(initrd.Size)}}, nil
}

func (r *runner) setDiskVM() {
	r.set(state.Figure{Row: state.RowDisk, Side: state.SideVM, Value: float64(r.kernel.Size + r.initrd.Size), Unit: "bytes",
		Parts:  []state.FigurePart{{Name: "kernel", Value: float64(r.kernel.Size)}, {Name: "initramfs", Value: float64(r.initrd.Size)}},
		Source: "size of " + r.kernel.Image + " and of the initramfs glassbox wrote (cpio newc)"})
}

func (r *runner) setDiskSandbox() error {
	var layers int64
	var parts []state.FigurePart
	for _, l := range r.image.Layers {
		layers += l.Size
		parts = append(parts, state.FigurePart{Name: "layer " + image.ShortID(l.Digest), Value: float64(l.Size)})
	}
	sb, err := r.lastSandbox()
	if err != nil {
		return err
	}
	upper, err := dirBytes(sb.UpperDir)
	if err != nil {
		return fmt.Errorf("size of %s: %w", sb.UpperDir, err)
	}
	parts = append(parts, state.FigurePart{Name: "own writable layer", Value: float64(upper)})
	r.set(state.Figure{Row: state.RowDisk, Side: state.SideSandbox, Value: float64(layers + upper), Unit: "bytes", Parts: parts,
		Source: "the image's layer records (" + r.opts.Roots.LayersDir() + "/*/layer.json) and the files in " + sb.UpperDir})
	return nil
}

// lastSandbox is the record of the sandbox kept running after the rounds.
func (r *runner) lastSandbox() (*state.Sandbox, error) {
	if len(r.sandboxes) == 0 {
		return nil, errors.New("no sandbox running")
	}
	all, err := r.eng.List(true)
	if err != nil {
		return nil, err
	}
	for _, sb := range all {
		if sb.ID == r.sandboxes[len(r.sandboxes)-1] {
			return sb, nil
		}
	}
	return nil, fmt.Errorf("sandbox %s is gone", r.sandboxes[len(r.sandboxes)-1])
}

// calculatorFile is the image's calculator binary as a file on the host
// (the top-most layer that has it), run as is for the host's figures.
func (r *runner) calculatorFile() (string, error) {
	argv := r.image.Argv()
	if len(argv) == 0 {
		return "", errors.New("the image has no command")
	}
	for i := len(r.image.Layers) - 1; i >= 0; i-- {
		p := filepath.Join(r.image.Layers[i].Dir, argv[0])
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no layer of the image holds %s", argv[0])
}
