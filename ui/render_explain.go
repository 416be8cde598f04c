package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"glassbox/inspect"
	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// explanations are the two or three sentences the Explain panel shows for
// the focused panel; the sources are added from the snapshot.
var explanations = map[Panel]string{
	PanelNamespaces: "A namespace is a kernel object that gives its processes their own view of one resource (PIDs, network, mounts, hostname…). " +
		"Its inode number is its identity: the sandbox and the host's PID 1 share a namespace exactly when the inodes are equal.",
	PanelProcesses: "The sandbox's processes are ordinary host processes. Its PID namespace numbers them again from 1, " +
		"so each has two PIDs: the host's and the sandbox's (the NSpid line of /proc/PID/status lists both). " +
		"RSS is a process's resident memory (VmRSS); the cgroup's total in Resources also counts the page cache and kernel memory.",
	PanelLayers: "The root filesystem is an overlay mount: read-only image layers stacked under one writable layer. " +
		"A write copies the file up into the writable layer; a delete leaves a whiteout there. The image layers stay untouched and can be shared.",
	PanelResources: "The cgroup counts every page and every CPU nanosecond of the sandbox's processes. " +
		"At the memory limit the kernel reclaims, then its OOM killer sends SIGKILL (exit 137); at the CPU quota the processes wait for the next period (throttling).",
	PanelEvents: "Events are what changed between two snapshots — state, health, restarts, the kernel's oom_kill counter — " +
		"and what this UI did (signals, stress requests).",
}

// oomExplanation is shown for Resources while the sandbox's last end was an OOM kill.
const oomExplanation = "OOM kill: a page fault needed memory, the cgroup was at its limit and reclaim freed too little, " +
	"so the kernel's OOM killer picked the process with the highest oom_score (roughly, the biggest) and sent it SIGKILL — exit 137 (128+9). " +
	"The kill is counted in oom_kill (memory.oom_control on v1, memory.events on v2)."

// joinedExplanation comes first for Processes while a process that
// entered by setns runs in the sandbox.
const joinedExplanation = "setns: a process marked setns did not start in the sandbox. glassbox exec (or a health check) opened the sandbox's namespaces " +
	"from its init's /proc/PID/ns files, joined them with setns(2) — user first, mount last — entered its cgroup, and forked: " +
	"only the child is inside the pid namespace. Its parent stayed outside, so in here its PPID is 0."

// hasJoined says whether a process of the snapshot entered by setns.
func hasJoined(s *inspect.Snapshot) bool {
	if s == nil {
		return false
	}
	for _, p := range s.Processes {
		if p.Joined {
			return true
		}
	}
	return false
}

