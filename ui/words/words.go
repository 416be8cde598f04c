// Package words says things for people: the one place where a byte count, an
// exit, a published port, a limit or a sandbox's status becomes text. `ps`,
// `inspect`, `top --once` and the live UI all word through it, so the same
// sandbox reads the same everywhere. inspect only reads and computes; the
// runtime only records.
//
// An exit's words are state.Exit.String ("Exited (137, SIGKILL,
// OOMKilled)"): the supervisor's log says them too, and the runtime may not
// import this package. Everything else is here.
package words

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"

	"glassbox/sandbox/state"
)

// iec are the binary units, as limits are given (256m is 256 MiB).
var iec = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}

// Bytes is a byte count in binary units, to four significant digits:
// "512 B", "21.44 MiB", "256 MiB", "1.5 GiB".
func Bytes(n int64) string {
	return units.CustomSize("%.4g %s", float64(n), 1024, iec)
}

// Exit is an exit in words (state.Exit.String): "Exited (137, SIGKILL,
// OOMKilled)".
func Exit(e *state.Exit) string { return e.String() }

// ExitReason is why the workload ended, beyond its code and signal, or "":
// the runtime's own diagnosis, or for an OOM kill the limit it hit.
func ExitReason(e *state.Exit, l state.Limits) string {
	switch {
	case e == nil:
		return ""
	case e.Reason != "":
		return e.Reason
	case e.OOMKilled && l.MemoryBytes > 0:
		return "killed by the OOM killer: memory limit " + Bytes(l.MemoryBytes) + " reached"
	case e.OOMKilled:
		return "killed by the OOM killer"
	}
	return ""
}

// Port is a published port as docker's ps shows it:
// "127.0.0.1:8000->8000/tcp". A port without a host address is published
// on state.DefaultHostIP.
func Port(p state.Port) string {
	ip, proto := p.HostIP, p.Proto
	if ip == "" {
		ip = state.DefaultHostIP
	}
	if proto == "" {
		proto = "tcp"
	}
	host := ip + ":" + strconv.Itoa(p.HostPort)
	if strings.Contains(ip, ":") {
		host = "[" + ip + "]:" + strconv.Itoa(p.HostPort)
	}
	return fmt.Sprintf("%s->%d/%s", host, p.ContainerPort, proto)
}

// Ports are the published ports, "127.0.0.1:8000->8000/tcp, …", or "-".
// A port the proxy carries for want of the kernel's way says why:
// "… (proxy: nftables unavailable)".
func Ports(ps []state.Port) string {
	if len(ps) == 0 {
		return "-"
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = Port(p)
		if p.ProxyReason != "" {
			out[i] += " (" + Via(p) + ")"
		}
	}
	return strings.Join(out, ", ")
}

// Via says in a word how a running sandbox's published port is carried:
// "DNAT" (an nftables rule, `nft list table ip glassbox-<id>`), "proxy"
// (the supervisor copies connections; "proxy: nftables unavailable" when
// that is why), or "" when the record does not say.
func Via(p state.Port) string {
	switch p.Via {
	case state.ViaKernel:
		return "DNAT"
	case state.ViaProxy:
		if p.ProxyReason != "" {
			return "proxy: " + p.ProxyReason
		}
		return "proxy"
	}
	return ""
}

// CPUs is a CPU limit in cores, "0.5"; "" when there is none.
func CPUs(l state.Limits) string {
	cpus := l.CPUs
	if cpus <= 0 && l.CPUQuotaUS > 0 && l.CPUPeriodUS > 0 {
		cpus = float64(l.CPUQuotaUS) / float64(l.CPUPeriodUS)
	}
	if cpus <= 0 {
		return ""
	}
	return strconv.FormatFloat(cpus, 'f', -1, 64)
}

// Limits are a sandbox's limits: "memory 256 MiB, cpus 0.5, pids 100",
// or "no limits".
func Limits(l state.Limits) string {
	var parts []string
	if l.MemoryBytes > 0 {
		parts = append(parts, "memory "+Bytes(l.MemoryBytes))
	}
	if c := CPUs(l); c != "" {
		parts = append(parts, "cpus "+c)
	}
	if l.PidsLimit > 0 {
		parts = append(parts, "pids "+strconv.FormatInt(l.PidsLimit, 10))
	}
	if len(parts) == 0 {
		return "no limits"
	}
	return strings.Join(parts, ", ")
}

