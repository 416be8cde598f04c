package words

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"glassbox/sandbox/state"
)

// The words of `glassbox vm-vs-container` and of the UI's comparison
// screen: each row's label and what it shows, each figure as a cell and
// in detail.

var compareRows = map[state.CompareRow]struct{ label, means string }{
	state.RowKernelRelease: {"kernel", "uname -r as the calculator sees it. The sandbox runs on the host's kernel; the VM boots a kernel of its own (the same version only if it booted the host's image)."},
	state.RowBootID:        {"boot id", "a random id each kernel draws when it boots: the same in the sandbox as on the host (one kernel instance), another in the VM."},
	state.RowKernelUptime:  {"kernel up for", "how long the answering kernel has run: the VM's was born seconds ago, the sandbox's is the host's."},
	state.RowStartToHealth: {"start → /health", "from starting it (qemu; the engine's run, as glassbox run -d) to the first healthy answer: a VM boots a kernel and its devices, a sandbox is a few system calls."},
	state.RowMemory:        {"memory on host", "host memory one instance holds: qemu's resident memory (the guest's RAM in use, the emulator) vs the sandbox's cgroup (its processes only: the kernel is shared)."},
	state.RowDisk:          {"on disk", "what one instance needs on disk: a kernel image and an initramfs (which each VM copies into its own RAM) vs the image's layers, shared by every sandbox of the image (each adds only its writable layer)."},
	state.RowThroughput:    {"GET /health", "requests answered per second, and the share of the host's rate: every packet to the VM crosses an emulated network card, a sandbox's a veth pair. Each has the same CPU budget: the VM its vCPUs, the sandbox --cpus, the host's process as many CPUs (pinned)."},
	state.RowDensity:       {"how many fit", "the memory the kernel says is available, divided by one instance's memory (memory only: CPU runs out first under load; the supervisor process beside each sandbox is not counted, see the memory row)."},
	state.RowStarted:       {"running at once", "instances started for real and running at the same time, each answering /health, and the memory they held together."},
}

// CompareLabel is a row's label: "start → /health".
func CompareLabel(r state.CompareRow) string { return compareRows[r].label }

// CompareMeaning says what a row shows and why the two columns differ.
func CompareMeaning(r state.CompareRow) string { return compareRows[r].means }

// CompareSideName is a column's heading: "VM", "sandbox", "host".
func CompareSideName(s state.CompareSide) string {
	if s == state.SideVM {
		return "VM"
	}
	return string(s)
}

// CompareSetup says what was compared: the two instances, their budget,
// and how qemu ran.
func CompareSetup(c *state.Comparison) []string {
	return []string{
		fmt.Sprintf("VM: %s under %s, %d vCPU, %d MiB; kernel %s", strings.Replace(c.Qemu, "QEMU emulator version", "qemu", 1), c.Accel, c.CPUs, c.MemoryMB, c.KernelImg),
		fmt.Sprintf("sandbox: the calculator image, --cpus %d --memory %dm", c.CPUs, c.MemoryMB),
		fmt.Sprintf("host: the same calculator binary as a plain process, pinned to %d CPU", c.CPUs),
		fmt.Sprintf("qemu ran under %s: %s", c.Accel, c.AccelWhy),
	}
}

// CompareCell is a figure as a table cell: "4.31 s", "171 MiB",
// "512/s (1.2%)", "1f0c2e61… (own)".
func CompareCell(f state.Figure) string {
	switch f.Row {
	case state.RowKernelRelease:
		return f.Text
	case state.RowBootID:
		id := f.Text
		if len(id) > 8 {
			id = id[:8] + "…"
		}
		switch {
		case f.Side == state.SideHost || f.Same == nil:
			return id
		case *f.Same:
			return id + " (host's)"
		}
		return id + " (own)"
	case state.RowKernelUptime:
		return uptime(f.Value)
	case state.RowStartToHealth:
		return took(f.Value)
	case state.RowMemory, state.RowDisk:
		return Bytes(int64(f.Value))
	case state.RowThroughput:
		if f.Side == state.SideHost {
			return rate(f.Value)
		}
		return fmt.Sprintf("%s (%s)", rate(f.Value), percent(f.Relative))
	case state.RowDensity:
		if f.Side == state.SideHost {
			return Bytes(int64(f.Value)) + " free"
		}
		return thousands(int64(f.Value))
	case state.RowStarted:
		if len(f.Parts) > 0 {
			return fmt.Sprintf("%d, %s", int64(f.Value), Bytes(int64(f.Parts[0].Value)))
		}
		return thousands(int64(f.Value))
	}
	return fmt.Sprint(f.Value)
}

