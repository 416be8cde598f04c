package lesson

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/state"
	"glassbox/ui"
)

// t0 is the fixtures' clock.
var t0 = time.Date(2026, 11, 28, 15, 4, 5, 0, time.UTC)

// fakeWorld is a machine in memory: sandboxes that a few command lines
// create, stop and remove, and a log of what the lesson asked for.
type fakeWorld struct {
	mu       sync.Mutex
	boxes    []*state.Sandbox
	images   map[string]*Image
	progress Progress
	calls    []string
	nextPID  int
	now      func() time.Time
	needs    map[string]string // what the machine lacks, and why
	removed  []string
}

func newFakeWorld() *fakeWorld {
	return &fakeWorld{images: map[string]*Image{"busybox": {ID: "sha256:bb", Layers: []string{"l1"}}},
		nextPID: 4242, now: func() time.Time { return t0 }, needs: map[string]string{}}
}

func (w *fakeWorld) log(f string, a ...any) {
	w.calls = append(w.calls, fmt.Sprintf(f, a...))
}

var runName = regexp.MustCompile(`^glassbox run .*--name ([a-z0-9-]+)`)

// Run understands glassbox run -d/-dit --name N IMAGE, stop, rm -f; other
// lines succeed doing nothing.
func (w *fakeWorld) Run(_ context.Context, line string) (string, int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log("run %s", line)
	if m := runName.FindStringSubmatch(line); m != nil {
		image := "calculator"
		if strings.Contains(line, " busybox") {
			image = "busybox"
		}
		sb := w.add(m[1], image, line)
		if f := strings.Fields(line); len(f) > 0 {
			for i, x := range f[:len(f)-1] {
				if x == "--hostname" {
					sb.Hostname = f[i+1]
				}
			}
		}
		return "", 0, nil
	}
	if f := strings.Fields(line); len(f) == 3 && f[1] == "stop" {
		for _, sb := range w.boxes {
			if sb.Name == f[2] {
				sb.Status = state.Exited
				sb.Exit = &state.Exit{Code: 0, FinishedAt: w.now()}
			}
		}
	}
	return "", 0, nil
}

// add makes a running sandbox (the test's own: w.mu held).
func (w *fakeWorld) add(name, image, flags string) *state.Sandbox {
	id := fmt.Sprintf("%012x", 0xa0000+len(w.boxes))
	sb := &state.Sandbox{ID: id, Name: name, Image: image, Status: state.Running, InitPID: w.nextPID,
		WorkloadPID: w.nextPID + 1, Created: w.now(), Started: w.now(), Hostname: id,
		Namespaces: []string{"pid", "net", "mnt", "uts", "ipc"},
		Network:    state.Network{Mode: "bridge", IP: fmt.Sprintf("10.123.0.%d", 10+len(w.boxes))},
	}
	if strings.Contains(flags, "--memory 96m") {
		sb.Limits.MemoryBytes = 96 << 20
	}
	w.nextPID += 10
	w.boxes = append(w.boxes, sb)
	return sb
}

// Add is a sandbox made by a student's command in another terminal.
func (w *fakeWorld) Add(name, image string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.add(name, image, "")
}

// Set changes a sandbox.
func (w *fakeWorld) Set(name string, f func(*state.Sandbox)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, sb := range w.boxes {
		if sb.Name == name {
			f(sb)
		}
	}
}

func (w *fakeWorld) Calls() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.calls...)
}

func (w *fakeWorld) Sandboxes() ([]*state.Sandbox, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*state.Sandbox
	for _, sb := range w.boxes {
		c := *sb
		out = append(out, &c)
	}
	return out, nil
}

func (w *fakeWorld) Remove(id string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log("remove %s", id)
	kept := w.boxes[:0]
	for _, sb := range w.boxes {
		if sb.ID == id {
			w.removed = append(w.removed, sb.Name)
			continue
		}
		kept = append(kept, sb)
	}
	w.boxes = kept
	return nil
}

func (w *fakeWorld) Image(ref string) (*Image, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.images[ref], nil
}
func (w *fakeWorld) RemoveImage(id string) error             { return nil }
func (w *fakeWorld) Logs(id string) (string, error)          { return "", nil }
func (w *fakeWorld) Stat(string, string, bool) (File, error) { return File{}, nil }
func (w *fakeWorld) CopiedUp(string) ([]CopyUp, error)       { return nil, nil }
func (w *fakeWorld) Terminal(string) (string, error)         { return "/dev/pts/0", nil }
func (w *fakeWorld) Exists(string) bool                      { return false }
func (w *fakeWorld) MakeDir(map[string]string) (string, error) {
	return "/tmp/glassbox-lesson-test", nil
}
func (w *fakeWorld) RemoveDir(string) error { return nil }
func (w *fakeWorld) HTTP(method, url, body string) (int, string, error) {
	return 200, `{"status":"healthy"}`, nil
}
func (w *fakeWorld) Need(what string) (bool, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if why, ok := w.needs[what]; ok {
		return false, why
	}
	return true, ""
}
func (w *fakeWorld) Host() Host {
	return Host{Kernel: "6.1.0-test", Hostname: "host", CgroupMode: "v2"}
}
func (w *fakeWorld) FreePort() (int, error) { return 18000, nil }
func (w *fakeWorld) LoadProgress() (Progress, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.progress, nil
}
func (w *fakeWorld) SaveProgress(p Progress) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.progress = p
	return nil
}