// State is a sandbox's state in a few words: "running", "paused",
// "created", or how it exited ("Exited (137, SIGKILL, OOMKilled)").
func State(sb *state.Sandbox) string {
	switch {
	case sb.Status == state.Exited && sb.Exit != nil:
		return sb.Exit.String()
	case sb.Status == "":
		return "unknown"
	}
	return string(sb.Status)
}

// Policy is the restart policy, "no" when none was given.
func Policy(sb *state.Sandbox) string {
	if sb.Restart == "" {
		return "no"
	}
	return sb.Restart
}

// Restarts is ps's RESTARTS column: the count and, when there were
// restarts, the exit the last one answered — a sandbox the restart policy
// brought back shows "Up …" like any other, and an OOM kill must not be
// lost from view: "2 (last after Exited (137, SIGKILL, OOMKilled))".
func Restarts(sb *state.Sandbox) string {
	s := strconv.Itoa(sb.RestartCount)
	if sb.RestartCount == 0 || sb.RestartedAfter == nil {
		return s
	}
	return s + " (last after " + sb.RestartedAfter.String() + ")"
}

// Status is docker's STATUS column: "Up 3 minutes (healthy)", "Up 5
// seconds (Paused)", "Exited (137, SIGKILL, OOMKilled) 2 minutes ago",
// "Created".
func Status(sb *state.Sandbox, now time.Time) string {
	switch sb.Status {
	case state.Created:
		return "Created"
	case state.Running, state.Paused:
		s := "Up " + Ago(now.Sub(sb.Started))
		if sb.Started.IsZero() {
			s = "Up"
		}
		if sb.Status == state.Paused {
			return s + " (Paused)"
		}
		switch sb.Health {
		case state.HealthStarting:
			s += " (health: starting)"
		case state.HealthHealthy, state.HealthUnhealthy:
			s += " (" + string(sb.Health) + ")"
		}
		return s
	case state.Exited:
		if sb.Exit == nil {
			return "Exited"
		}
		s := sb.Exit.String()
		if !sb.Exit.FinishedAt.IsZero() {
			s += " " + Ago(now.Sub(sb.Exit.FinishedAt)) + " ago"
		}
		return s
	case state.Removed:
		return "Removed"
	}
	return string(sb.Status)
}

// Ago is a duration in words, "3 minutes", "Less than a second".
func Ago(d time.Duration) string {
	return units.HumanDuration(max(d, 0))
}

