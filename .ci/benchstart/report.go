package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// median of the non-empty v (the mean of the middle two for an even count).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func column(ss []sample, f func(sample) float64) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

func report(rts []peer, detached, removed, stopped, foreground, cli map[string][]sample, want func(string) bool) {
	type col struct {
		title string
		data  map[string][]sample
		f     func(sample) float64
		show  bool
	}
	cols := []col{
		{"run -d → /health", detached, func(s sample) float64 { return s.healthy }, want("detached") || want("remove")},
		{"run -d returns", detached, func(s sample) float64 { return s.returned }, want("detached") || want("remove")},
		{"rm -f", removed, func(s sample) float64 { return s.remove }, want("detached")},
		{"stop -t 0 + rm", stopped, func(s sample) float64 { return s.remove }, want("remove")},
		{"run → /health", foreground, func(s sample) float64 { return s.healthy }, want("foreground")},
		{"CLI (version)", cli, func(s sample) float64 { return s.cli }, want("cli")},
	}
	fmt.Printf("\n%-14s %4s", "median ms", "n")
	for _, c := range cols {
		if c.show {
			fmt.Printf(" %17s", c.title)
		}
	}
	fmt.Println()
	med := map[string][]float64{}
	for _, rt := range rts {
		l := rt.label()
		if len(detached[l]) == 0 && len(foreground[l]) == 0 && len(cli[l]) == 0 {
			continue
		}
		fmt.Printf("%-14s %4d", l, max(len(detached[l]), len(foreground[l]), len(cli[l])))
		for _, c := range cols {
			if !c.show {
				continue
			}
			m := median(column(c.data[l], c.f))
			med[l] = append(med[l], m)
			fmt.Printf(" %17.1f", m)
		}
		fmt.Println()
	}
	g := med["glassbox"]
	for _, rt := range rts[1:] {
		p := med[rt.label()]
		if len(p) == 0 {
			continue
		}
		fmt.Printf("%-19s", "glassbox÷"+rt.label())
		for i := range p {
			if i < len(g) && p[i] > 0 {
				fmt.Printf(" %16.2f×", g[i]/p[i])
			} else {
				fmt.Printf(" %17s", "-")
			}
		}
		fmt.Println()
	}
	if !(want("detached") || want("remove")) {
		return
	}
	fmt.Println("\nCPU used until /health answered (median ms; the CLI's own, then each process's threads):")
	printParts(rts, detached, "%.1f", func(s sample) []float64 { return s.cpu })
	fmt.Println("\nPage faults until /health answered (median; the same parts):")
	printParts(rts, detached, "%.0f", func(s sample) []float64 { return s.faults })
}

// printParts prints, for each runtime, the median of each part of a
// detached start (of) and their sum, in format.
func printParts(rts []peer, detached map[string][]sample, format string, of func(sample) []float64) {
	for _, rt := range rts {
		ss := detached[rt.label()]
		if len(ss) == 0 {
			continue
		}
		var parts []string
		total := 0.0
		for i, name := range rt.cpuParts() {
			m := median(column(ss, func(s sample) float64 { return of(s)[i] }))
			total += m
			parts = append(parts, fmt.Sprintf("%s "+format, name, m))
		}
		fmt.Printf("  %-10s %5s = %s\n", rt.label(), fmt.Sprintf(format, total), strings.Join(parts, " + "))
	}
}

func uname() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func numCPU() int { return runtime.NumCPU() }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

func cgroupWorld() string {
	if os.Getenv(legacyEnv) != "" {
		return "hybrid (measured without the cgroup2 mount, in a mount namespace of this run's own)"
	}
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2"
	}
	return "v1"
}
