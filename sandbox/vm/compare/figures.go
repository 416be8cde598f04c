package compare

import "time"

// Side is a column of the comparison.
type Side string

const (
	VM      Side = "vm"      // the calculator in glassbox's micro-VM
	Sandbox Side = "sandbox" // the calculator in a glassbox sandbox
	Host    Side = "host"    // the machine itself, for reference
)

// Sides in the order they are shown.
var Sides = []Side{VM, Sandbox, Host}

// Row is a line of the comparison.
type Row string

const (
	KernelRelease Row = "kernel_release"  // uname -r, from the calculator's /info
	BootID        Row = "boot_id"         // /proc/sys/kernel/random/boot_id
	KernelUptime  Row = "kernel_uptime"   // /proc/uptime, seconds
	StartToHealth Row = "start_to_health" // seconds from start to /health's first 200
	Memory        Row = "memory"          // bytes of host memory one instance holds
	Disk          Row = "disk"            // bytes on disk one instance needs
	Throughput    Row = "throughput"      // GET /health answered per second
	Density       Row = "density"         // instances that fit in the memory available
	Started       Row = "started"         // --vms / --sandboxes started for real at once
)

// Rows in the order they are shown; Started only when asked for.
var Rows = []Row{KernelRelease, BootID, KernelUptime, StartToHealth, Memory, Disk, Throughput, Density, Started}

// Expected says which sides a row of c has when it is complete: Started
// only for what was asked to start at once.
func (c *Comparison) Expected(r Row) []Side {
	switch r {
	case StartToHealth, Disk:
		return []Side{VM, Sandbox}
	case Started:
		var out []Side
		if c.VMs > 0 {
			out = append(out, VM)
		}
		if c.Sandboxes > 0 {
			out = append(out, Sandbox)
		}
		return out
	}
	return Sides
}

// Figure is one measured value, with where it came from.
type Figure struct {
	Row  Row  `json:"row"`
	Side Side `json:"side"`
	// Value is the number (seconds, bytes, requests/s, a count); Text the
	// value of a row that is words (kernel release, boot id).
	Value float64 `json:"value,omitempty"`
	Text  string  `json:"text,omitempty"`
	Unit  string  `json:"unit,omitempty"` // "s", "bytes", "req/s", "count"
	// Samples are the measurements a median was taken of.
	Samples []float64 `json:"samples,omitempty"`
	// Parts break the value down (e.g. kernel and initramfs bytes), in order.
	Parts []Part `json:"parts,omitempty"`
	// Relative is the value against the host's (throughput), 1 = the same.
	Relative float64 `json:"relative,omitempty"`
	// Beside are figures shown next to this one but not part of it (the
	// sandbox's supervisor process next to its cgroup's memory).
	Beside []Part `json:"beside,omitempty"`
	// Same is set on the kernel rows: the value equals the host's.
	Same *bool `json:"same_as_host,omitempty"`
	// Source names where the figure was read or how it was measured.
	Source string `json:"source"`
}

// Part is a named share of a figure.
type Part struct {
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
	Figures  map[Side]map[Row]Figure `json:"figures"`
	Duration time.Duration           `json:"duration_ns"`
}

// Set records f.
func (c *Comparison) Set(f Figure) {
	if c.Figures == nil {
		c.Figures = map[Side]map[Row]Figure{}
	}
	if c.Figures[f.Side] == nil {
		c.Figures[f.Side] = map[Row]Figure{}
	}
	c.Figures[f.Side][f.Row] = f
}

// Get returns the figure of a side and row, if measured.
func (c *Comparison) Get(s Side, r Row) (Figure, bool) {
	f, ok := c.Figures[s][r]
	return f, ok
}

// Missing lists "side/row" for every expected figure not measured.
func (c *Comparison) Missing() []string {
	var out []string
	for _, r := range Rows {
		for _, s := range c.Expected(r) {
			if _, ok := c.Get(s, r); !ok {
				out = append(out, string(s)+"/"+string(r))
			}
		}
	}
	return out
}

// Event is what Run reports while it works: a step begun or ended, or a
// figure measured.
type Event struct {
	// Step says what is being done ("boot the VM (1 of 3)"). Done marks
	// its end, after Elapsed.
	Step    string        `json:"step,omitempty"`
	Done    bool          `json:"done,omitempty"`
	Elapsed time.Duration `json:"elapsed,omitempty"`
	Note    string        `json:"note,omitempty"` // a word on how it went
	// Figure is set when a figure was measured.
	Figure *Figure `json:"figure,omitempty"`
	// Setup is set once the comparison's context (accelerator, kernel,
	// budget) is known, before the first figure.
	Setup *Comparison `json:"setup,omitempty"`
}