// fakeSource is the screen's view of the fake world: each running sandbox
// with PID 1 and 2, namespaces of its own, lo and eth0.
type fakeSource struct{ w *fakeWorld }

func (s fakeSource) List() ([]*state.Sandbox, error) { return s.w.Sandboxes() }

func (s fakeSource) Snapshot(sb *state.Sandbox) (*inspect.Snapshot, error) {
	all, _ := s.w.Sandboxes()
	return snapshotOf(sb, s.w.now(), all), nil
}

// snapshotOf is a snapshot of a fake sandbox, among all of them (every one
// stacks the same image layer: the running ones share it).
func snapshotOf(sb *state.Sandbox, at time.Time, all []*state.Sandbox) *inspect.Snapshot {
	s := &inspect.Snapshot{Taken: at, Sandbox: sb, PID: sb.InitPID}
	if !sb.Status.Live() {
		return s
	}
	base := uint64(4026532000) + uint64(sb.InitPID)*16
	for i, k := range []string{"pid", "net", "mnt", "uts", "ipc", "user", "cgroup", "time"} {
		host := uint64(4026531830 + i)
		n := inspect.Namespace{Kind: k, Inode: host, HostInode: host, Source: fmt.Sprintf("/proc/%d/ns/%s", sb.InitPID, k)}
		if k != "user" {
			n.Inode, n.Own = base+uint64(i), true
		}
		s.Namespaces = append(s.Namespaces, n)
	}
	app := "calculator"
	if sb.Image == "busybox" {
		app = "sh"
	}
	s.Processes = []inspect.Process{
		{HostPID: sb.InitPID, SandboxPID: 1, NSpid: []int{sb.InitPID, 1}, Command: "init", Args: []string{"glassbox", "sandbox-init", "init"}, State: "S"},
		{HostPID: sb.WorkloadPID, SandboxPID: 2, NSpid: []int{sb.WorkloadPID, 2}, PPID: sb.InitPID, Command: app, Args: []string{"/app/" + app}, State: "S"},
	}
	s.Network.Interfaces = []inspect.Interface{
		{Name: "lo", Up: true, Addrs: []string{"127.0.0.1/8"}},
		{Name: "eth0", Up: true, Addrs: []string{sb.Network.IP + "/24"}},
	}
	s.UTS = inspect.UTS{Hostname: sb.Hostname, HostHostname: "host", KernelRelease: "6.1.0-test"}
	s.Filesystem = inspect.Filesystem{RootType: "overlay", Upper: inspect.Upper{Dir: "/var/lib/glassbox/containers/" + sb.ID + "/upper"},
		Lowers: []inspect.Lower{{Dir: "/var/lib/glassbox/layers/l1/fs", CreatedBy: "COPY busybox /bin/busybox", SizeBytes: 1 << 21}}}
	for _, o := range all {
		if o.Status.Live() {
			s.Filesystem.Lowers[0].SharedBy++
			s.Filesystem.Lowers[0].SharedWith = append(s.Filesystem.Lowers[0].SharedWith, o.Name)
		}
	}
	s.Cgroup.Mode = "v2"
	s.Cgroup.Memory.Usage = inspect.Value{Value: 12 << 20, Valid: true, Source: "/sys/fs/cgroup/glassbox/" + sb.ID + "/memory.current"}
	if sb.Limits.MemoryBytes > 0 {
		s.Cgroup.Memory.Limit = inspect.Value{Value: sb.Limits.MemoryBytes, Valid: true, Source: "/sys/fs/cgroup/glassbox/" + sb.ID + "/memory.max"}
	}
	return s
}

// round is one round of the fake world's snapshots, as a recording keeps it.
func (w *fakeWorld) round() ui.Entry {
	list, _ := w.Sandboxes()
	sort.Slice(list, func(i, j int) bool { return list[i].Created.Before(list[j].Created) })
	r := &ui.Round{At: w.now(), Asked: w.now(), List: list}
	for _, sb := range list {
		r.Snaps = append(r.Snaps, snapshotOf(sb, w.now(), list))
		r.Refs = append(r.Refs, sb.ID)
	}
	return ui.Entry{At: w.now(), Round: r}
}
