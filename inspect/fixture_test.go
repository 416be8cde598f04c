package inspect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/state"
)

const (
	fixtureID = "3f2a9c01b7de"
	layer1    = "/var/lib/glassbox/layers/sha256/9c1e4f0b2d7a5e3f8a6b4c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
	layer2    = "/var/lib/glassbox/layers/sha256/1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
)

func fixtureRecord() *state.Sandbox {
	return &state.Sandbox{
		ID: fixtureID, Name: "web", Image: "calculator", Hostname: "web", Status: state.Running,
		InitPID: 4242, WorkloadPID: 4251,
		Cgroup: state.Cgroup{Path: "/glassbox/" + fixtureID},
		Layers: []state.Layer{
			{Digest: "sha256:9c1e4f0b", Dir: layer1, CreatedBy: "COPY calculator /app/calculator", Size: 9 << 20},
			{Digest: "sha256:1a2b3c4d", Dir: layer2, CreatedBy: "base: /etc files", Size: 4096},
		},
		Network: state.Network{Ports: []state.Port{{HostIP: "127.0.0.1", HostPort: 8000, ContainerPort: 8000, Proto: "tcp"}}},
		Created: time.Unix(1, 0),
	}
}

// fixtureFS opens the fixture trees; the sandbox's writable layer (named by
// the fixture mountinfo) is made in a temporary host root.
func fixtureFS(t *testing.T, cgroupTree string) FS {
	t.Helper()
	fs, err := NewFS("testdata/proc", filepath.Join("testdata/cgroupfs", cgroupTree), "")
	if err != nil {
		t.Fatal(err)
	}
	host := t.TempDir()
	upper := filepath.Join(host, "var/lib/glassbox/containers", fixtureID, "upper")
	for name, content := range map[string]string{"tmp/calc.log": "result=42\n", "etc/resolv.conf": "nameserver 10.88.0.1\n"} {
		p := filepath.Join(upper, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs.HostRoot = host
	return fs
}

// fixtureStore records the fixture sandbox and a second one sharing its
// bottom layer, plus an exited one that must not count.
func fixtureStore(t *testing.T) *state.Store {
	t.Helper()
	st := state.NewStore(state.RootsAt(t.TempDir()))
	other := &state.Sandbox{ID: "aaaaaaaaaaaa", Name: "other", Status: state.Running, InitPID: 4251,
		Layers: []state.Layer{{Dir: layer2}}, Created: time.Unix(2, 0)}
	exited := &state.Sandbox{ID: "bbbbbbbbbbbb", Name: "old", Status: state.Exited, InitPID: 4242,
		Layers: []state.Layer{{Dir: layer1}, {Dir: layer2}}, Created: time.Unix(3, 0)}
	for _, sb := range []*state.Sandbox{fixtureRecord(), other, exited} {
		if err := st.Save(sb); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func fixtureSnapshot(t *testing.T, tree string) *Snapshot {
	t.Helper()
	in, err := New(fixtureFS(t, tree), fixtureRecord(), fixtureStore(t))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	s, err := in.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func vv(path string, n int64) Value { return Value{Value: n, Source: path, Valid: true} }

func TestFixtureCgroupV1(t *testing.T) {
	s := fixtureSnapshot(t, "v1")
	if len(s.Errors) > 0 {
		t.Errorf("errors: %v", s.Errors)
	}
	root := "testdata/cgroupfs/v1"
	mem := func(f string) string { return filepath.Join(root, "memory/glassbox", fixtureID, f) }
	cpu := func(f string) string { return filepath.Join(root, "cpu/glassbox", fixtureID, f) }
	c := s.Cgroup
	if c.Mode != ModeV1 || c.Path != "/glassbox/"+fixtureID || c.Dirs["memory"] != filepath.Join(root, "memory/glassbox", fixtureID) {
		t.Errorf("cgroup: mode %s path %s dirs %v", c.Mode, c.Path, c.Dirs)
	}
	want := Memory{
		Usage: vv(mem("memory.usage_in_bytes"), 21352448),
		Limit: vv(mem("memory.limit_in_bytes"), 67108864),
		Peak:  vv(mem("memory.max_usage_in_bytes"), 67108864),
		Anon:  vv(mem("memory.stat"), 143360), File: vv(mem("memory.stat"), 20975616), Shmem: vv(mem("memory.stat"), 20971520),
		Kernel:    vv(mem("memory.kmem.usage_in_bytes"), 172032),
		OOMKills:  vv(mem("memory.oom_control"), 1),
		UnderOOM:  vv(mem("memory.oom_control"), 0),
		FailCount: vv(mem("memory.failcnt"), 0),
		SwapUsage: vv(mem("memory.memsw.usage_in_bytes"), 0),
	}
	if !reflect.DeepEqual(c.Memory, want) {
		t.Errorf("memory:\n got %+v\nwant %+v", c.Memory, want)
	}
	wantCPU := CPU{
		UsageNS:     vv(filepath.Join(root, "cpuacct/glassbox", fixtureID, "cpuacct.usage"), 1560619977),
		QuotaUS:     vv(cpu("cpu.cfs_quota_us"), 50000),
		PeriodUS:    vv(cpu("cpu.cfs_period_us"), 100000),
		Periods:     vv(cpu("cpu.stat"), 34),
		Throttled:   vv(cpu("cpu.stat"), 31),
		ThrottledNS: vv(cpu("cpu.stat"), 1707979700),
	}
	if !reflect.DeepEqual(c.CPU, wantCPU) {
		t.Errorf("cpu:\n got %+v\nwant %+v", c.CPU, wantCPU)
	}
	pids := filepath.Join(root, "pids/glassbox", fixtureID)
	if c.Pids.Current != vv(pids+"/pids.current", 2) || c.Pids.Limit != vv(pids+"/pids.max", 64) || c.Pids.Refused != vv(pids+"/pids.events", 0) {
		t.Errorf("pids: %+v", c.Pids)
	}
	if c.Frozen || c.FrozenSource == "" || len(c.Pressure) != 0 {
		t.Errorf("frozen %v (%s), pressure %v", c.Frozen, c.FrozenSource, c.Pressure)
	}
}

func TestFixtureCgroupV2(t *testing.T) {
	s := fixtureSnapshot(t, "v2")
	if len(s.Errors) > 0 {
		t.Errorf("errors: %v", s.Errors)
	}
	dir := filepath.Join("testdata/cgroupfs/v2/glassbox", fixtureID)
	f := func(name string) string { return filepath.Join(dir, name) }
	c := s.Cgroup
	if c.Mode != ModeV2 || c.Dirs["unified"] != dir || len(c.Dirs) != 1 {
		t.Errorf("cgroup: mode %s dirs %v", c.Mode, c.Dirs)
	}
	want := Memory{
		Usage: vv(f("memory.current"), 24862720), Limit: vv(f("memory.max"), 268435456), Peak: vv(f("memory.peak"), 61341696),
		Anon: vv(f("memory.stat"), 12685312), File: vv(f("memory.stat"), 10981376), Shmem: vv(f("memory.stat"), 2097152),
		Kernel: vv(f("memory.stat"), 1196032),
		OOM:    vv(f("memory.events"), 2), OOMKills: vv(f("memory.events"), 1),
		SwapUsage: vv(f("memory.swap.current"), 0),
	}
	if !reflect.DeepEqual(c.Memory, want) {
		t.Errorf("memory:\n got %+v\nwant %+v", c.Memory, want)
	}
	wantCPU := CPU{
		UsageNS: vv(f("cpu.stat"), 8345120000), QuotaUS: vv(f("cpu.max"), 50000), PeriodUS: vv(f("cpu.max"), 100000),
		Periods: vv(f("cpu.stat"), 1204), Throttled: vv(f("cpu.stat"), 611), ThrottledNS: vv(f("cpu.stat"), 29840112000),
	}
	if !reflect.DeepEqual(c.CPU, wantCPU) {
		t.Errorf("cpu:\n got %+v\nwant %+v", c.CPU, wantCPU)
	}
	if c.Pids.Current != vv(f("pids.current"), 7) || c.Pids.Limit != vv(f("pids.max"), 512) || c.Pids.Refused != vv(f("pids.events"), 3) {
		t.Errorf("pids: %+v", c.Pids)
	}
	if !reflect.DeepEqual(c.Pressure, map[string]float64{"cpu": 12.55, "memory": 0.31, "io": 0}) || c.PressureSources["cpu"] != f("cpu.pressure") {
		t.Errorf("pressure %v %v", c.Pressure, c.PressureSources)
	}
	if c.Frozen || c.FrozenSource != f("cgroup.events") {
		t.Errorf("frozen %v %s", c.Frozen, c.FrozenSource)
	}
}

func TestFixtureNamespacesAndProcesses(t *testing.T) {
	s := fixtureSnapshot(t, "v1")
	own := map[string]bool{}
	for _, n := range s.Namespaces {
		own[n.Kind] = n.Own
		src := "testdata/proc/4242/ns/" + n.Kind
		if n.Kind == "time" {
			// The init unshares the time namespace for its children only:
			// the row is the workload's, and says the init's differs.
			src = "testdata/proc/4251/ns/time"
			if n.Inode != 4026532306 || n.InitInode != 4026531834 || n.InitSource != "testdata/proc/4242/ns/time" {
				t.Errorf("time: %+v, want the workload's 4026532306 and the init's 4026531834", n)
			}
		} else if n.InitInode != 0 {
			t.Errorf("%s: init and workload differ? %+v", n.Kind, n)
		}
		if n.Source != src || n.HostSource != "testdata/proc/1/ns/"+n.Kind || n.HostInode == 0 {
			t.Errorf("%s: %+v", n.Kind, n)
		}
	}
	wantOwn := map[string]bool{"cgroup": true, "ipc": true, "mnt": true, "net": true, "pid": true, "pid_for_children": true,
		"time": true, "time_for_children": true, "user": false, "uts": true}
	if !reflect.DeepEqual(own, wantOwn) {
		t.Errorf("own: %v", own)
	}
	if len(s.Processes) != 2 {
		t.Fatalf("processes: %+v", s.Processes)
	}
	init, work := s.Processes[0], s.Processes[1]
	if init.HostPID != 4242 || init.SandboxPID != 1 || !reflect.DeepEqual(init.NSpid, []int{4242, 1}) || init.PPID != 4230 ||
		init.Command != "glassbox" || !reflect.DeepEqual(init.Args, []string{"glassbox", "init", "--", "calculator"}) ||
		init.Threads != 4 || init.RSSBytes != 8192*1024 || init.CPUTime != 0.05 || init.State != "sleeping" {
		t.Errorf("init: %+v", init)
	}
	if work.HostPID != 4251 || work.SandboxPID != 2 || work.PPID != 4242 || work.CPUTime != 1.58 ||
		work.CapEff != "00000000a80425fb" || len(work.Caps) != 14 || work.Source != "testdata/proc/4251/status" ||
		work.Seccomp != 2 || work.SeccompFilters != 1 || !work.NoNewPrivs || init.Seccomp != 0 {
		t.Errorf("workload: %+v", work)
	}
}

func TestFixtureFilesystem(t *testing.T) {
	s := fixtureSnapshot(t, "v2")
	f := s.Filesystem
	if f.RootType != "overlay" || f.Source != "testdata/proc/4242/mountinfo" {
		t.Errorf("root %q from %q", f.RootType, f.Source)
	}
	if f.Upper.Dir != "/var/lib/glassbox/containers/"+fixtureID+"/upper" || f.Upper.Work != "/var/lib/glassbox/containers/"+fixtureID+"/work" {
		t.Errorf("upper %+v", f.Upper)
	}
	// tmp/, tmp/calc.log, etc/, etc/resolv.conf; 10+21 bytes
	if f.Upper.ChangedFiles != 4 || f.Upper.SizeBytes != 31 {
		t.Errorf("upper size %d in %d entries", f.Upper.SizeBytes, f.Upper.ChangedFiles)
	}
	want := []Lower{
		{Dir: layer1, Digest: "sha256:9c1e4f0b", CreatedBy: "COPY calculator /app/calculator", SizeBytes: 9 << 20, SizeSource: SizeFromRecord,
			SharedBy: 1, SharedWith: []string{"web"}},
		{Dir: layer2, Digest: "sha256:1a2b3c4d", CreatedBy: "base: /etc files", SizeBytes: 4096, SizeSource: SizeFromRecord,
			SharedBy: 2, SharedWith: []string{"web", "other"}},
	}
	for i := range f.Lowers {
		// The records counted are in the test's own state root.
		if src := f.Lowers[i].SharedSource; !strings.HasSuffix(src, "/run/sandboxes/*/state.json") {
			t.Errorf("layer %d: shared counted from %q, want the sandboxes' records", i, src)
		}
		f.Lowers[i].SharedSource = ""
	}
	if !reflect.DeepEqual(f.Lowers, want) {
		t.Errorf("lowers:\n got %+v\nwant %+v", f.Lowers, want)
	}
	masked, ro := map[string]bool{}, map[string]bool{}
	for _, m := range f.Mounts {
		masked[m.MountPoint], ro[m.MountPoint] = m.Masked, m.ReadOnly
	}
	for _, p := range []string{"/proc/kcore", "/proc/keys", "/proc/acpi", "/sys/firmware"} {
		if !masked[p] {
			t.Errorf("%s not masked", p)
		}
	}
	for _, p := range []string{"/sys", "/proc/sys", "/proc/sysrq-trigger", "/mnt/shared data"} {
		if !ro[p] || masked[p] {
			t.Errorf("%s: ro %v masked %v", p, ro[p], masked[p])
		}
	}
	if len(f.Mounts) != 14 {
		t.Errorf("%d mounts", len(f.Mounts))
	}
}

func TestFixtureNetworkAndUTS(t *testing.T) {
	s := fixtureSnapshot(t, "v1")
	want := []Interface{{Name: "lo", RxBytes: 4368, TxBytes: 4368}, {Name: "eth0", RxBytes: 1835762, TxBytes: 201733}}
	if !reflect.DeepEqual(s.Network.Interfaces, want) || s.Network.Source != "testdata/proc/4242/net/dev" {
		t.Errorf("network: %+v", s.Network)
	}
	if len(s.Network.Ports) != 1 || s.Network.Ports[0].HostPort != 8000 {
		t.Errorf("ports %+v", s.Network.Ports)
	}
	u := s.UTS
	if u.Hostname != "web" || u.Source != "sandbox record" || u.HostHostname != "vm" || u.KernelRelease != "6.18.44-fc-v782" ||
		u.KernelSource != "testdata/proc/sys/kernel/osrelease" {
		t.Errorf("uts: %+v", u)
	}
}

func TestNewRefusesDeadOrReusedPID(t *testing.T) {
	fs := fixtureFS(t, "v1")
	sb := fixtureRecord()
	sb.InitPID = 999999
	if _, err := New(fs, sb, nil); err == nil || !strings.Contains(err.Error(), "is gone") {
		t.Errorf("dead init: %v", err)
	}
	sb = fixtureRecord()
	sb.Cgroup.Path = "/glassbox/ffffffffffff"
	if _, err := New(fs, sb, nil); err == nil || !strings.Contains(err.Error(), "reused") {
		t.Errorf("reused pid: %v", err)
	}
	sb.InitPID = 0
	if _, err := New(fs, sb, nil); err == nil {
		t.Error("no init pid accepted")
	}
	if _, err := ForPID(fs, 31337); err == nil {
		t.Error("missing pid accepted")
	}
}

// A snapshot survives JSON (inspect --json) with every figure and source.
func TestSnapshotJSON(t *testing.T) {
	s := fixtureSnapshot(t, "v2")
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Errorf("JSON round trip differs:\n%s\n%s", data, again)
	}
	if back.Cgroup.Memory.OOMKills != s.Cgroup.Memory.OOMKills || back.Processes[1].NSpid[1] != 2 || back.Sandbox.Name != "web" {
		t.Errorf("decoded snapshot lost figures: %+v", back.Cgroup.Memory)
	}
}

// A process without a record (--pid): layers are measured, not looked up.
func TestFixtureForeignLayers(t *testing.T) {
	fs := fixtureFS(t, "v2")
	if err := os.MkdirAll(filepath.Join(fs.HostRoot, layer1, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fs.HostRoot, layer1, "app", "calculator"), make([]byte, 5000), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := ForPID(fs, 4242)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	s, err := in.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	want := []Lower{{Dir: layer1, SizeBytes: 5000, SizeSource: SizeWalked}, {Dir: layer2, SizeSource: SizeWalked}}
	if !reflect.DeepEqual(s.Filesystem.Lowers, want) || s.Sandbox != nil || s.UTS.Hostname != "" || !strings.HasPrefix(s.UTS.Source, "not read") {
		t.Errorf("lowers %+v, uts %+v", s.Filesystem.Lowers, s.UTS)
	}
	if len(s.Processes) != 2 || s.Cgroup.Path != "/glassbox/"+fixtureID {
		t.Errorf("processes %d, cgroup %s", len(s.Processes), s.Cgroup.Path)
	}
}

// The workload's environment is read from its /proc/PID/environ, once.
func TestFixtureEnviron(t *testing.T) {
	s := fixtureSnapshot(t, "v1")
	want := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SERVER_PORT=8000",
		"WORKER_COUNT=2", "LOG_FORMAT=json", "SHUTDOWN_TIMEOUT=10s", "HOSTNAME=web"}
	if !slices.Equal(s.Environ.Vars, want) || s.Environ.Source != "testdata/proc/4251/environ" {
		t.Errorf("environ %q from %s, want %q from the workload's (4251) environ", s.Environ.Vars, s.Environ.Source, want)
	}
}
