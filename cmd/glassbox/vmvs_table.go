package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	units "github.com/docker/go-units"

	"glassbox/sandbox/vm/compare"
)

// vmvsRowWords are each row's label and what it shows, for people.
var vmvsRowWords = map[compare.Row]struct{ label, means string }{
	compare.KernelRelease: {"kernel", "uname -r as the calculator sees it. The sandbox runs on the host's kernel; the VM boots a kernel of its own (the same version only if it booted the host's image)."},
	compare.BootID:        {"boot id", "a random id each kernel draws when it boots: the same in the sandbox as on the host (one kernel instance), another in the VM."},
	compare.KernelUptime:  {"kernel up for", "how long the answering kernel has run: the VM's kernel was born seconds ago, the sandbox's is the host's."},
	compare.StartToHealth: {"start → /health", "from starting it (qemu; glassbox run -d) to the first healthy answer: a VM boots a kernel and its devices, a sandbox is a few system calls."},
	compare.Memory:        {"memory on host", "host memory one instance holds: qemu's resident memory (guest RAM in use, the emulator) vs the sandbox's cgroup (what its processes use; the kernel is shared)."},
	compare.Disk:          {"on disk", "what one instance needs on disk: the kernel image and the initramfs vs the image's layers, which every sandbox of the image shares (each adds only its writable layer)."},
	compare.Throughput:    {"GET /health", "requests answered per second, and the share of the host's rate: every packet to the VM crosses an emulated network card; a sandbox's cross a veth pair."},
	compare.Density:       {"how many fit", "the memory the kernel says is available, divided by one instance's memory (memory only: CPU runs out first under load)."},
	compare.Started:       {"started at once", "instances started for real at the same time, all answering /health, and the memory they held together."},
}

// vmvsTable words a comparison: the table, then what each row means and
// where each figure came from.
func vmvsTable(c *compare.Comparison, width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "VMs vs containers, measured on this machine in %s\n", c.Duration.Round(100*time.Millisecond))
	fmt.Fprintf(&b, "  VM:      %s, %s; %d vCPU, %d MiB; kernel %s\n", c.Qemu, c.Accel, c.CPUs, c.MemoryMB, c.KernelImg)
	fmt.Fprintf(&b, "  sandbox: glassbox run -d --cpus %d --memory %dm calculator\n", c.CPUs, c.MemoryMB)
	fmt.Fprintf(&b, "  host:    the same calculator binary as a plain process\n\n")

	labelW := 17
	colW := (width - labelW) / 3
	if colW > 26 {
		colW = 26
	}
	row := func(label string, cells [3]string) {
		fmt.Fprintf(&b, "%-*s", labelW, label)
		for i, cell := range cells {
			if i < 2 {
				fmt.Fprintf(&b, "%-*s", colW, clip(cell, colW-2))
			} else {
				b.WriteString(clip(cell, colW-2))
			}
		}
		b.WriteString("\n")
	}
	row("", [3]string{"VM", "SANDBOX", "HOST"})
	for _, r := range compare.Rows {
		if len(c.Expected(r)) == 0 {
			continue
		}
		var cells [3]string
		for i, s := range compare.Sides {
			if f, ok := c.Get(s, r); ok {
				cells[i] = vmvsCell(f)
			} else if slices.Contains(c.Expected(r), s) {
				cells[i] = "…"
			} else {
				cells[i] = "–"
			}
		}
		row(vmvsRowWords[r].label, cells)
	}
	fmt.Fprintf(&b, "\nqemu ran under %s: %s.\n", c.Accel, c.AccelWhy)
	b.WriteString("\nWhat each row means, and where each figure came from:\n")
	for _, r := range compare.Rows {
		if len(c.Expected(r)) == 0 {
			continue
		}
		w := vmvsRowWords[r]
		fmt.Fprintf(&b, "%s: %s\n", w.label, w.means)
		for _, s := range compare.Sides {
			if f, ok := c.Get(s, r); ok {
				fmt.Fprintf(&b, "  %-8s %s%s\n", string(s)+":", vmvsDetail(f), f.Source)
			}
		}
	}
	return b.String()
}

// vmvsCell is a figure in a table cell.
func vmvsCell(f compare.Figure) string {
	switch f.Row {
	case compare.KernelRelease:
		return f.Text
	case compare.BootID:
		id := f.Text
		if len(id) > 8 {
			id = id[:8] + "…"
		}
		if f.Side == compare.Host {
			return id
		}
		if f.Same != nil && *f.Same {
			return id + " (host's)"
		}
		return id + " (own)"
	case compare.KernelUptime:
		return uptimeWords(f.Value)
	case compare.StartToHealth:
		return durationWords(time.Duration(f.Value * float64(time.Second)))
	case compare.Memory, compare.Disk:
		return units.BytesSize(f.Value)
	case compare.Throughput:
		if f.Side == compare.Host {
			return rateWords(f.Value)
		}
		return fmt.Sprintf("%s (%s)", rateWords(f.Value), percent(f.Relative))
	case compare.Density:
		if f.Side == compare.Host {
			return units.BytesSize(f.Value) + " available"
		}
		return thousands(int64(f.Value))
	case compare.Started:
		if len(f.Parts) > 0 {
			return fmt.Sprintf("%d, %s", int64(f.Value), units.BytesSize(f.Parts[0].Value))
		}
		return thousands(int64(f.Value))
	}
	return fmt.Sprint(f.Value)
}

// vmvsDetail is what a figure holds beyond its cell: samples and parts.
func vmvsDetail(f compare.Figure) string {
	var parts []string
	switch {
	case f.Row == compare.BootID:
		parts = append(parts, f.Text)
	case len(f.Samples) > 1:
		var s []string
		for _, x := range f.Samples {
			s = append(s, durationWords(time.Duration(x*float64(time.Second))))
		}
		parts = append(parts, "samples "+strings.Join(s, ", "))
	}
	for _, p := range f.Parts {
		if strings.HasPrefix(p.Name, "seconds") {
			parts = append(parts, fmt.Sprintf("%s %.1f", p.Name, p.Value))
			continue
		}
		parts = append(parts, p.Name+" "+units.BytesSize(p.Value))
	}
	for _, p := range f.Beside {
		parts = append(parts, "plus "+p.Name+" "+units.BytesSize(p.Value))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + " — "
}

func uptimeWords(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", s)
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

func rateWords(r float64) string {
	if r >= 10000 {
		return fmt.Sprintf("%.1fk/s", r/1000)
	}
	return fmt.Sprintf("%.0f/s", r)
}

func percent(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "?"
	}
	if x < 0.1 {
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
