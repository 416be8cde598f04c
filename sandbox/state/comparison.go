package state

import "time"

// The records of `glassbox vm-vs-container` (sandbox/vm/compare measures
// them, ui/words words them, the UI shows them as they come): the
// calculator in a micro-VM and in a sandbox, side by side, with the host
// for reference. Each figure keeps where it came from.

// CompareSide is a column of the comparison.
type CompareSide string

const (
	SideVM      CompareSide = "vm"      // the calculator in glassbox's micro-VM
	SideSandbox CompareSide = "sandbox" // the calculator in a glassbox sandbox
	SideHost    CompareSide = "host"    // the machine itself, for reference
)

// CompareSides in the order they are shown.
var CompareSides = []CompareSide{SideVM, SideSandbox, SideHost}

// CompareRow is a line of the comparison.
type CompareRow string

const (
	RowKernelRelease CompareRow = "kernel_release"  // uname -r, from the calculator's /info
	RowBootID        CompareRow = "boot_id"         // /proc/sys/kernel/random/boot_id
	RowKernelUptime  CompareRow = "kernel_uptime"   // /proc/uptime, seconds
	RowStartToHealth CompareRow = "start_to_health" // seconds from start to /health's first 200
	RowMemory        CompareRow = "memory"          // bytes of host memory one instance holds
	RowDisk          CompareRow = "disk"            // bytes on disk one instance needs
	RowThroughput    CompareRow = "throughput"      // GET /health answered per second
	RowDensity       CompareRow = "density"         // instances that fit in the memory available
	RowStarted       CompareRow = "started"         // --vms / --sandboxes started for real at once
)

// CompareRows in the order they are shown; RowStarted only when asked for.
var CompareRows = []CompareRow{RowKernelRelease, RowBootID, RowKernelUptime, RowStartToHealth, RowMemory, RowDisk, RowThroughput, RowDensity, RowStarted}

// Expected says which sides a row of c has when it is complete: Started
// only for what was asked to start at once.
func (c *Comparison) Expected(r CompareRow) []CompareSide {
	switch r {
	case RowStartToHealth, RowDisk:
		return []CompareSide{SideVM, SideSandbox}
	case RowStarted:
		var out []CompareSide
		if c.VMs > 0 {
			out = append(out, SideVM)
		}
		if c.Sandboxes > 0 {
			out = append(out, SideSandbox)
		}
		return out
	}
	return CompareSides
}

// Figure is one measured value, with where it came from.
type Figure struct {
	Row  CompareRow  `json:"row"`
	Side CompareSide `json:"side"`
	// Value is the number (seconds, bytes, requests/s, a count); Text the
	// value of a row that is words (kernel release, boot id).
	Value float64 `json:"value,omitempty"`
	Text  string  `json:"text,omitempty"`
	Unit  string  `json:"unit,omitempty"` // "s", "bytes", "req/s", "count"
	// Samples are the measurements a median was taken of.
	Samples []float64 `json:"samples,omitempty"`
	// Parts break the value down (e.g. kernel and initramfs bytes), in order.
	Parts []FigurePart `json:"parts,omitempty"`
	// Relative is the value against the host's (throughput), 1 = the same.
	Relative float64 `json:"relative,omitempty"`
	// Beside are figures shown next to this one but not part of it (the
	// sandbox's supervisor process next to its cgroup's memory).
	Beside []FigurePart `json:"beside,omitempty"`
	// Same is set on the kernel rows: the value equals the host's.
	Same *bool `json:"same_as_host,omitempty"`
	// Source names where the figure was read or how it was measured.
	Source string `json:"source"`
}

// FigurePart is a named share of a figure.
type FigurePart struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Comparison is the whole measurement.
type Comparison struct {
	// Accel is how qemu ran the guest (KVM or TCG) and why.
	Accel     string `json:"accel"`
	AccelWhy  string `json:"accel_why"`
	Qemu      string `json:"qemu"`
	KernelImg string `json:"kernel_image"`
	KernelOf  string `json:"kernel_origin"`
	// Budget is what each instance was given: the VM as -m and -smp, the
	// sandbox as --memory and --cpus.
	MemoryMB int `json:"memory_mb"`
	CPUs     int `json:"cpus"`
	Rounds   int `json:"rounds"`
	// VMs and Sandboxes are how many were asked to start at once.
	VMs       int `json:"vms,omitempty"`
	Sandboxes int `json:"sandboxes,omitempty"`
	// Figures by side and row.
	Figures  map[CompareSide]map[CompareRow]Figure `json:"figures"`
	Duration time.Duration                         `json:"duration_ns"`
}

// Set records f.
func (c *Comparison) Set(f Figure) {
	if c.Figures == nil {
		c.Figures = map[CompareSide]map[CompareRow]Figure{}
	}
	if c.Figures[f.Side] == nil {
		c.Figures[f.Side] = map[CompareRow]Figure{}
	}
	c.Figures[f.Side][f.Row] = f
}

// Get returns the figure of a side and row, if measured.
func (c *Comparison) Get(s CompareSide, r CompareRow) (Figure, bool) {
	f, ok := c.Figures[s][r]
	return f, ok
}

// Missing lists "side/row" for every expected figure not measured.
func (c *Comparison) Missing() []string {
	var out []string
	for _, r := range CompareRows {
		for _, s := range c.Expected(r) {
			if _, ok := c.Get(s, r); !ok {
				out = append(out, string(s)+"/"+string(r))
			}
		}
	}
	return out
}

// CompareEvent is what the comparison reports while it works: a step
// begun or ended, or a figure measured.
type CompareEvent struct {
	// Step says what is being done ("boot the VM (1 of 3)"). Done marks
	// its end, after Elapsed.
	Step    string        `json:"step,omitempty"`
	Done    bool          `json:"done,omitempty"`
	Elapsed time.Duration `json:"elapsed,omitempty"`
	Note    string        `json:"note,omitempty"` // a word on how it went
	// Sizes are what a step measured, in bytes, by name ("VM": its RSS);
	// the presentation words them after the note.
	Sizes []FigurePart `json:"sizes,omitempty"`
	// Figure is set when a figure was measured.
	Figure *Figure `json:"figure,omitempty"`
	// Setup is set once the comparison's context (accelerator, kernel,
	// budget) is known, before the first figure.
	Setup *Comparison `json:"setup,omitempty"`
}