// CompareDetail is what a figure holds beyond its cell — the samples of a
// median, the parts of a sum, what stands beside it — or "".
func CompareDetail(f state.Figure) string {
	var parts []string
	switch {
	case f.Row == state.RowBootID:
		parts = append(parts, f.Text)
	case len(f.Samples) > 1:
		var s []string
		for _, x := range f.Samples {
			s = append(s, took(x))
		}
		parts = append(parts, "samples "+strings.Join(s, ", "))
	}
	for _, p := range f.Parts {
		if strings.HasPrefix(p.Name, "seconds") {
			parts = append(parts, fmt.Sprintf("%s %.1f", p.Name, p.Value))
			continue
		}
		parts = append(parts, p.Name+" "+Bytes(int64(p.Value)))
	}
	for _, p := range f.Beside {
		parts = append(parts, "plus "+p.Name+" "+Bytes(int64(p.Value)))
	}
	return strings.Join(parts, "; ")
}

// CompareTable is the comparison as text: the set-up, the table (a cell
// not measured yet shows "…", one a side does not have "–"), then what each
// row means and where each figure came from.
func CompareTable(c *state.Comparison, width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "VMs vs containers, measured on this machine in %s\n", c.Duration.Round(100*time.Millisecond))
	for _, l := range CompareSetup(c) {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	b.WriteString("\n")
	labelW := 17
	colW := min((width-labelW)/3, 26)
	row := func(label string, cells []string) {
		fmt.Fprintf(&b, "%-*s", labelW, label)
		for i, cell := range cells {
			cell = clip(cell, colW-2)
			if i < len(cells)-1 {
				cell += strings.Repeat(" ", colW-len([]rune(cell)))
			}
			b.WriteString(cell)
		}
		b.WriteString("\n")
	}
	var heads []string
	for _, s := range state.CompareSides {
		heads = append(heads, strings.ToUpper(CompareSideName(s)))
	}
	row("", heads)
	for _, r := range state.CompareRows {
		if len(c.Expected(r)) > 0 {
			row(CompareLabel(r), CompareCells(c, r))
		}
	}
	b.WriteString("\nWhat each row means, and where each figure came from:\n")
	for _, r := range state.CompareRows {
		if len(c.Expected(r)) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s: %s\n", CompareLabel(r), CompareMeaning(r))
		for _, s := range state.CompareSides {
			f, ok := c.Get(s, r)
			if !ok {
				continue
			}
			src := f.Source
			if d := CompareDetail(f); d != "" {
				src = d + " — " + src
			}
			fmt.Fprintf(&b, "  %-8s %s\n", CompareSideName(s)+":", src)
		}
	}
	return b.String()
}

// CompareCells are a row's cells in column order.
func CompareCells(c *state.Comparison, r state.CompareRow) []string {
	var cells []string
	for _, s := range state.CompareSides {
		switch f, ok := c.Get(s, r); {
		case ok:
			cells = append(cells, CompareCell(f))
		case slices.Contains(c.Expected(r), s):
			cells = append(cells, "…")
		default:
			cells = append(cells, "–")
		}
	}
	return cells
}

func took(seconds float64) string {
	if seconds < 1 {
		return fmt.Sprintf("%.1f ms", seconds*1000)
	}
	return fmt.Sprintf("%.2f s", seconds)
}

// Took is how long a step took: "12.3 ms", "1.20 s".
func Took(d time.Duration) string { return took(d.Seconds()) }

// CompareStep is a step of the comparison as it goes: what is being done,
// how it went, and the sizes it measured — "read each one's memory on the
// host — VM 45.2 MiB, sandbox 12.31 MiB".
func CompareStep(e state.CompareEvent) string {
	s := e.Step
	how := e.Note
	for _, p := range e.Sizes {
		if how != "" {
			how += ", "
		}
		how += p.Name + " " + Bytes(int64(p.Value))
	}
	if how != "" {
		s += " — " + how
	}
	return s
}

// CompareStepDone is a step as it ended, with the time it took: "write
// the VM's initramfs — initramfs 3.25 MiB (41.2 ms)".
func CompareStepDone(e state.CompareEvent) string {
	return CompareStep(e) + " (" + Took(e.Elapsed) + ")"
}

// uptime is a kernel's uptime: to a tenth of a second in its first
// minute (a VM's is a second or two when it is measured), then Uptime's.
func uptime(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.1f s", s)
	}
	return Span(time.Duration(s * float64(time.Second)))
}

func rate(r float64) string {
	if r >= 10000 {
		return fmt.Sprintf("%.1fk/s", r/1000)
	}
	return fmt.Sprintf("%.0f/s", r)
}

func percent(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "?"
	case x < 0.1:
		return fmt.Sprintf("%.1f%%", x*100)
	}
	return fmt.Sprintf("%.0f%%", x*100)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
