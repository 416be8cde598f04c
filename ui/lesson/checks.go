package lesson

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/state"
	"glassbox/ui"
	"glassbox/ui/words"
)

// A check says whether a step is done, over real state: what the screen
// shows (its snapshots, records and events: ui.Seen) and what the World
// reads (the store, layers, logs, images, HTTP). It is polled until it
// holds; it may also say the student did something else (Failed), and
// then what.

// Ctx is what a check reads.
type Ctx struct {
	Args []string // with the session's values filled in
	// List is the store's listing, as of this look; Seen what the screen
	// shows (its snapshots may be a refresh behind).
	List  []*state.Sandbox
	Seen  ui.Seen
	World World
	Sess  *Session
	Since time.Time // when the step began
	Now   time.Time
	// Notes are what Begin noted when the step began (a baseline).
	Notes map[string]string
}

// Verdict is a check's answer: Waiting (with why), Done (with what it
// saw: the answer to the step's question), or Failed (what happened instead).
type Verdict struct {
	State ui.GuideState
	Say   string
}

func waiting(f string, a ...any) Verdict {
	return Verdict{State: ui.GuideWaiting, Say: fmt.Sprintf(f, a...)}
}
func done(f string, a ...any) Verdict { return Verdict{State: ui.GuideDone, Say: fmt.Sprintf(f, a...)} }
func failed(f string, a ...any) Verdict {
	return Verdict{State: ui.GuideFailed, Say: fmt.Sprintf(f, a...)}
}

// Check is one named check.
type Check struct {
	Args  int    // how many arguments it takes
	About string // what it checks, for the README's list
	// Begin, when set, notes a baseline as the step begins.
	Begin func(c *Ctx) error
	Test  func(c *Ctx) Verdict
}

// checks are every check, by name.
var checks = map[string]Check{}

func register(name string, c Check) { checks[name] = c }

