package ui

import (
	"fmt"
	"path"
	"strings"

	"glassbox/inspect"
	"glassbox/ui/words"
)

// renderProcesses lists the sandbox's processes with both of their PIDs: the
// host's and the one the sandbox's PID namespace gives (NSpid's last field).
func renderProcesses(st *Styles, b *box, w, h int) []string {
	if b == nil || b.snap == nil {
		return []string{st.Dim.Render("no snapshot yet")}
	}
	if len(b.snap.Processes) == 0 {
		return []string{st.Dim.Render("no processes: the sandbox is not running")}
	}
	out := processRows(st, b, true)
	sb := b.record()
	p := b.snap.Processes[len(b.snap.Processes)-1]
	joined := false
	for _, q := range b.snap.Processes {
		if q.HostPID == sb.WorkloadPID {
			p = q
		}
		joined = joined || (q.Joined && q.SandboxPID != 1 && q.HostPID != sb.WorkloadPID)
	}
	if joined {
		out = append(out, st.Accent.Render("setns: stepped in from outside (exec); its parent is not in here, PPID 0"))
	}
	out = append(out, st.Dim.Render(fmt.Sprintf("NSpid %s: one process, a PID on each side", nspid(p.NSpid))))
	out = append(out, st.Dim.Render(securityLine(p)))
	return out
}

// processRows is the table of processes, a heading and one row each: host
// PID → sandbox PID (with its role), RSS, CPU (with cpu) and the command.
func processRows(st *Styles, b *box, cpu bool) []string {
	// Host PIDs run to 7 digits; an RSS reads "21.44 MiB".
	widths := []int{8, 2, 8, 11, 7}
	head := []string{"HOST", "→", "PID", "RSS", "CPU", "COMMAND"}
	if !cpu {
		widths, head = []int{8, 2, 8, 11}, []string{"HOST", "→", "PID", "RSS", "COMMAND"}
	}
	out := []string{st.Label.Render(columns(widths, head...))}
	sb := b.record()
	for _, p := range b.snap.Processes {
		role := ""
		switch {
		case p.SandboxPID == 1:
			role = "init"
		case p.HostPID == sb.WorkloadPID && sb.WorkloadPID != 0:
			role = "app"
		case p.Joined:
			role = "setns"
		}
		cmd := strings.Join(p.Args, " ")
		if len(p.Args) > 0 {
			cmd = strings.Join(append([]string{path.Base(p.Args[0])}, p.Args[1:]...), " ")
		}
		if cmd == "" {
			cmd = p.Command
		}
		cells := []string{fmt.Sprint(p.HostPID), "→", strings.TrimSpace(fmt.Sprint(p.SandboxPID, " ", role)), words.Bytes(p.RSSBytes)}
		if cpu {
			c := "n/a"
			if p.CPUCores != nil {
				c = fmt.Sprintf("%.1f%%", *p.CPUCores*100)
			}
			cells = append(cells, c)
		}
		out = append(out, columns(widths, append(cells, cmd)...))
	}
	return out
}

// securityLine is the app's reach into the kernel in a few words: its
// seccomp mode (Seccomp: and Seccomp_filters: of /proc/PID/status) and how
// many capabilities it kept.
func securityLine(p inspect.Process) string {
	sec := "seccomp off"
	switch p.Seccomp {
	case 1:
		sec = "seccomp strict"
	case 2:
		sec = fmt.Sprintf("seccomp mode 2 (%d filter)", p.SeccompFilters)
	}
	return fmt.Sprintf("app: %s, %d caps", sec, len(p.Caps))
}

func nspid(ns []int) string {
	var s []string
	for _, n := range ns {
		s = append(s, fmt.Sprint(n))
	}
	return strings.Join(s, " ")
}