// sources lists, for a panel, each figure and the kernel file it came from.
func sources(p Panel, s *inspect.Snapshot) [][2]string {
	if s == nil {
		return nil
	}
	var out [][2]string
	add := func(what, src string) {
		if src != "" {
			out = append(out, [2]string{what, src})
		}
	}
	val := func(what string, v inspect.Value) {
		if v.Source != "" {
			add(fmt.Sprintf("%s = %d", what, v.Value), v.Source)
		}
	}
	switch p {
	case PanelNamespaces:
		for _, k := range nsOrder {
			for _, n := range s.Namespaces {
				if n.Kind == k {
					add(fmt.Sprintf("%s %d (host %d)", k, n.Inode, n.HostInode), n.Source+" vs "+n.HostSource)
					if n.InitInode != 0 {
						add(fmt.Sprintf("%s of the init %d", k, n.InitInode), n.InitSource)
					}
				}
			}
		}
	case PanelProcesses:
		for _, pr := range s.Processes {
			what := fmt.Sprintf("PID %d = host %d, NSpid %s", pr.SandboxPID, pr.HostPID, nspid(pr.NSpid))
			if pr.Joined {
				what += fmt.Sprintf(", entered by setns: its parent, host %d, is outside", pr.PPID)
			}
			add(what, pr.Source)
			add(fmt.Sprintf("PID %d RSS %s (rss, field 24: its resident pages, status's VmRSS)", pr.SandboxPID, words.Bytes(pr.RSSBytes)), pr.StatSource)
			if pr.CPUCores != nil && pr.StatSource != "" {
				add(fmt.Sprintf("PID %d CPU %.1f%% (utime+stime, over the last %s)", pr.SandboxPID, *pr.CPUCores*100, words.Seconds(s.Cgroup.CPU.IntervalSeconds)),
					pr.StatSource+", read twice")
			}
			add(fmt.Sprintf("PID %d: Seccomp %d, Seccomp_filters %d, CapEff %s", pr.SandboxPID, pr.Seccomp, pr.SeccompFilters, pr.CapEff), pr.Source)
		}
	case PanelLayers:
		add("root mount "+s.Filesystem.RootType, s.Filesystem.Source)
		add("writable layer", s.Filesystem.Upper.Dir)
		n := len(s.Filesystem.Lowers)
		for i, l := range s.Filesystem.Lowers {
			name := words.LayerNumber(i, n)
			add("read-only layer "+name+" "+shortDigest(l.Digest), l.Dir)
			switch l.SizeSource {
			case inspect.SizeFromRecord:
				add(name+" size "+words.Bytes(l.SizeBytes), "the layer's record in the image store (measured when it was unpacked)")
			case inspect.SizeWalked:
				add(name+" size "+words.Bytes(l.SizeBytes), "a walk of "+l.Dir+" (each file once)")
			}
			if l.SharedSource != "" {
				add(name+" "+words.SharedBy(l.SharedBy, l.SharedWith), "the running sandboxes' records that list it: "+l.SharedSource)
			}
		}
	case PanelResources:
		m, c := s.Cgroup.Memory, s.Cgroup.CPU
		val("memory usage", m.Usage)
		val("memory limit", m.Limit)
		val("anon", m.Anon)
		val("file", m.File)
		val("oom_kill", m.OOMKills)
		val("cpu usage ns", c.UsageNS)
		val("cpu quota us", c.QuotaUS)
		val("cpu period us", c.PeriodUS)
		if c.IntervalSeconds > 0 && c.UsageNS.Source != "" {
			add(fmt.Sprintf("cpu %.2f cores = %.0f%% of the quota, over the last %s", c.CoresUsed, c.PercentOfQuota, words.Seconds(c.IntervalSeconds)),
				c.UsageNS.Source+": its growth between two reads, ÷ the time between them, ÷ quota/period")
		}
		val("nr_periods", c.Periods)
		val("nr_throttled", c.Throttled)
		val("throttled ns", c.ThrottledNS)
		val("pids (tasks: processes and their threads)", s.Cgroup.Pids.Current)
	case PanelEvents:
		if sb := s.Sandbox; sb != nil {
			add("status, exit, restart count", "the sandbox's state.json (written by its supervisor)")
			if sb.Health != state.HealthNone {
				add("health "+string(sb.Health), "state.json: the supervisor runs the image's HEALTHCHECK and records each change")
				if n := len(sb.HealthLog); n > 0 {
					add(words.HealthProbe(sb.HealthLog[n-1]), "state.json health_log (the last "+fmt.Sprint(n)+" probes)")
				}
			}
		}
		val("oom_kill", s.Cgroup.Memory.OOMKills)
	}
	return out
}

// explanation is a panel's sentences, with what the snapshot adds: for
// Processes, what the app's seccomp filter refuses.
func explanation(p Panel, s *inspect.Snapshot) string {
	text := explanations[p]
	if p == PanelProcesses && hasJoined(s) {
		text = joinedExplanation + " " + text
	}
	if p == PanelNamespaces && s != nil {
		for _, n := range s.Namespaces {
			if n.InitInode != 0 {
				text += fmt.Sprintf(" %s: the app is in its own (%d); glassbox's init stays in %d — unshare(CLONE_NEW%s) moves only the children of the process that calls it.",
					n.Kind, n.Inode, n.InitInode, strings.ToUpper(n.Kind))
			}
		}
	}
	if p == PanelProcesses && s != nil && s.Sandbox != nil {
		text += " " + words.InitNote(appPID(s))
	}
	if p == PanelProcesses && s != nil && s.Sandbox != nil && s.Sandbox.Security.Seccomp != "" {
		sec := s.Sandbox.Security
		if sec.Seccomp == "unconfined" {
			text += " The app's system calls reach the kernel unfiltered: no seccomp profile (--security-opt seccomp=unconfined)."
		} else {
			text += " The app's system calls pass a seccomp filter — " + words.SeccompProfile(sec)
			if b := words.SeccompBlocks(sec); b != "" {
				text += "; it " + b + " (EPERM): the ways out of a container"
			}
			text += "."
		}
		caps := make([]string, len(sec.Caps))
		for i, c := range sec.Caps {
			caps[i] = strings.ToLower(strings.TrimPrefix(c, "CAP_"))
		}
		text += fmt.Sprintf(" It keeps %d capabilities (%s); the init, which never runs the app's code, keeps the rest.", len(caps), strings.Join(caps, " "))
	}
	return text
}

