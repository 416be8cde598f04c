package lesson

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	units "github.com/docker/go-units"

	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// Checks of building (an image, its history, the cache), of running (ports,
// environment, limits, a terminal), of the container-friendly service (logs,
// replicas) and of the kernel a sandbox shares with the host.

func init() {
	register("built", Check{Args: 2, About: "the image was built just now on a base image; which of its instructions made layers",
		Begin: func(c *Ctx) error {
			im, err := c.World.Image(c.Args[0])
			if im != nil {
				c.Notes["id"] = im.ID
			}
			return err
		},
		Test: func(c *Ctx) Verdict {
			im, err := c.World.Image(c.Args[0])
			if err != nil || im == nil {
				return waiting("no image %s yet", c.Args[0])
			}
			if im.ID == c.Notes["id"] {
				return waiting("%s is the image from before this step: build it", c.Args[0])
			}
			c.Sess.OwnImage(im.ID, c.Args[0])
			steps, err := ownSteps(c, im)
			if err != nil {
				return waiting("%v", err)
			}
			var made, none []string
			for _, h := range steps {
				if h.Empty {
					none = append(none, instruction(h.CreatedBy))
				} else {
					made = append(made, instruction(h.CreatedBy))
				}
			}
			return done("%s: %s's %d layer(s) and %d more, from %s; no layer from %s — they change only the configuration",
				shortID(im.ID), c.Args[1], len(im.Layers)-len(made), len(made), strings.Join(made, ", "), strings.Join(none, ", "))
		}})
	register("history", Check{Args: 2, About: "the image's history has steps that made no layer (0 B)",
		Test: func(c *Ctx) Verdict {
			im, err := c.World.Image(c.Args[0])
			if err != nil || im == nil {
				return waiting("no image %s", c.Args[0])
			}
			steps, err := ownSteps(c, im)
			if err != nil {
				return waiting("%v", err)
			}
			var sizes []string
			for _, h := range steps {
				sizes = append(sizes, fmt.Sprintf("%s %s", instruction(h.CreatedBy), words.Bytes(h.Size)))
			}
			return done("after %s's own steps, in build order: %s", c.Args[1], strings.Join(sizes, ", "))
		}})
	register("rebuilt", Check{Args: 1, About: "the image was built again: the steps before the change came from the cache, the rest ran again",
		Begin: func(c *Ctx) error {
			im, err := c.World.Image(c.Args[0])
			if im != nil {
				c.Notes["id"], c.Notes["layers"] = im.ID, strings.Join(im.Layers, " ")
			}
			return err
		},
		Test: func(c *Ctx) Verdict {
			im, err := c.World.Image(c.Args[0])
			if err != nil || im == nil {
				return waiting("no image %s", c.Args[0])
			}
			if im.ID == c.Notes["id"] {
				return waiting("%s is still %s: build it again after the change", c.Args[0], shortID(im.ID))
			}
			c.Sess.OwnImage(im.ID, c.Args[0])
			old := strings.Fields(c.Notes["layers"])
			same := 0
			for same < len(old) && same < len(im.Layers) && old[same] == im.Layers[same] {
				same++
			}
			return done("new image %s: %d layer(s) came from the cache, %d made again — from the first step whose input changed on",
				shortID(im.ID), same, len(im.Layers)-same)
		}})
	register("images", Check{Args: 2, About: "two images share their base layers on disk",
		Test: func(c *Ctx) Verdict {
			a, err := c.World.Image(c.Args[0])
			if err != nil || a == nil {
				return waiting("no image %s", c.Args[0])
			}
			b, err := c.World.Image(c.Args[1])
			if err != nil || b == nil {
				return waiting("no image %s", c.Args[1])
			}
			shared := 0
			for _, x := range a.Layers {
				for _, y := range b.Layers {
					if x == y {
						shared++
					}
				}
			}
			return done("%s has %d layers, %s %d; %d of them are the same layer, stored once", c.Args[0], len(a.Layers), c.Args[1], len(b.Layers), shared)
		}})
	register("http", Check{Args: 2, About: "GET on 127.0.0.1:PORT PATH answers 200",
		Test: func(c *Ctx) Verdict {
			url := "http://127.0.0.1:" + c.Args[0] + c.Args[1]
			code, body, err := c.World.HTTP("GET", url, "")
			if err != nil {
				return waiting("GET %s: %v", url, err)
			}
			if code != 200 {
				return waiting("GET %s: %d", url, code)
			}
			return done("GET %s → 200 %s: the host's port %s leads into the sandbox", url, firstLine(body, 60), c.Args[0])
		}})
	register("env", Check{Args: 2, About: "the workload sees KEY=VALUE, overriding the image's ENV",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			kv := c.Args[1]
			k, _, _ := strings.Cut(kv, "=")
			got := ""
			for _, e := range b.Record.Env {
				if strings.HasPrefix(e, k+"=") {
					got = e // the last one wins, as in the process's environment
				}
			}
			if got != kv {
				return failed("%s has %s, not %s: start it again with -e %s", b.Name, orWord(got, "no "+k), kv, kv)
			}
			image := "the image sets no " + k + ": -e adds it"
			for _, e := range b.Record.ImageEnv {
				if strings.HasPrefix(e, k+"=") {
					image = "the image says " + e + ": -e wins"
				}
			}
			return done("%s has %s (%s)%s", b.Name, kv, image, workerCount(c, b.Record))
		}})
	register("limits", Check{Args: 3, About: "the sandbox's cgroup has the memory and CPU limits asked for",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			want, _ := units.RAMInBytes(c.Args[1])
			m, cpu := b.Snap.Cgroup.Memory.Limit, b.Snap.Cgroup.CPU
			if !m.Valid || m.Value != want || fmt.Sprintf("%.2f", cpu.QuotaCores()) != fmt.Sprintf("%.2f", mustFloat(c.Args[2])) {
				return failed("%s has %s and %s cores", b.Name, limitWord(m.Valid, m.Value), cpuWord(cpu.QuotaCores()))
			}
			return done("memory %s in %s; CPU %d/%d µs = %s cores in %s", words.Bytes(m.Value), m.Source, cpu.QuotaUS.Value, cpu.PeriodUS.Value, cpuWord(cpu.QuotaCores()), cpu.QuotaUS.Source)
		}})
	register("tty", Check{Args: 1, About: "the workload's standard input is a terminal of the sandbox's own",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			t, err := c.World.Terminal(b.ID)
			if err != nil {
				return waiting("%v", err)
			}
			if !strings.HasPrefix(t, "/dev/pts/") {
				return failed("%s's standard input is %s, not a terminal: -it gives it one", b.Name, t)
			}
			return done("%s's shell reads from %s, a terminal of the sandbox's own devpts: -i kept it open, -t made it a terminal", b.Name, t)
		}})
	register("log", Check{Args: 2, About: "the sandbox's log (its stdout and stderr) has a line matching a pattern",
		Test: func(c *Ctx) Verdict {
			b, v := c.box(c.Args[0])
			if v != nil {
				return *v
			}
			re, err := regexp.Compile(c.Args[1])
			if err != nil {
				return failed("bad pattern in the course: %v", err)
			}
			logs, err := c.World.Logs(b.ID)
			if err != nil {
				return waiting("%v", err)
			}
			for _, l := range strings.Split(logs, "\n") {
				if re.MatchString(l) {
					return done("%s's log: %s", b.Name, firstLine(l, 90))
				}
			}
			return waiting("nothing matching %q in %s's log yet", c.Args[1], b.Name)
		}})
	register("replicas", Check{Args: 2, About: "two replicas both answered requests (their logs say so)",
		Test: func(c *Ctx) Verdict {
			var counts []string
			for _, name := range c.Args {
				b, v := c.running(name)
				if v != nil {
					return *v
				}
				logs, err := c.World.Logs(b.ID)
				if err != nil {
					return waiting("%v", err)
				}
				n := strings.Count(logs, `"path":"/calculate"`)
				if n == 0 {
					return waiting("%s has answered no /calculate yet", name)
				}
				counts = append(counts, fmt.Sprintf("%s answered %d (as %s)", name, n, b.Snap.UTS.Hostname))
			}
			return done("%s: either can answer any request, because neither keeps state between them", strings.Join(counts, ", "))
		}})
	register("kernel", Check{Args: 1, About: "the sandbox runs on the host's kernel",
		Test: func(c *Ctx) Verdict {
			b, v := c.running(c.Args[0])
			if v != nil {
				return *v
			}
			host := c.World.Host().Kernel
			if b.Snap.UTS.KernelRelease == "" {
				return waiting("reading %s's kernel", b.Name)
			}
			if b.Snap.UTS.KernelRelease != host {
				return failed("%s reports kernel %s, the host %s", b.Name, b.Snap.UTS.KernelRelease, host)
			}
			return done("inside and out: Linux %s — one kernel, shared; the sandbox only sees less of it", host)
		}})
	register("compared", Check{Args: 0, About: "the VM vs sandbox comparison (key v) finished",
		Test: func(c *Ctx) Verdict {
			cmp := c.Seen.Compare
			switch {
			case cmp == nil || !cmp.Done:
				return waiting("the comparison has not finished")
			case cmp.Err != "":
				return failed("the comparison failed: %s", cmp.Err)
			}
			vm, _ := cmp.Figures.Get(state.SideVM, state.RowStartToHealth)
			sb, _ := cmp.Figures.Get(state.SideSandbox, state.RowStartToHealth)
			vk, _ := cmp.Figures.Get(state.SideVM, state.RowKernelRelease)
			sk, _ := cmp.Figures.Get(state.SideSandbox, state.RowKernelRelease)
			return done("the VM booted a kernel of its own (%s) and answered /health after %s; the sandbox after %s, on the host's kernel (%s)",
				orWord(vk.Text, "?"), seconds(vm.Value), seconds(sb.Value), orWord(sk.Text, "?"))
		}})
}