// Span is a span of time, compactly: how long something has run, how
// long ago it ended, how long until it is killed — "42s", "5m12s",
// "3h04m", "2d07h".
func Span(d time.Duration) string {
	d = max(d, 0).Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// Seconds is a span in seconds, to a tenth: "1 s", "0.2 s", "105.6 s".
func Seconds(s float64) string {
	return strconv.FormatFloat(math.Round(s*10)/10, 'f', -1, 64) + " s"
}

// RunStarted names one run of a sandbox by when it started, "the run
// started 15:04:05": a restart (the policy's, or glassbox restart) starts
// the workload again in a fresh cgroup, whose counters (oom_kill, CPU
// time, throttling) begin again at 0, so a figure read from a cgroup
// belongs to one run.
func RunStarted(started time.Time) string {
	if started.IsZero() {
		return "an earlier run"
	}
	return "the run started " + started.Format("15:04:05")
}

// LayerNumber is how a read-only layer is called everywhere — the UI's
// stack, inspect, the Image view: #1 is the image's base, the layer built
// first; a stack listed top-most first (as lowerdir= names them) counts
// down. i is the layer's index in that top-most-first list of n.
func LayerNumber(i, n int) string { return "#" + strconv.Itoa(n-i) }

// SharedBy says which running sandboxes use a layer: "shared by 2 (calc,
// calc2)", the names cut after three; "1 (this one)" for a layer only one
// uses.
func SharedBy(n int, names []string) string {
	s := "shared by " + strconv.Itoa(n)
	if len(names) == 0 {
		return s
	}
	if n == 1 && len(names) == 1 {
		return s + " (" + names[0] + " only)"
	}
	shown := names
	if len(shown) > 3 {
		shown = shown[:3]
	}
	list := strings.Join(shown, ", ")
	if more := len(names) - len(shown); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return s + " (" + list + ")"
}

// InitNote says why the workload is PID 2 (or 1) in its sandbox, against
// what the course's /info example shows (process_id 1): pid is the
// workload's PID inside, 0 when unknown.
func InitNote(pid int) string {
	switch pid {
	case 1:
		return "The app is PID 1 itself (run --init=false): it must reap its children and handle SIGTERM, " +
			"since the kernel gives PID 1 no default signal actions; its /info says process_id 1, as in the course."
	case 0:
		return "glassbox's init is PID 1 and starts the app as PID 2 (run --init=false makes the app PID 1)."
	}
	return fmt.Sprintf("The app is PID %d, not 1: glassbox's init is PID 1 (it reaps zombies and passes signals on) "+
		"and starts it, so the calculator's /info says process_id %d where the course's example, run without an init, says 1; "+
		"glassbox run --init=false makes the app PID 1.", pid, pid)
}

// NoAnswerAfterOOM tells a request to a workload that the OOM killer ended
// while it was answering: what was asked, and why it got no answer.
func NoAnswerAfterOOM(what, name string) string {
	return what + " got no answer: the OOM killer ended " + name + "'s workload mid-request (exit 137)"
}

// StopEnded says how a stop ended: sig is the signal that ended the
// workload (as the engine reports it), grace the grace period it had,
// took how long the stop took.
func StopEnded(sig string, grace, took time.Duration) string {
	switch sig {
	case "SIGKILL":
		return fmt.Sprintf("stopped: no exit within the grace period (%s), so SIGKILL ended it after %s (exit 137)", grace, Seconds(took.Seconds()))
	case "SIGTERM":
		return fmt.Sprintf("stopped: it exited on SIGTERM after %s, within the grace period (%s)", Seconds(took.Seconds()), grace)
	}
	return "stopped, ended by " + sig
}

// ShellEnded is the end of the shell the UI opened in a sandbox: "shell
// (glassbox exec -it calc sh) ended", with its exit status when that was
// not 0 (code <= 0: none to tell) — 127, docker's "not found", most likely
// means the image has no sh.
func ShellEnded(name string, code int) string {
	s := "shell (glassbox exec -it " + name + " sh) ended"
	switch {
	case code == 127:
		return s + ": exit 127 (no sh in this image?)"
	case code > 0:
		return s + ": exit " + strconv.Itoa(code)
	}
	return s
}

// IgnoresTERM is the answer to the key that makes the calculator deaf to
// SIGTERM: what a stop will now show.
func IgnoresTERM(grace time.Duration) string {
	return fmt.Sprintf("the calculator now ignores SIGTERM: s sends it, waits out the grace period (%s), then SIGKILL", grace)
}

// StartAgain is what the R key says it does to a sandbox: a stopped one
// starts again as glassbox start (docker start) starts it — the same
// writable layer, a fresh cgroup and PID 1; a running or paused one
// restarts as glassbox restart does — SIGTERM, up to its grace period,
// then a fresh start. doing is said while it happens, done after.
func StartAgain(stopped bool, grace time.Duration) (doing, done string) {
	if stopped {
		return "starting it again (glassbox start)…", "started again (glassbox start): the same writable layer, a fresh cgroup and PID 1"
	}
	return fmt.Sprintf("restarting it (glassbox restart): SIGTERM, up to %s of grace, then a fresh start…", grace),
		"restarted (glassbox restart): stopped, then started again with a fresh cgroup and PID 1"
}

// LogViewTitle says what the live view's log shows: the workload's output,
// whether it follows, and the supervisor's health polls it hides. Brief
// leaves out what the view's frame already says (its stdout and stderr),
// for a narrow screen: the key that shows the polls stays.
func LogViewTitle(hidden int, showPolls, follow, brief bool) string {
	s := "its stdout and stderr, followed live"
	if !follow {
		s = "its stdout and stderr, scrolled back (G follows again)"
	}
	if brief {
		s = strings.TrimPrefix(s, "its stdout and stderr, ")
	}
	switch {
	case showPolls:
		s += " · the supervisor's /health polls shown (H hides them)"
	case hidden > 0:
		s += fmt.Sprintf(" · %d /health %s by the supervisor hidden (H shows them)", hidden, pluralWord(hidden, "poll", "polls"))
	}
	return s
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
