package inspect

import (
	"testing"
	"time"

	"glassbox/sandbox/state"
)

func TestContainerRefs(t *testing.T) {
	long := "68d40bea7e1e4e0ff380bd986ded90d733bb0da3e3ffa3fa63cf26c2a0612f1d"
	for _, c := range []struct {
		c     Container
		ref   string
		short string
		match []string
		not   []string
	}{
		{Container{Engine: EngineDocker, ID: long, Name: "dcalc"}, "docker:dcalc", "68d40bea7e1e",
			[]string{"docker:dcalc", "docker:68d4", "docker:" + long}, []string{"dcalc", "docker:68d", "podman:dcalc", "runc:dcalc"}},
		{Container{Engine: EngineKubernetes, Namespace: "k8s.io", ID: "ctr1", Name: "calc", Pod: &Pod{Namespace: "shop", Name: "web-0", Container: "calc"}},
			"k8s:shop/web-0/calc", "ctr1", []string{"k8s:shop/web-0/calc", "containerd:k8s.io/ctr1"}, []string{"k8s:shop/web-1/calc", "containerd:default/ctr1"}},
		{Container{Engine: EngineContainerd, Namespace: "default", ID: "glassbox-test-ctr"}, "containerd:default/glassbox-test-ctr", "glassbox-test-ctr",
			[]string{"containerd:default/glassbox-test-ctr", "containerd:default/glas"}, []string{"containerd:moby/glassbox-test-ctr"}},
		{Container{Engine: EngineRunc, ID: "r1", Name: "r1"}, "runc:r1", "r1", []string{"runc:r1"}, []string{"crun:r1"}},
	} {
		if got := c.c.Ref(); got != c.ref {
			t.Errorf("Ref() = %q, want %q", got, c.ref)
		}
		if got := c.c.ShortID(); got != c.short {
			t.Errorf("%s: ShortID() = %q, want %q", c.ref, got, c.short)
		}
		for _, m := range c.match {
			if !c.c.Match(m) {
				t.Errorf("%s does not answer to %q", c.ref, m)
			}
		}
		for _, m := range c.not {
			if c.c.Match(m) {
				t.Errorf("%s answers to %q", c.ref, m)
			}
		}
	}
	if _, _, ok := ParseRef("calc"); ok {
		t.Error("a sandbox name parsed as an engine's ref")
	}
	if _, _, ok := ParseRef("lxc:web"); ok {
		t.Error("an engine glassbox does not read parsed")
	}
}

func TestContainerRecord(t *testing.T) {
	created := time.Unix(1764526800, 0)
	c := &Container{Engine: EngineRunc, ID: "r1", Name: "r1", Status: "running", PID: 4242, Created: created,
		Limits: state.Limits{MemoryBytes: 64 << 20}}
	r := c.Record()
	if r.ID != "runc:r1" || r.Name != "runc:r1" || r.Engine != "runc" || r.Status != state.Running || r.InitPID != 4242 || r.Image != "-" {
		t.Errorf("record %+v", r)
	}
	if !r.Started.Equal(created) {
		t.Errorf("a runtime's container started when it was created: %v", r.Started)
	}
	c.PID, c.Status = 0, "stopped"
	if r := c.Record(); r.Status != state.Exited || c.Running() {
		t.Errorf("a stopped container's record: %+v", r)
	}
}

func TestControllerPaths(t *testing.T) {
	c := Cgroup{
		Paths: map[string]string{"memory": "/a", "cpu": "/b", "cpuacct": "/b", "pids": "/a", "unified": "/a"},
		Dirs: map[string]string{"memory": "/sys/fs/cgroup/memory/a", "cpu": "/sys/fs/cgroup/cpu,cpuacct/b", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/b",
			"pids": "/sys/fs/cgroup/pids/a", "unified": "/sys/fs/cgroup/unified/a"},
	}
	got := ControllerPaths(c)
	if len(got) != 2 || got[0].Path != "/a" || got[1].Path != "/b" {
		t.Fatalf("groups %+v", got)
	}
	if a := got[0]; len(a.Controllers) != 3 || a.Controllers[0] != "memory" || len(a.Dirs) != 3 {
		t.Errorf("/a: %+v", a)
	}
	if b := got[1]; len(b.Controllers) != 2 || len(b.Dirs) != 1 || b.Dirs[0] != "/sys/fs/cgroup/cpu,cpuacct/b" {
		t.Errorf("/b: %+v", b)
	}
}