// CheckNames lists the checks, sorted.
func CheckNames() []string {
	var out []string
	for n := range checks {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// CheckDoc is a check's description.
func CheckDoc(name string) string { return checks[name].About }

// box is the lesson's sandbox of that name (the store's record, with the
// screen's last snapshot of it), or a verdict to wait with. A sandbox the
// lesson removed may linger on screen until the next refresh; the store
// says which one has the name now.
func (c *Ctx) box(name string) (ui.SeenBox, *Verdict) {
	sb := owned(c.Sess, c.List, name)
	if sb == nil {
		v := waiting("there is no %s yet (run the command above)", name)
		return ui.SeenBox{}, &v
	}
	b, ok := c.Seen.Box(sb.ID)
	if !ok || b.Snap == nil || b.Snap.Sandbox == nil {
		v := waiting("%s is not on screen yet", name)
		return b, &v
	}
	b.Record = sb
	return b, nil
}

// running is a sandbox on screen that runs, with its processes read.
func (c *Ctx) running(name string) (ui.SeenBox, *Verdict) {
	b, v := c.box(name)
	if v != nil {
		return b, v
	}
	if b.Record.Status != state.Running {
		v := waiting("%s is %s, not running", name, b.Record.Status)
		if b.Record.Status == state.Exited {
			v = failed("%s ended: %s", name, b.Record.Exit)
		}
		return b, &v
	}
	if len(b.Snap.Processes) == 0 {
		v := waiting("%s runs; its processes are being read", name)
		return b, &v
	}
	return b, nil
}

// ended is a sandbox on screen that has exited, with how it ended.
func (c *Ctx) ended(name string) (ui.SeenBox, *state.Exit, *Verdict) {
	b, v := c.box(name)
	if v != nil {
		return b, nil, v
	}
	if b.Record.Status != state.Exited || b.Record.Exit == nil {
		v := waiting("%s is %s", b.Name, b.Record.Status)
		return b, nil, &v
	}
	return b, b.Record.Exit, nil
}

// upperFile is what a running sandbox's writable (upper) layer holds at a
// path, and what its image layers below hold there.
func (c *Ctx) upperFile(name, path string) (b ui.SeenBox, up, low File, v *Verdict) {
	b, v = c.running(name)
	if v != nil {
		return b, up, low, v
	}
	up, err := c.World.Stat(b.ID, path, true)
	if err != nil {
		w := waiting("%v", err)
		return b, up, low, &w
	}
	low, _ = c.World.Stat(b.ID, path, false)
	return b, up, low, nil
}

// record is the lesson's sandbox of a name in the store, nil when there
// is none.
func (c *Ctx) record(name string) (*state.Sandbox, error) {
	return owned(c.Sess, c.List, name), nil
}

func namespace(s *inspect.Snapshot, kind string) (inspect.Namespace, bool) {
	for _, n := range s.Namespaces {
		if n.Kind == kind {
			return n, true
		}
	}
	return inspect.Namespace{}, false
}

func byPID(s *inspect.Snapshot, pid int) (inspect.Process, bool) {
	for _, p := range s.Processes {
		if p.SandboxPID == pid {
			return p, true
		}
	}
	return inspect.Process{}, false
}

func command(p inspect.Process) string {
	if len(p.Args) > 0 {
		return strings.Join(p.Args, " ")
	}
	return p.Command
}

func init() {
	register("running", Check{Args: 1, About: "the sandbox runs",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			return done("%s runs: %s", b.Name, words.Limits(b.Record.Limits))
		}})
	register("pid1", Check{Args: 1, About: "the sandbox has its own pid namespace: PID 1 and PID 2 inside, other PIDs outside",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			ns, ok := namespace(b.Snap, "pid")
			if !ok || !ns.Own {
				return failed("%s shares the host's pid namespace", b.Name)
			}
			one, ok1 := byPID(b.Snap, 1)
			two, ok2 := byPID(b.Snap, 2)
			if !ok1 || !ok2 {
				return waiting("%s: PID 1 and PID 2 not read yet", b.Name)
			}
			return done("inside %s, PID 1 is %s (host PID %d) and PID 2 is %s (host PID %d): one process, two numbers",
				b.Name, command(one), one.HostPID, command(two), two.HostPID)
		}})
	register("netns", Check{Args: 1, About: "the sandbox has its own network: lo and eth0 with an address of its own",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			ns, ok := namespace(b.Snap, "net")
			if !ok || !ns.Own {
				return failed("%s shares the host's network namespace", b.Name)
			}
			var lo, eth string
			for _, i := range b.Snap.Network.Interfaces {
				if len(i.Addrs) == 0 {
					continue
				}
				switch {
				case i.Name == "lo":
					lo = i.Addrs[0]
				case strings.HasPrefix(i.Name, "eth"):
					eth = i.Name + " " + i.Addrs[0]
				}
			}
			if lo == "" || eth == "" {
				return waiting("%s: its interfaces are being read", b.Name)
			}
			return done("%s's own network (net:[%d], the host's is net:[%d]): lo %s and %s, nothing of the host's",
				b.Name, ns.Inode, ns.HostInode, lo, eth)
		}})
	register("hostname", Check{Args: 2, About: "the sandbox has its own hostname (uts namespace), the one asked for",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			u := b.Snap.UTS
			ns, _ := namespace(b.Snap, "uts")
			switch {
			case !ns.Own:
				return failed("%s shares the host's uts namespace", b.Name)
			case u.Hostname == "":
				return waiting("%s: reading its hostname", b.Name)
			case u.Hostname != c.Args[1]:
				return failed("%s's hostname is %s, not %s: start it again with --hostname %s", b.Name, u.Hostname, c.Args[1], c.Args[1])
			}
			return done("inside, the hostname is %s; the host is still %s: a uts namespace of its own (uts:[%d], the host's uts:[%d])",
				u.Hostname, u.HostHostname, ns.Inode, ns.HostInode)
		}})
	register("two-pid1", Check{Args: 2, About: "two sandboxes, each with its own PID 1, the second one selected",
		Test: func(c *Ctx) Verdict {
			a, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			b, v := c.running(c.Args[1])
			if v != nil {
				return *v
			}
			pa, _ := byPID(a.Snap, 1)
			pb, _ := byPID(b.Snap, 1)
			na, _ := namespace(a.Snap, "pid")
			nb, _ := namespace(b.Snap, "pid")
			if c.Seen.Current != b.Name {
				return waiting("the screen shows %s; switch to %s", c.Seen.Current, b.Name)
			}
			return done("both have a PID 1: %s's is host PID %d in pid:[%d], %s's is host PID %d in pid:[%d]",
				a.Name, pa.HostPID, na.Inode, b.Name, pb.HostPID, nb.Inode)
		}})
}
