package lesson

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"

	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// Checks of the cgroup (limits, the OOM kill, throttling, pids) and of the
// lifecycle (paused, stopped gracefully, killed after the grace period,
// restarted by its policy).

func init() {
	register("memory-limit", Check{Args: 2, About: "the sandbox's cgroup has the memory limit asked for",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			want, err := units.RAMInBytes(c.Args[1])
			if err != nil {
				return failed("bad size %q in the course: %v", c.Args[1], err)
			}
			l := b.Snap.Cgroup.Memory.Limit
			if !l.Valid || l.Value != want {
				return failed("%s's memory limit is %s, not %s: start it again with --memory %s", b.Name, limitWord(l.Valid, l.Value), words.Bytes(want), c.Args[1])
			}
			return done("%s's cgroup says %d bytes (%s), in %s: the kernel enforces it", b.Name, l.Value, words.Bytes(l.Value), l.Source)
		}})
	register("oom", Check{Args: 1, About: "the kernel's OOM killer ended the sandbox's workload: exit 137",
		Test: func(c *Ctx) Verdict {
			b, v := c.box(c.Args[0])
			if v != nil {
				return *v
			}
			sb := b.Record
			e := sb.Exit
			if e == nil {
				e = sb.RestartedAfter
			}
			kills := b.Snap.Cgroup.Memory.OOMKills
			switch {
			case e != nil && e.OOMKilled:
				return done("%s — the OOM killer sent SIGKILL at the limit; 137 = 128 + 9 (SIGKILL)", e)
			case e != nil:
				return failed("%s ended %s, not by the OOM killer: it was stopped or killed. Go back a step (backspace) to start it again", b.Name, e)
			case kills.Valid && kills.Value > 0:
				return waiting("the OOM killer struck (oom_kill %d); waiting for the exit", kills.Value)
			}
			return waiting("%s holds %s of its %s", b.Name, words.Bytes(b.Snap.Cgroup.Memory.Usage.Value), limitWord(b.Snap.Cgroup.Memory.Limit.Valid, b.Snap.Cgroup.Memory.Limit.Value))
		}})
	register("cpu-limit", Check{Args: 2, About: "the sandbox's cgroup has the CPU quota asked for",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			want, err := strconv.ParseFloat(c.Args[1], 64)
			if err != nil {
				return failed("bad CPUs %q in the course", c.Args[1])
			}
			cpu := b.Snap.Cgroup.CPU
			got := cpu.QuotaCores()
			if !cpu.QuotaUS.Valid || got < want-0.001 || got > want+0.001 {
				return failed("%s's CPU quota is %s, not %s cores: start it again with --cpus %s", b.Name, cpuWord(got), c.Args[1], c.Args[1])
			}
			return done("%d µs of CPU every %d µs period = %s cores, in %s", cpu.QuotaUS.Value, cpu.PeriodUS.Value, cpuWord(got), cpu.QuotaUS.Source)
		}})
	register("throttled", Check{Args: 1, About: "the sandbox's CPU was throttled at its quota",
		Begin: func(c *Ctx) error {
			if b, v := c.box(c.Args[0]); v == nil {
				c.Notes["throttled"] = strconv.FormatInt(b.Snap.Cgroup.CPU.Throttled.Value, 10)
			}
			return nil
		},
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			cpu := b.Snap.Cgroup.CPU
			before, _ := strconv.ParseInt(c.Notes["throttled"], 10, 64)
			if !cpu.Throttled.Valid || cpu.Throttled.Value <= before || cpu.IntervalSeconds == 0 || cpu.ThrottledDelta == 0 {
				return waiting("%s uses %s cores of its %s; not throttled yet", b.Name, cpuWord(cpu.CoresUsed), cpuWord(cpu.QuotaCores()))
			}
			return done("throttled in %d of the last %d periods (nr_throttled %d→%d): the workers wanted 2 cores and got %s — the quota",
				cpu.ThrottledDelta, cpu.PeriodsDelta, before, cpu.Throttled.Value, cpuWord(cpu.CoresUsed))
		}})
	register("pids-full", Check{Args: 1, About: "the sandbox's processes reached its pids limit and the kernel refused a fork",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			p := b.Snap.Cgroup.Pids
			if !p.Limit.Valid {
				return failed("%s has no pids limit: start it with --pids-limit", b.Name)
			}
			if !p.Refused.Valid { // a kernel without pids.events: the count alone
				if p.Current.Value < p.Limit.Value-1 {
					return waiting("%s has %d of its %d processes", b.Name, p.Current.Value, p.Limit.Value)
				}
				return done("pids.current %d of pids.max %d: the cgroup is full; a fork past it fails with EAGAIN; the processes already there run on",
					p.Current.Value, p.Limit.Value)
			}
			if p.Refused.Value == 0 {
				return waiting("%s has %d of its %d processes; no fork refused yet", b.Name, p.Current.Value, p.Limit.Value)
			}
			return done("pids.current %d of pids.max %d, and the kernel refused %d fork(s) (%s says max %d): fork failed with EAGAIN (\"can't fork\"); the processes already there run on",
				p.Current.Value, p.Limit.Value, p.Refused.Value, p.Refused.Source, p.Refused.Value)
		}})
	register("paused", Check{Args: 1, About: "the sandbox is paused: its processes frozen by the cgroup freezer",
		Test: func(c *Ctx) Verdict {
			b, v := c.box(c.Args[0])
			if v != nil {
				return *v
			}
			if b.Record.Status != state.Paused || !b.Snap.Cgroup.Frozen {
				return waiting("%s is %s", b.Name, b.Record.Status)
			}
			return done("%s is paused: %s says frozen; its processes hold their memory and use no CPU", b.Name, b.Snap.Cgroup.FrozenSource)
		}})
	register("stopped", Check{Args: 1, About: "the sandbox stopped gracefully on SIGTERM (exit 0, within the grace period)",
		Test: func(c *Ctx) Verdict {
			b, e, v := c.ended(c.Args[0])
			if v != nil {
				return *v
			}
			if e.Code != 0 && e.Code != 143 {
				return failed("%s ended %s, not by a graceful stop", b.Name, e)
			}
			logs, _ := c.World.Logs(b.ID)
			took := ""
			if !b.Record.Started.IsZero() {
				took = fmt.Sprintf(" after %s up", e.FinishedAt.Sub(b.Record.Started).Round(time.Millisecond))
			}
			if strings.Contains(logs, "signal received") {
				return done("%s%s: the calculator caught SIGTERM, drained its requests and exited — well inside the grace period", e, took)
			}
			return done("%s%s, on SIGTERM", e, took)
		}})
	register("killed", Check{Args: 1, About: "the sandbox ignored SIGTERM and was killed with SIGKILL when its grace period ran out",
		Test: func(c *Ctx) Verdict {
			b, e, v := c.ended(c.Args[0])
			if v != nil {
				return *v
			}
			if e.Signal != "SIGKILL" || e.OOMKilled {
				return failed("%s ended %s, not by SIGKILL at the end of its grace period", b.Name, e)
			}
			return done("%s: SIGTERM was ignored, the grace period ran out, SIGKILL cannot be: 137 = 128 + 9", e)
		}})
	register("ignores-term", Check{Args: 1, About: "the calculator has been told to ignore SIGTERM (its /stress says so)",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			if b.Record.Network.IP == "" {
				return waiting("%s has no address to ask", b.Name)
			}
			code, body, err := c.World.HTTP("GET", "http://"+b.Record.Network.IP+":8000/stress", "")
			if err != nil || code != 200 {
				return waiting("asking %s's calculator: %v", b.Name, err)
			}
			var st struct {
				SIGTERM string `json:"sigterm"`
			}
			if json.Unmarshal([]byte(body), &st) != nil || st.SIGTERM != "ignore" {
				return waiting("%s's calculator drains on SIGTERM (%s)", b.Name, orWord(st.SIGTERM, "drain"))
			}
			grace := b.Record.StopTimeout
			if grace <= 0 {
				grace = 10 * time.Second
			}
			return done("%s's calculator now ignores SIGTERM; its grace period is %s", b.Name, grace)
		}})
	register("healthy", Check{Args: 1, About: "the sandbox's health check passes",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			sb := b.Record
			if sb.Health != state.HealthHealthy {
				return waiting("%s's health: %s", b.Name, orWord(string(sb.Health), "none yet"))
			}
			last := ""
			if n := len(sb.HealthLog); n > 0 {
				last = " (last " + words.HealthProbe(sb.HealthLog[n-1]) + ")"
			}
			return done("%s is healthy%s; restart policy %s", b.Name, last, words.Policy(sb))
		}})
	register("restarted", Check{Args: 1, About: "the restart policy brought the sandbox back after it failed",
		Test: func(c *Ctx) Verdict {
			b, v := c.box(c.Args[0])
			if v != nil {
				return *v
			}
			sb := b.Record
			if sb.RestartCount == 0 || sb.RestartedAfter == nil {
				if sb.Status == state.Exited && !restarts(sb) {
					return failed("%s ended %s and its policy (%s) does not restart it", b.Name, sb.Exit, words.Policy(sb))
				}
				return waiting("%s is %s; restart count 0", b.Name, sb.Status)
			}
			if sb.Status != state.Running {
				return waiting("%s is being restarted (%s)", b.Name, sb.Status)
			}
			return done("after %s, policy %s started it again: restart count %d, running with a new PID 1 (host PID %d)",
				sb.RestartedAfter, words.Policy(sb), sb.RestartCount, sb.InitPID)
		}})
}

// restarts says whether a sandbox's restart policy starts it again after
// the exit it is in (the supervisor waits a moment first).
func restarts(sb *state.Sandbox) bool {
	switch {
	case sb.Restart == "always":
		return true
	case strings.HasPrefix(sb.Restart, "on-failure"):
		return sb.Exit == nil || sb.Exit.Code != 0
	}
	return false
}

func limitWord(valid bool, v int64) string {
	if !valid {
		return "no limit"
	}
	return words.Bytes(v)
}

func cpuWord(cores float64) string {
	if cores == 0 {
		return "no quota"
	}
	return strconv.FormatFloat(cores, 'f', 2, 64)
}
