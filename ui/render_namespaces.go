package ui

import (
	"fmt"
	"strings"

	"glassbox/inspect"
)

// nsOrder puts the namespaces a student asks about first, so that they stay
// visible when the panel is short.
var nsOrder = []string{"pid", "net", "mnt", "uts", "ipc", "user", "cgroup", "time"}

func nsByKind(s *inspect.Snapshot) map[string]inspect.Namespace {
	m := map[string]inspect.Namespace{}
	if s != nil {
		for _, n := range s.Namespaces {
			m[n.Kind] = n
		}
	}
	return m
}

// renderNamespaces compares each namespace of the focused sandbox (and, when
// there are more and room allows, the next ones side by side) with the
// host's: the inode identifies the namespace, equal inodes mean shared.
func renderNamespaces(st *Styles, boxes []*box, cur int, w, h int) []string {
	if len(boxes) == 0 || boxes[cur].snap == nil {
		return []string{st.Dim.Render("no snapshot yet")}
	}
	// The focused sandbox, then the others: running ones first, so that
	// a dead sandbox takes a column only when there is room to spare.
	order := []*box{boxes[cur]}
	for _, live := range []bool{true, false} {
		for i, b := range boxes {
			if i != cur && b.snap != nil && b.record().Status.Live() == live {
				order = append(order, b)
			}
		}
	}
	const kindW, inoW = 7, 12
	cols := max(1, min(len(order), (w-kindW-inoW)/inoW))
	order = order[:cols]
	host := nsByKind(order[0].snap)
	if len(host) == 0 {
		return keepPIDOne(st, []string{st.Dim.Render("no namespaces to read: the sandbox's processes have exited")}, pidOneLines(order, w), h)
	}
	if cols == 1 {
		out := []string{st.Label.Render(columns([]int{kindW, inoW, inoW}, "KIND", "HOST", "SANDBOX", ""))}
		for _, k := range nsOrder {
			n, ok := host[k]
			if !ok {
				continue
			}
			word := st.Dim.Render("shared")
			switch {
			case n.Own && n.InitInode != 0:
				word = st.Good.Render("own (not init)")
			case n.Own:
				word = st.Good.Render("own")
			}
			out = append(out, columns([]int{kindW, inoW, inoW}, k, inode(n.HostInode), inode(n.Inode), word))
		}
		return keepPIDOne(st, out, pidOneLines(order, w), h)
	}
	widths := []int{kindW, inoW}
	head := []string{"KIND", "HOST"}
	for _, b := range order {
		widths = append(widths, inoW)
		head = append(head, cut(strings.ToUpper(b.name), inoW-1))
	}
	out := []string{st.Label.Render(columns(widths, head...))}
	per := make([]map[string]inspect.Namespace, len(order))
	for i, b := range order {
		per[i] = nsByKind(b.snap)
	}
	for _, k := range nsOrder {
		n, ok := host[k]
		if !ok {
			continue
		}
		cells := []string{k, inode(n.HostInode)}
		for i := range order {
			o, ok := per[i][k]
			switch {
			case !order[i].record().Status.Live():
				cells = append(cells, "ended")
			case !ok:
				cells = append(cells, "?")
			case o.Own:
				cells = append(cells, fmt.Sprint(o.Inode))
			default:
				cells = append(cells, "=host")
			}
		}
		out = append(out, columns(widths, cells...))
	}
	return keepPIDOne(st, out, pidOneLines(order, w), h)
}

// keepPIDOne puts the PID 1 lines under the table: in a panel of h lines
// (0: any height) the table gives way, never the lines that make the
// point of two sandboxes side by side.
func keepPIDOne(st *Styles, table, pid []string, h int) []string {
	if h > 0 && len(table)+len(pid) > h {
		table = clampHint(st, table, max(h-len(pid), 1), "e lists them")
	}
	return append(table, pid...)
}

// inode prints a namespace inode; 0 means it could not be read.
func inode(n uint64) string {
	if n == 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

// pidOneLines say who PID 1 is in each sandbox — the same number inside,
// a different process on the host — in lines of at most w cells.
func pidOneLines(order []*box, w int) []string {
	names := make([]string, len(order))
	for i, b := range order {
		names[i] = b.name
	}
	return joinWrapped(pidOneWords(order, names), " · ", w)
}

// pidOneWords are "NAME: PID 1 = host N" for each sandbox, labelled with
// labels; one that ended says which host process its PID 1 was.
func pidOneWords(boxes []*box, labels []string) []string {
	var parts []string
	for i, b := range boxes {
		if b == nil || b.snap == nil || b.snap.PID <= 0 {
			continue
		}
		if b.record().Status.Live() {
			parts = append(parts, fmt.Sprintf("%s: PID 1 = host %d", labels[i], b.snap.PID))
		} else {
			parts = append(parts, fmt.Sprintf("%s: PID 1 was host %d (ended)", labels[i], b.snap.PID))
		}
	}
	return parts
}

// joinWrapped joins parts with sep into lines of at most w cells, breaking
// only between parts (a part longer than w is cut).
func joinWrapped(parts []string, sep string, w int) []string {
	var out []string
	line := ""
	for _, p := range parts {
		switch {
		case line == "":
			line = p
		case len([]rune(line+sep+p)) <= w:
			line += sep + p
		default:
			out = append(out, cut(line, w))
			line = p
		}
	}
	if line != "" {
		out = append(out, cut(line, w))
	}
	return out
}
