package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"glassbox/inspect"
	"glassbox/ui/words"
)

// memSection is the memory bar against the limit and its figures, w cells
// wide: the whole bar is what the OOM killer compares with the limit.
func memSection(st *Styles, b *box, w int) []string {
	s := b.snap
	m := s.Cgroup.Memory
	bw := max(w-5-1-6, 4)
	limit := memLimit(s)
	usage, anon, file := m.Usage.Value, m.Anon.Value, m.File.Value
	killed := b.oomKilled()
	seen := int64(b.mem.max())
	if killed && limit > 0 {
		// The kernel OOM-kills when a charge would take the cgroup past
		// its limit: at that moment usage was the limit, whatever the
		// last sample (up to one interval earlier) caught.
		usage, anon, file = limit, 0, 0
	} else if !m.Usage.Valid {
		usage, anon, file = seen, 0, 0
	}
	var out []string
	switch {
	case limit > 0:
		pct := float64(usage) / float64(limit) * 100
		// Near the limit the figures say so, first, in words (without
		// colour too): reclaim is under way, and the OOM killer is next.
		warn, near := func(s ...string) string { return strings.Join(s, "") }, ""
		switch {
		case killed:
		case pct >= memDangerPct:
			warn, near = st.Bad.Render, "at the limit: "
		case pct >= memWarnPct:
			warn, near = st.Warn.Render, "near the limit: "
		}
		bar := memBar(st, usage, anon, file, limit, bw)
		if killed {
			bar = st.Bad.Render(strings.Repeat("█", bw)) + st.Bad.Render("│") // at the limit, whatever it held
		}
		out = append(out, "mem  "+bar+warn(fmt.Sprintf(" %3.0f%%", pct)))
		fig := fmt.Sprintf("     %s%s of %s · anon %s · file %s", near, words.Bytes(usage), words.Bytes(limit), words.Bytes(anon), words.Bytes(file))
		if killed {
			fig = fmt.Sprintf("     limit %s reached: OOM-killed (seen %s)", words.Bytes(limit), words.Bytes(seen))
		}
		out = append(out, warn(fig))
		if b.heldMB > 0 && !killed {
			out = append(out, fmt.Sprintf("     of which the calculator holds %d MiB for the stress key", b.heldMB))
		}
	case m.Usage.Valid:
		out = append(out, fmt.Sprintf("mem  %s, no limit", words.Bytes(usage)), fmt.Sprintf("     anon %s · file %s", words.Bytes(anon), words.Bytes(file)))
	default:
		out = append(out, "mem  n/a", "")
	}
	return out
}

// cpuSection is the CPU bar against the quota and its figures, w cells
// wide; its rates are inspect.Rate's, since the previous snapshot.
func cpuSection(st *Styles, b *box, w int) []string {
	s := b.snap
	bw := max(w-5-1-6, 4)
	q := quotaCores(s)
	r := s.Cgroup.CPU
	switch {
	case len(s.Processes) == 0 && s.Sandbox != nil && !s.Sandbox.Status.Live():
		return []string{"cpu  none: not running", ""}
	case r.IntervalSeconds <= 0:
		return []string{"cpu  n/a (needs two snapshots)", ""}
	case q > 0:
		cores := fmt.Sprintf("%.2f of %.2f cores", min(r.CoresUsed, q), q)
		line := "     " + cores
		if r.PeriodsDelta > 0 {
			// The last interval's throttling, said whole at any width:
			// the words shrink before the figures are cut.
			last := "last " + words.Seconds(r.IntervalSeconds)
			line = firstFit(w,
				fmt.Sprintf("     %s · %s: throttled in %d of %d periods", cores, last, r.ThrottledDelta, r.PeriodsDelta),
				fmt.Sprintf("     %s · %s: %d/%d periods throttled", cores, last, r.ThrottledDelta, r.PeriodsDelta),
				fmt.Sprintf("     %s · %s: %d/%d throttled", cores, last, r.ThrottledDelta, r.PeriodsDelta),
				fmt.Sprintf("%s · %s: %d/%d throttled", cores, last, r.ThrottledDelta, r.PeriodsDelta),
				fmt.Sprintf("%.2f cores · %s: %d/%d throttled", min(r.CoresUsed, q), last, r.ThrottledDelta, r.PeriodsDelta),
				fmt.Sprintf("%.2f cores, %s %d/%d throttled", min(r.CoresUsed, q), last, r.ThrottledDelta, r.PeriodsDelta))
		}
		if r.ThrottledDelta > 0 {
			line = st.Warn.Render(line)
		}
		// The quota is enforced per period, the rate is measured between
		// two reads that do not fall on period boundaries: a reading
		// above the quota is that misalignment, not CPU beyond it.
		pct := min(r.PercentOfQuota, 100)
		return []string{"cpu  " + cpuBar(st, pct, bw) + fmt.Sprintf(" %3.0f%%", pct), line}
	}
	return []string{"cpu  " + cpuBar(st, r.CoresUsed*100, bw) + fmt.Sprintf(" %3.0f%%", r.CoresUsed*100), fmt.Sprintf("     %.2f cores, no quota (bar: one core)", r.CoresUsed)}
}

