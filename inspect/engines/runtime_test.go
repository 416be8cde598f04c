package engines

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"glassbox/sandbox/state"
)

const specWithLimits = `{"ociVersion":"1.0.2","hostname":"runc","root":{"path":"rootfs","readonly":true},
 "annotations":{"org.example/owner":"course"},
 "linux":{"cgroupsPath":"/glassbox-test/r1","resources":{"memory":{"limit":67108864},"cpu":{"quota":50000,"period":100000},"pids":{"limit":50}}}}`

func TestRuncState(t *testing.T) {
	proc := newFakeProc(t)
	proc.add(t, 4242, 52287, "/bin/sleep", "1000")
	proc.add(t, 5000, 99999, "/bin/other") // reused PID: another start time
	root, bundle := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(bundle, "config.json"), specWithLimits)
	st := func(id string, pid int) string {
		b, _ := json.Marshal(map[string]any{
			"id": id, "init_process_pid": pid, "init_process_start": 52287, "created": "2026-11-30T18:09:33.216764446Z",
			"config":       map[string]any{"rootfs": bundle + "/rootfs", "labels": []string{"bundle=" + bundle}, "hostname": "runc"},
			"cgroup_paths": map[string]string{"memory": "/sys/fs/cgroup/memory/glassbox-test/" + id},
		})
		return string(b)
	}
	writeFile(t, filepath.Join(root, "r1", "state.json"), st("r1", 4242))
	writeFile(t, filepath.Join(root, "gone", "state.json"), st("gone", 5000))
	p := nowhere(t)
	p.ProcRoot = proc.root
	p.RuntimeRoots = map[string][]string{"runc": {root}}
	f := Discover(context.Background(), p)
	if len(f.Problems) != 0 || len(f.Containers) != 2 {
		t.Fatalf("found %+v", f)
	}
	c, err := Find(f, "runc:r1")
	if err != nil {
		t.Fatal(err)
	}
	if c.PID != 4242 || c.Status != "running" || c.Bundle != bundle || c.RootFS != bundle+"/rootfs" || c.Hostname != "runc" || c.Source != filepath.Join(root, "r1", "state.json") {
		t.Errorf("r1 = %+v", c)
	}
	if want := (state.Limits{MemoryBytes: 64 << 20, CPUs: 0.5, CPUQuotaUS: 50000, CPUPeriodUS: 100000, PidsLimit: 50}); c.Limits != want {
		t.Errorf("limits %+v, want %+v", c.Limits, want)
	}
	gone, err := Find(f, "runc:gone")
	if err != nil {
		t.Fatal(err)
	}
	if gone.PID != 0 || gone.Status != "stopped" {
		t.Errorf("a container whose PID another process now has: %+v", gone)
	}
}

func TestCrunStatus(t *testing.T) {
	proc := newFakeProc(t)
	proc.add(t, 139179, 263473330, "/bin/sleep", "1000")
	root, bundle := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(root, "busybox1", "status"), `{"pid":139179,"process-start-time":263473330,"cgroup-path":"/busybox1","scope":"","rootfs":"rootfs","systemd-cgroup":false,"bundle":"`+bundle+`","created":"2021-08-29T14:34:52.000293421Z","owner":"root","detached":true}`)
	writeFile(t, filepath.Join(root, "busybox1", "config.json"), specWithLimits)
	writeFile(t, filepath.Join(root, "broken", "status"), `{"pid":`)
	p := nowhere(t)
	p.ProcRoot = proc.root
	p.RuntimeRoots = map[string][]string{"crun": {root}}
	f := Discover(context.Background(), p)
	if len(f.Containers) != 1 {
		t.Fatalf("found %+v", f.Containers)
	}
	c := f.Containers[0]
	if c.Ref() != "crun:busybox1" || c.PID != 139179 || c.Status != "running" || c.RootFS != bundle+"/rootfs" || c.Limits.MemoryBytes != 64<<20 {
		t.Errorf("busybox1 = %+v", c)
	}
	// A state file that cannot be parsed is said, not skipped silently.
	if len(f.Problems) != 1 || f.Problems[0].Engine != "crun" {
		t.Errorf("problems %+v, want the broken status file named", f.Problems)
	}
}
