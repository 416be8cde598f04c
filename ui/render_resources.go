package ui

import (
	"fmt"
	"math"
	"strings"

	"glassbox/inspect"
	"glassbox/ui/words"
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
	bw := max(w-5-1-6, 4)
	var out []string

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
	switch {
	case limit > 0:
		pct := float64(usage) / float64(limit) * 100
		out = append(out, "mem  "+memBar(st, usage, anon, file, limit, bw)+fmt.Sprintf(" %3.0f%%", pct))
		fig := fmt.Sprintf("     %s of %s · anon %s · file %s", words.Bytes(usage), words.Bytes(limit), words.Bytes(anon), words.Bytes(file))
		if killed {
			fig = fmt.Sprintf("     limit %s reached: OOM-killed (seen %s)", words.Bytes(limit), words.Bytes(seen))
		}
		out = append(out, fig)
		if b.heldMB > 0 && !killed {
			out = append(out, fmt.Sprintf("     of which the calculator holds %d MiB for the stress key", b.heldMB))
		}
	case m.Usage.Valid:
		out = append(out, fmt.Sprintf("mem  %s, no limit", words.Bytes(usage)), fmt.Sprintf("     anon %s · file %s", words.Bytes(anon), words.Bytes(file)))
	default:
		out = append(out, "mem  n/a", "")
	}

	q := quotaCores(s)
	r := s.Cgroup.CPU // its rates are inspect.Rate's, since the previous snapshot
	switch {
	case len(s.Processes) == 0 && s.Sandbox != nil && !s.Sandbox.Status.Live():
		out = append(out, "cpu  none: not running", "")
	case r.IntervalSeconds <= 0:
		out = append(out, "cpu  n/a (needs two snapshots)", "")
	case q > 0:
		out = append(out, "cpu  "+cpuBar(st, r.PercentOfQuota, bw)+fmt.Sprintf(" %3.0f%%", r.PercentOfQuota))
		line := fmt.Sprintf("     %.2f of %.2f cores", r.CoresUsed, q)
		if r.PeriodsDelta > 0 {
			line += fmt.Sprintf(" · throttled %d/%d periods", r.ThrottledDelta, r.PeriodsDelta)
		}
		if r.ThrottledDelta > 0 {
			line = st.Warn.Render(line)
		}
		out = append(out, line)
	default:
		out = append(out, "cpu  "+cpuBar(st, r.CoresUsed*100, bw)+fmt.Sprintf(" %3.0f%%", r.CoresUsed*100), fmt.Sprintf("     %.2f cores, no quota (bar: one core)", r.CoresUsed))
	}

	var extra []string
	if p := s.Cgroup.Pids; p.Current.Valid {
		if p.Limit.Valid {
			extra = append(extra, fmt.Sprintf("pids %d of %d", p.Current.Value, p.Limit.Value))
		} else {
			extra = append(extra, fmt.Sprintf("pids %d (no limit)", p.Current.Value))
		}
	}
	if m.OOMKills.Valid {
		extra = append(extra, fmt.Sprintf("oom_kill %d", m.OOMKills.Value))
	}
	if c := s.Cgroup.CPU; c.Throttled.Valid {
		t := fmt.Sprintf("throttled %d periods in all", c.Throttled.Value)
		if c.ThrottledNS.Valid {
			t += fmt.Sprintf(" (%.1f s)", float64(c.ThrottledNS.Value)/1e9)
		}
		extra = append(extra, t)
	}
	out = append(out, strings.Join(extra, " · "))
	if b.record().Engine != "" {
		// Another engine may put a container at different paths in
		// different v1 hierarchies: name each.
		for _, g := range inspect.ControllerPaths(s.Cgroup) {
			out = append(out, st.Dim.Render(cut("cgroup "+g.Path+" ("+strings.Join(g.Controllers, " ")+")", w)))
		}
	}

	sw := max(w-5-4, 1)
	memMax := float64(limit)
	out = append(out, "mem  "+st.Anon.Render(sparkline(b.mem.values(), len(b.mem.buf), sw, memMax))+st.Dim.Render(" 1m"))
	cpuMax := q
	if cpuMax <= 0 {
		cpuMax = 1
	}
	out = append(out, "cpu  "+st.CPU.Render(sparkline(b.cpu.values(), len(b.cpu.buf), sw, cpuMax))+st.Dim.Render(" 1m"))
	return out
}
