// Command benchstart measures glassbox's start and removal beside runc's
// and crun's, interleaved in one run (one sample of each runtime in turn,
// the same idle gap after each):
//
//   - run -d → GET /health answered inside the sandbox's network namespace
//     (polled every 250 µs from a thread that joined it), and when the CLI
//     returned;
//   - rm -f of the running sandbox (peers: delete -f);
//   - stop -t 0 then rm (peers: delete -f, their one command for both);
//   - the foreground run → /health;
//   - the start of the CLI itself, which every verb pays: glassbox version
//     (peers: --version), five samples a round.
//
// Each runtime runs the calculator with glassbox's defaults for `run
// --memory 256m --cpus 0.5 --network none`: new pid, mount, uts, ipc,
// network and cgroup namespaces, docker's capabilities and seccomp profile,
// and the very same files (the peers' root is a copy of glassbox's
// calculator image). With -lean-calculator, "crun/lean" adds the shared
// harness's peer (../shared/bench): a static calculator alone in its root,
// without seccomp.
//
// It also prints the CPU each part of a start used until /health answered
// (where the time went). Run as root by .ci/bench-startup and
// .ci/bench-lifecycle; not part of CI. Exits 1 when a peer that is
// installed could not be measured, or when no peer is installed.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
)

func main() {
	bin := flag.String("glassbox", "", "the glassbox binary")
	baseline := flag.String("baseline", "", "another glassbox binary (e.g. main's) measured interleaved beside -glassbox as \"glassbox/base\" (optional)")
	lean := flag.String("lean-calculator", "", "a static calculator build for the crun/lean peer (optional)")
	rounds := flag.Int("rounds", 10, "measured rounds (each: two detached starts and one foreground start per runtime)")
	gap := flag.Duration("gap", 100*time.Millisecond, "idle gap after each sample")
	flows := flag.String("flows", "detached,remove,foreground,cli", "what to measure: detached (run -d → /health), remove (rm -f, stop -t 0 + rm), foreground, cli (the CLI's start: version)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "usage: benchstart -glassbox BIN [-lean-calculator BIN] [-rounds N]")
		os.Exit(2)
	}
	if hybridCgroups() {
		code, run := inLegacyNS()
		if !run {
			os.Exit(code)
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		interrupted.Store(true)
	}()
	// Detached containers and supervisors are orphaned by their CLI: they
	// become this process's children, reaped between samples, instead of
	// zombies of a PID 1 that may not reap.
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	code, err := run(*bin, *baseline, *lean, *rounds, *gap, strings.Split(*flows, ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchstart:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

var interrupted atomic.Bool

var errInterrupted = errors.New("interrupted")

// sample is one start (and, for detached ones, removal) of one runtime.
type sample struct {
	returned, healthy float64 // ms from invoking the CLI
	remove            float64 // ms of the removal command(s)
	cli               float64 // ms of the version command
	cpu               []float64
	faults            []float64 // page faults, per part as cpu
}

func run(bin, baseline, lean string, rounds int, gap time.Duration, flows []string) (int, error) {
	tmp, err := os.MkdirTemp("", "glassbox-bench-start-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	rootDir := filepath.Join(tmp, "root")
	os.Setenv("GLASSBOX_ROOT", rootDir)
	logf, err := os.Create(filepath.Join(tmp, "runtimes.log"))
	if err != nil {
		return 1, err
	}
	defer logf.Close()

	for _, b := range []string{bin, baseline} {
		if err := readAfresh(b); err != nil {
			return 1, err
		}
	}
	gb := &glassbox{name: "glassbox", bin: bin, roots: state.RootsAt(rootDir), log: logf}
	// The first run builds the calculator image; the peers copy its layers.
	if _, err := gb.startDetached("bench-warm"); err != nil {
		return 1, fmt.Errorf("glassbox: %w", err)
	}
	gb.removeForce("bench-warm")
	store := image.NewStore(gb.roots)
	store.Self = bin
	im, err := store.Get(image.Builtin)
	if err != nil {
		return 1, err
	}
	base := make([]string, len(im.Layers))
	for i, l := range im.Layers {
		base[i] = l.Dir
	}
	env := append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, im.Config.Env...)

	runtimes := []peer{gb}
	if baseline != "" {
		// A root of its own: a store's built-in image is built for the
		// binary that asks for it, so two binaries sharing one would
		// rebuild it at every start of the other.
		runtimes = append(runtimes, &glassbox{name: "glassbox/base", bin: baseline, roots: state.RootsAt(rootDir + "-base"), log: logf})
	}
	missing, failed := 0, 0
	for _, name := range []string{"crun", "runc"} {
		path, err := exec.LookPath(name)
		if err != nil {
			fmt.Printf("%s: not installed, not measured\n", name)
			missing++
			continue
		}
		b := &bundle{dir: filepath.Join(tmp, name), rootfs: filepath.Join(tmp, "rootfs-image"), argv: im.Argv(), env: env, cwd: im.Config.WorkingDir}
		if _, err := os.Stat(b.rootfs); err != nil {
			if err := imageRootfs(b.rootfs, base); err != nil {
				return 1, err
			}
		}
		if err := b.write(path); err != nil {
			fmt.Printf("%s: not measured: %v\n", name, err)
			failed++
			continue
		}
		runtimes = append(runtimes, &oci{name: name, bin: path, bundle: b.dir, tmp: tmp, log: logf})
		if name == "crun" && lean != "" {
			lb := &bundle{dir: filepath.Join(tmp, "crun-lean"), rootfs: filepath.Join(tmp, "rootfs-lean"),
				argv: []string{"/app/calculator"}, env: env, cwd: "/app", bare: true}
			if err := leanRootfs(lb.rootfs, lean); err != nil {
				return 1, err
			}
			if err := lb.write(path); err != nil {
				return 1, err
			}
			runtimes = append(runtimes, &oci{name: "crun/lean", bin: path, bundle: lb.dir, tmp: tmp, log: logf})
		}
	}
	if missing == 2 && failed == 0 {
		return 1, errors.New("neither runc nor crun is installed: nothing to compare with")
	}
	fmt.Printf("kernel %s, %d CPUs, load %s, cgroups %s; %s; %s\n", uname(), numCPU(), loadavg(), cgroupWorld(),
		peerVersion("crun"), peerVersion("runc"))

	want := func(f string) bool { return slices.Contains(flows, f) }
	detached := map[string][]sample{}
	removed := map[string][]sample{}
	stopped := map[string][]sample{}
	foreground := map[string][]sample{}
	cli := map[string][]sample{}
	bad := map[string]error{}
	for r := -1; r < rounds; r++ { // round -1 warms up
		for _, flow := range []string{"detached", "remove", "foreground", "cli"} {
			if !want(flow) && !(flow == "detached" && want("remove")) {
				continue
			}
			for _, rt := range runtimes {
				if interrupted.Load() {
					return 1, errInterrupted
				}
				if bad[rt.label()] != nil {
					continue
				}
				id := fmt.Sprintf("bench-%d-%s-%d", os.Getpid(), flow, r+1)
				var s sample
				var err error
				switch flow {
				case "detached":
					if s, err = rt.startDetached(id); err == nil {
						s.remove, err = timed(func() error { return rt.removeForce(id) })
					}
				case "remove":
					if s, err = rt.startDetached(id); err == nil {
						s.remove, err = timed(func() error { return rt.stopRemove(id) })
					}
				case "foreground":
					s, err = rt.startForeground(id)
				case "cli":
					var runs []sample
					for range 5 {
						var v sample
						if v.cli, err = timed(rt.version); err != nil {
							break
						}
						runs = append(runs, v)
					}
					if err == nil && r >= 0 {
						cli[rt.label()] = append(cli[rt.label()], runs...)
					}
				}
				reapOrphans()
				if err != nil {
					rt.cleanup(id)
					bad[rt.label()] = err
					fmt.Printf("%s: not measured: %v\n", rt.label(), err)
					continue
				}
				if r >= 0 {
					switch flow {
					case "detached":
						detached[rt.label()] = append(detached[rt.label()], s)
						removed[rt.label()] = append(removed[rt.label()], sample{remove: s.remove})
					case "remove":
						detached[rt.label()] = append(detached[rt.label()], s)
						stopped[rt.label()] = append(stopped[rt.label()], sample{remove: s.remove})
					case "foreground":
						foreground[rt.label()] = append(foreground[rt.label()], s)
					}
				}
				time.Sleep(gap)
			}
		}
	}
	if bad[gb.label()] != nil {
		return 1, fmt.Errorf("glassbox: %w", bad[gb.label()])
	}
	report(runtimes, detached, removed, stopped, foreground, cli, want)
	if len(bad) > 0 || failed > 0 || missing == 2 {
		return 1, nil
	}
	return 0, nil
}

// timed runs f and returns how long it took in ms.
func timed(f func() error) (float64, error) {
	t0 := time.Now()
	err := f()
	return ms(time.Since(t0)), err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// reapOrphans reaps the exited processes this subreaper inherited; no
// exec.Cmd of this program is outstanding when it runs.
func reapOrphans() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// readAfresh drops a binary's pages from the page cache (written back
// first: a fresh build's are still dirty and would stay), so that the execs
// to come read it in as they would an installed binary. Pages a linker or
// cp wrote sit in the cache as single pages, pages read in come as large
// folios, and a page fault maps the cached pages around it as far as its
// folio goes: the same binary, copied and run beside itself, measured
// 0.78x its copy's CLI start when only the copy had just been written.
func readAfresh(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write back %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("drop %s from the page cache: %w", path, err)
	}
	return nil
}

// cpuOf is the CPU a finished command used (itself and the children it
// reaped), in ms.
func cpuOf(ps *os.ProcessState) float64 {
	return ms(ps.UserTime() + ps.SystemTime())
}

// faultsOf is the page faults a finished command took (itself and the
// children it reaped), minor and major.
func faultsOf(ps *os.ProcessState) float64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	return float64(ru.Minflt + ru.Majflt)
}

// peer is one of the runtimes measured (glassbox among them).
type peer interface {
	label() string
	startDetached(id string) (sample, error)
	removeForce(id string) error
	stopRemove(id string) error
	startForeground(id string) (sample, error)
	version() error
	cleanup(id string)
	cpuParts() []string
}

// glassbox drives the glassbox CLI.
type glassbox struct {
	name  string
	bin   string
	roots state.Roots
	log   *os.File
}

func (g *glassbox) label() string { return g.name }

func (g *glassbox) cpuParts() []string { return []string{"CLI", "supervisor", "init", "calculator"} }

func (g *glassbox) command(args ...string) *exec.Cmd {
	cmd := exec.Command(g.bin, args...)
	cmd.Env = append(os.Environ(), "GLASSBOX_ROOT="+filepath.Dir(g.roots.Lib))
	cmd.Stdout, cmd.Stderr = g.log, g.log
	return cmd
}

var runArgs = []string{"--network", "none", "--memory", "256m", "--cpus", "0.5"}

func (g *glassbox) startDetached(id string) (sample, error) {
	cmd := g.command(append(append([]string{"run", "-d", "--name", id}, runArgs...), "calculator")...)
	cmd.Stdout = nil
	t0 := time.Now()
	out, err := cmd.Output()
	returned := time.Since(t0)
	if err != nil {
		return sample{}, fmt.Errorf("run -d: %v", err)
	}
	rec, err := g.record(strings.TrimSpace(string(out)))
	if err != nil {
		return sample{}, err
	}
	if err := waitHealthy(rec.InitPID, 8000, t0.Add(10*time.Second)); err != nil {
		return sample{}, err
	}
	healthy := time.Since(t0)
	return sample{returned: ms(returned), healthy: ms(healthy), cpu: []float64{
		cpuOf(cmd.ProcessState), cpuMS(rec.SupervisorPID), cpuMS(rec.InitPID), cpuMS(rec.WorkloadPID),
	}, faults: []float64{
		faultsOf(cmd.ProcessState), faults(rec.SupervisorPID), faults(rec.InitPID), faults(rec.WorkloadPID),
	}}, nil
}

func (g *glassbox) record(id string) (*state.Sandbox, error) {
	data, err := os.ReadFile(g.roots.StateFile(id))
	if err != nil {
		return nil, err
	}
	var sb state.Sandbox
	if err := json.Unmarshal(data, &sb); err != nil {
		return nil, err
	}
	return &sb, nil
}

func (g *glassbox) version() error { return g.command("version").Run() }

func (g *glassbox) removeForce(id string) error {
	return g.command("rm", "-f", id).Run()
}

func (g *glassbox) stopRemove(id string) error {
	if err := g.command("stop", "-t", "0", id).Run(); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return g.command("rm", id).Run()
}

func (g *glassbox) startForeground(id string) (sample, error) {
	cmd := g.command(append(append([]string{"run", "--name", id}, runArgs...), "calculator")...)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	// The foreground run records its sandbox too; the init's PID is there
	// once the workload runs.
	deadline := t0.Add(10 * time.Second)
	var rec *state.Sandbox
	for rec == nil || rec.InitPID == 0 {
		if time.Now().After(deadline) {
			return sample{}, errors.New("foreground run: no record of a running sandbox")
		}
		rec = g.byName(id)
		time.Sleep(pollEvery)
	}
	if err := waitHealthy(rec.InitPID, 8000, deadline); err != nil {
		return sample{}, err
	}
	return sample{healthy: ms(time.Since(t0))}, nil
}

func (g *glassbox) byName(name string) *state.Sandbox {
	entries, _ := os.ReadDir(g.roots.SandboxesDir())
	for _, e := range entries {
		if sb, err := g.record(e.Name()); err == nil && sb.Name == name {
			return sb
		}
	}
	return nil
}

func (g *glassbox) cleanup(id string) { g.command("rm", "-f", id).Run() }

// oci drives runc or crun on a bundle.
type oci struct {
	name, bin, bundle, tmp string
	log                    *os.File
}

func (o *oci) label() string { return o.name }

func (o *oci) cpuParts() []string { return []string{"CLI", "container"} }

func (o *oci) command(args ...string) *exec.Cmd {
	cmd := exec.Command(o.bin, args...)
	// Files, not pipes: a detached container keeps what it is given.
	cmd.Stdout, cmd.Stderr = o.log, o.log
	return cmd
}

func (o *oci) pidFile(id string) string { return filepath.Join(o.tmp, id+".pid") }

func (o *oci) startDetached(id string) (sample, error) {
	cmd := o.command("run", "-d", "--pid-file", o.pidFile(id), "--bundle", o.bundle, id)
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("run -d: %v (see the log)", err)
	}
	returned := time.Since(t0)
	pid, err := readPID(o.pidFile(id))
	if err != nil {
		return sample{}, err
	}
	if err := waitHealthy(pid, 8000, t0.Add(10*time.Second)); err != nil {
		return sample{}, err
	}
	healthy := time.Since(t0)
	return sample{returned: ms(returned), healthy: ms(healthy), cpu: []float64{cpuOf(cmd.ProcessState), cpuMS(pid)},
		faults: []float64{faultsOf(cmd.ProcessState), faults(pid)}}, nil
}

func (o *oci) version() error { return o.command("--version").Run() }

func (o *oci) removeForce(id string) error {
	defer os.Remove(o.pidFile(id))
	return o.command("delete", "-f", id).Run()
}

// stopRemove: the peers stop and remove a running container in one
// command.
func (o *oci) stopRemove(id string) error { return o.removeForce(id) }

func (o *oci) startForeground(id string) (sample, error) {
	cmd := o.command("run", "--pid-file", o.pidFile(id), "--bundle", o.bundle, id)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	defer func() {
		o.command("kill", id, "TERM").Run()
		cmd.Wait()
		o.removeForce(id)
	}()
	deadline := t0.Add(10 * time.Second)
	pid, err := readPID(o.pidFile(id))
	for err != nil || pid == 0 {
		if time.Now().After(deadline) {
			return sample{}, fmt.Errorf("foreground run: no pid file: %v", err)
		}
		time.Sleep(pollEvery)
		pid, err = readPID(o.pidFile(id))
	}
	if err := waitHealthy(pid, 8000, deadline); err != nil {
		return sample{}, err
	}
	return sample{healthy: ms(time.Since(t0))}, nil
}

func (o *oci) cleanup(id string) { o.removeForce(id) }
