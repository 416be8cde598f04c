package ui

import (
	"fmt"
	"strings"
	"time"

	"glassbox/sandbox/state"
)

// stateWord is a sandbox's state as the header shows it: the OOM kill
// spelled out, because it is the one state a student must not miss.
func stateWord(sb *state.Sandbox) string {
	switch {
	case sb.Status == state.Exited && sb.Exit != nil && sb.Exit.OOMKilled:
		return fmt.Sprintf("OOMKilled (exit %d)", sb.Exit.Code)
	case sb.Status == state.Exited && sb.Exit != nil && sb.Exit.Signal != "":
		return fmt.Sprintf("exited (%s, exit %d)", sb.Exit.Signal, sb.Exit.Code)
	case sb.Status == state.Exited && sb.Exit != nil:
		return fmt.Sprintf("exited (exit %d)", sb.Exit.Code)
	case sb.Status == "":
		return "unknown"
	default:
		return string(sb.Status)
	}
}

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

func ports(ps []state.Port) string {
	if len(ps) == 0 {
		return "none"
	}
	var out []string
	for _, p := range ps {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		proto := p.Proto
		if proto == "" {
			proto = "tcp"
		}
		via := ""
		switch p.Via {
		case state.ViaKernel:
			via = " (DNAT)" // an nftables rule: nft list table ip glassbox-<id>
		case state.ViaProxy:
			via = " (proxy)"
		}
		out = append(out, fmt.Sprintf("%s:%d→%d/%s%s", ip, p.HostPort, p.ContainerPort, proto, via))
	}
	return strings.Join(out, " ")
}

func limits(sb *state.Sandbox) string {
	l := sb.Limits
	mem, cpu, pids := "no limit", "no limit", "no limit"
	if l.MemoryBytes > 0 {
		mem = bytesIEC(l.MemoryBytes)
	}
	if l.CPUs > 0 {
		cpu = fmt.Sprintf("%.2f", l.CPUs)
	} else if l.CPUQuotaUS > 0 && l.CPUPeriodUS > 0 {
		cpu = fmt.Sprintf("%.2f", float64(l.CPUQuotaUS)/float64(l.CPUPeriodUS))
	}
	if l.PidsLimit > 0 {
		pids = fmt.Sprint(l.PidsLimit)
	}
	return fmt.Sprintf("memory %s · cpus %s · pids %s", mem, cpu, pids)
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
	if sb.Status == state.Running || sb.Status == state.Paused {
		if !sb.Started.IsZero() {
			up = "up " + duration(now.Sub(sb.Started))
		}
	} else if sb.Exit != nil && !sb.Exit.FinishedAt.IsZero() {
		up = "ended " + duration(now.Sub(sb.Exit.FinishedAt)) + " ago"
	}
	image := sb.Image
	if image == "" {
		image = "?"
	}
	l1 := st.Title.Render("glassbox ▸ "+b.name) + "  " + st.stateStyle(sb)(strings.ToUpper(stateWord(sb))) +
		"  " + health + "  " + up + "  " + st.Label.Render("image ") + image + "  " + st.Label.Render("id ") + sb.ID
	restart := fmt.Sprintf("restart %s (%d)", policy(sb), sb.RestartCount)
	l2 := st.Label.Render("ports ") + ports(sb.Network.Ports) + "  " + st.Label.Render("limits ") + limits(sb) + "  " + restart
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
