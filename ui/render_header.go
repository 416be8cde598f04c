package ui

import (
	"fmt"
	"strings"
	"time"

	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

func (st *Styles) stateStyle(sb *state.Sandbox) func(...string) string {
	switch sb.Status {
	case state.Running:
		return st.Good.Render
	case state.Paused, state.Created:
		return st.Warn.Render
	default:
		return st.Bad.Render
	}
}

// ports are the published ports, each with how it is carried while the
// sandbox runs: "127.0.0.1:8000->8000/tcp (DNAT)".
func ports(ps []state.Port) string {
	if len(ps) == 0 {
		return words.Ports(nil)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = words.Port(p)
		if via := words.Via(p); via != "" {
			out[i] += " (" + via + ")"
		}
	}
	return strings.Join(out, ", ")
}

// renderHeader is the top of the screen: the focused sandbox's identity,
// state and limits, and the row of sandboxes to switch between.
func renderHeader(st *Styles, boxes []*box, cur int, now time.Time, w int) []string {
	if len(boxes) == 0 {
		return []string{
			fit(st.Title.Render("glassbox")+"  "+st.Dim.Render("no sandbox running — press n to start one, q to quit"), w),
			fit("", w), fit("", w),
		}
	}
	b := boxes[cur]
	sb := b.record()
	health := string(sb.Health)
	if health == "" {
		health = "no healthcheck"
	}
	up := "not running"
	if sb.Status.Live() {
		if !sb.Started.IsZero() {
			up = "up " + words.Span(now.Sub(sb.Started))
		}
	} else if sb.Exit != nil && !sb.Exit.FinishedAt.IsZero() {
		up = "ended " + words.Span(now.Sub(sb.Exit.FinishedAt)) + " ago"
	}
	image := sb.Image
	if image == "" {
		image = "?"
	}
	restart := fmt.Sprintf("restart %s (%d)", words.Policy(sb), sb.RestartCount)
	if sb.Engine != "" {
		// Another engine's container: its limits are what that engine
		// set, and glassbox only reads it.
		health = sb.Engine + "'s container"
		restart = st.Warn.Render("read-only: no keys change it")
	}
	l1 := st.Title.Render("glassbox ▸ "+b.name) + "  " + st.stateStyle(sb)(words.State(sb)) +
		"  " + health + "  " + up + "  " + st.Label.Render("image ") + image + "  " + st.Label.Render("id ") + sb.ID
	l2 := st.Label.Render("ports ") + ports(sb.Network.Ports) + "  " + st.Label.Render("limits ") + words.Limits(sb.Limits) + "  " + restart
	if b.snap != nil {
		// First on the line: the end of a long line is cut on a narrow
		// terminal.
		if alarm := words.FirewallAlarm(b.snap.Network.Firewall); alarm != "" {
			l2 = st.Bad.Render(alarm+" (inspect says why)") + "  " + l2
		}
	}
	var tabs []string
	for i, o := range boxes {
		word := string(o.record().Status)
		if o.oomKilled() {
			word = "OOMKilled"
		}
		t := fmt.Sprintf("%d %s (%s)", i+1, o.name, word)
		if i == cur {
			tabs = append(tabs, st.FocusTitle.Render("▶"+t))
		} else {
			tabs = append(tabs, " "+t)
		}
	}
	l3 := st.Label.Render("sandboxes ") + strings.Join(tabs, "  ")
	if b.err != "" {
		l3 += "  " + st.Bad.Render("read error: "+b.err)
	}
	return []string{fit(l1, w), fit(l2, w), fit(l3, w)}
}