// ownSteps are the history steps of im after those of its base image (the
// check's second argument): the Dockerfile's own.
func ownSteps(c *Ctx, im *Image) ([]HistoryStep, error) {
	base, err := c.World.Image(c.Args[1])
	if err != nil || base == nil {
		return nil, fmt.Errorf("no base image %s", c.Args[1])
	}
	if len(base.History) > len(im.History) {
		return im.History, nil
	}
	return im.History[len(base.History):], nil
}

// workerCount asks the calculator's /info what it runs with.
func workerCount(c *Ctx, sb *state.Sandbox) string {
	if sb.Network.IP == "" {
		return ""
	}
	code, body, err := c.World.HTTP("GET", "http://"+sb.Network.IP+":8000/info", "")
	if err != nil || code != 200 {
		return ""
	}
	var info struct {
		Workers int `json:"worker_count"`
	}
	if json.Unmarshal([]byte(body), &info) != nil || info.Workers == 0 {
		return ""
	}
	return fmt.Sprintf("; its /info says worker_count %d", info.Workers)
}

// instruction is a history step's instruction word: "RUN", "COPY", …
func instruction(createdBy string) string {
	f := strings.Fields(strings.TrimPrefix(createdBy, "/bin/sh -c #(nop) "))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func seconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.0f ms", s*1000)
	}
	return fmt.Sprintf("%.2f s", s)
}

func mustFloat(s string) float64 {
	var f float64
	fmt.Sscanf(s, "%g", &f)
	return f
}