// The memory bar warns from memWarnPct of the limit and alarms from
// memDangerPct: by then the kernel reclaims hard, and the OOM killer is next.
const (
	memWarnPct   = 75
	memDangerPct = 90
)

// cells turns a fraction of a bar into a whole number of cells.
func cells(part, whole float64, width int) int {
	if whole <= 0 || part <= 0 {
		return 0
	}
	return min(width, int(math.Round(part/whole*float64(width))))
}

// memBar draws usage against the limit: anon █, file cache ▓, the rest the
// kernel charges (kernel stacks, slab, shmem) ▒, free ░, and the limit as a
// line at the end. The whole bar is what the OOM killer compares with the
// limit (memory.current / memory.usage_in_bytes), not RSS.
func memBar(st *Styles, usage, anon, file, limit int64, width int) string {
	anonC := cells(float64(anon), float64(limit), width)
	fileC := min(cells(float64(file), float64(limit), width), width-anonC)
	usedC := max(cells(float64(usage), float64(limit), width), anonC+fileC)
	otherC := usedC - anonC - fileC
	freeC := width - usedC
	return st.Anon.Render(strings.Repeat("█", anonC)) + st.File.Render(strings.Repeat("▓", fileC)) +
		strings.Repeat("▒", otherC) + st.Dim.Render(strings.Repeat("░", freeC)) + st.Bad.Render("│")
}

func cpuBar(st *Styles, pct float64, width int) string {
	used := cells(min(pct, 100), 100, width)
	return st.CPU.Render(strings.Repeat("█", used)) + st.Dim.Render(strings.Repeat("░", width-used)) + st.Bad.Render("│")
}

// renderResources shows the cgroup's accounting against its limits, with a
// minute of history.
func renderResources(st *Styles, b *box, w, h int) []string {
	if b == nil || b.snap == nil {
		return []string{st.Dim.Render("no snapshot yet")}
	}
	s := b.snap
	m := s.Cgroup.Memory
	out := append(memSection(st, b, w), cpuSection(st, b, w)...)

	var extra []string
	if m.OOMKills.Valid {
		extra = append(extra, "oom_kill "+strconv.FormatInt(m.OOMKills.Value, 10)+thisRun(b))
	}
	if p := s.Cgroup.Pids; p.Current.Valid {
		// pids.current counts tasks: every thread of every process.
		if p.Limit.Valid {
			extra = append(extra, fmt.Sprintf("pids %d of %d (threads count)", p.Current.Value, p.Limit.Value))
		} else {
			extra = append(extra, fmt.Sprintf("pids %d, no limit (threads count)", p.Current.Value))
		}
	}
	out = append(out, strings.Join(extra, " · "))
	if c := s.Cgroup.CPU; c.Throttled.Valid && c.Periods.Value > 0 {
		// The run's total, worded to fit as the last interval's is.
		of, slash, took := "", "", ""
		if c.Periods.Valid {
			of, slash = fmt.Sprintf(" of %d", c.Periods.Value), fmt.Sprintf("/%d", c.Periods.Value)
		}
		if c.ThrottledNS.Valid {
			took = fmt.Sprintf(" (%s)", words.Seconds(float64(c.ThrottledNS.Value)/1e9))
		}
		n := c.Throttled.Value
		out = append(out, firstFit(w,
			fmt.Sprintf("total this run: throttled in %d%s periods%s", n, of, took),
			fmt.Sprintf("     this run: %d%s periods throttled%s", n, slash, took),
			fmt.Sprintf("     this run: %d%s throttled%s", n, slash, took),
			fmt.Sprintf("this run: %d%s throttled%s", n, slash, took),
			fmt.Sprintf("this run: %d%s throttled", n, slash)))
	}
	if b.record().Engine != "" {
		// Another engine may put a container at different paths in
		// different v1 hierarchies: name each.
		for _, g := range inspect.ControllerPaths(s.Cgroup) {
			out = append(out, st.Dim.Render(cut("cgroup "+g.Path+" ("+strings.Join(g.Controllers, " ")+")", w)))
		}
	}

	return append(out, sparkSection(st, b, w)...)
}

// sparkSection is the last minute of memory and CPU, a line each.
func sparkSection(st *Styles, b *box, w int) []string {
	sw := max(w-5-4, 1)
	memMax := float64(memLimit(b.snap))
	cpuMax := quotaCores(b.snap)
	if cpuMax <= 0 {
		cpuMax = 1
	}
	return []string{
		"mem  " + st.Anon.Render(sparkline(b.mem.values(), len(b.mem.buf), sw, memMax)) + st.Dim.Render(" 1m"),
		"cpu  " + st.CPU.Render(sparkline(b.cpu.values(), len(b.cpu.buf), sw, cpuMax)) + st.Dim.Render(" 1m"),
	}
}

// thisRun is " (this run's)" for a figure of the cgroup while the screen also
// shows an OOM kill of an earlier run (whose counter was another cgroup's).
func thisRun(b *box) string {
	if b.earlierRun() {
		return " (this run's)"
	}
	return ""
}