// appPID is the workload's PID inside its sandbox, 0 when unknown.
func appPID(s *inspect.Snapshot) int {
	for _, p := range s.Processes {
		if s.Sandbox != nil && p.HostPID == s.Sandbox.WorkloadPID {
			return p.SandboxPID
		}
	}
	return 0
}

// renderExplain is the small panel: the sentences, then where the figures
// came from (the first few).
func renderExplain(st *Styles, p Panel, s *inspect.Snapshot, w, h int) []string {
	out := wrap(explanation(p, s), w)
	if p == PanelResources && s != nil && s.Sandbox != nil && s.Sandbox.Exit != nil && s.Sandbox.Exit.OOMKilled {
		// What just happened comes first.
		out = append(wrap(oomExplanation, w), out...)
	}
	srcs := sources(p, s)
	if len(srcs) > 0 {
		seen := map[string]bool{}
		var files []string
		for _, x := range srcs {
			if !seen[x[1]] {
				seen[x[1]] = true
				files = append(files, x[1])
			}
		}
		if p == PanelNamespaces && s != nil {
			files = []string{fmt.Sprintf("/proc/%d/ns/<kind> vs /proc/1/ns/<kind>", s.PID)}
		}
		out = append(out, st.Label.Render("read from: ")+cutLeft(files[0], w-11))
		for i, f := range files[1:] {
			if i == 2 {
				out = append(out, st.Dim.Render(fmt.Sprintf("  … %d more", len(files)-3)))
				break
			}
			out = append(out, "  "+cutLeft(f, w-2))
		}
	}
	out = append(out, st.Dim.Render("e: every figure and its file"))
	return out
}

// explainLines are the e screen's lines: the explanation and every figure
// of the focused panel with the file it was read from.
func explainLines(st *Styles, p Panel, s *inspect.Snapshot, inner int) []string {
	lines := []string{st.Title.Render("Explain: " + p.String()), ""}
	if p == PanelResources && s != nil && s.Sandbox != nil && s.Sandbox.Exit != nil && s.Sandbox.Exit.OOMKilled {
		lines = append(append(lines, wrap(oomExplanation, inner)...), "")
	}
	lines = append(lines, wrap(explanation(p, s), inner)...)
	lines = append(lines, "", st.Label.Render("figure → where it was read"))
	srcs := sources(p, s)
	for _, x := range srcs {
		lines = append(lines, "  "+cut(x[0], inner-2))
		lines = append(lines, st.Dim.Render("    "+cutLeft(x[1], inner-4)))
	}
	if s != nil && len(s.Errors) > 0 {
		lines = append(lines, "", st.Label.Render("could not read"))
		for _, e := range s.Errors {
			lines = append(lines, "  "+cut(e, inner-2))
		}
	}
	return append(lines, "", st.Dim.Render("press e or esc to close"))
}

// renderExplainFull is the e screen, scrolled to line off.
func renderExplainFull(st *Styles, p Panel, s *inspect.Snapshot, off, w, h int) string {
	return frame(st, "Explain", true, window(st, explainLines(st, p, s, w-4), off, h-2), w, h)
}

// wrap breaks text into lines of at most w cells.
func wrap(text string, w int) []string {
	if w <= 0 {
		return nil
	}
	return strings.Split(lipgloss.NewStyle().Width(w).Render(text), "\n")
}
