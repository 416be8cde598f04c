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
	order := []*box{boxes[cur]}
	for i, b := range boxes {
		if i != cur && b.snap != nil {
			order = append(order, b)
		}
	}
	const kindW, inoW = 7, 12
	cols := max(1, min(len(order), (w-kindW-inoW)/inoW))
	order = order[:cols]
	host := nsByKind(order[0].snap)
	if len(host) == 0 {
		return []string{st.Dim.Render("no namespaces to read: the sandbox's processes have exited"), pidOneLine(order)}
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
		out = append(out, pidOneLine(order))
		return out
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
	out = append(out, pidOneLine(order))
	return out
}

// inode prints a namespace inode; 0 means it could not be read.
func inode(n uint64) string {
	if n == 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

// pidOneLine says who PID 1 is in each sandbox: the same number inside,
// a different process on the host.
func pidOneLine(order []*box) string {
	var parts []string
	for _, b := range order {
		if b.snap != nil && b.snap.PID > 0 {
			parts = append(parts, fmt.Sprintf("%s: PID 1 = host %d", b.name, b.snap.PID))
		}
	}
	return strings.Join(parts, " · ")
}
