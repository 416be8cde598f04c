package words

import (
	"bytes"
	"strings"
	"testing"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// Another engine's container: named by its ref and engine, what its engine
// asked for beside what the kernel holds, its bundle and root directory,
// and every cgroup path with its controllers.
func TestReportForeignContainer(t *testing.T) {
	s := fixtureSnapshot(t)
	s.Sandbox = nil
	s.Container = &inspect.Container{
		Engine: inspect.EngineKubernetes, Namespace: "k8s.io", ID: "ctr1", Name: "calc", Status: "running", PID: 4242,
		Pod:    &inspect.Pod{Namespace: "shop", Name: "web-0", Container: "calc"},
		Labels: map[string]string{"io.kubernetes.pod.name": "web-0"}, Limits: state.Limits{MemoryBytes: 48 << 20},
		Bundle: "/run/containerd/io.containerd.runtime.v2.task/k8s.io/ctr1", RootFS: "/srv/rootfs",
		Source: "containerd /run/containerd/containerd.sock",
	}
	s.Filesystem.RootType, s.Filesystem.RootSource, s.Filesystem.RootDir = "ext4", "/dev/vda", "/srv/rootfs"
	s.Cgroup.Paths = map[string]string{"memory": "/kubepods/a", "cpu": "/kubepods/b"}
	s.Cgroup.Dirs = map[string]string{"memory": "/sys/fs/cgroup/memory/kubepods/a", "cpu": "/sys/fs/cgroup/cpu/kubepods/b"}
	var out bytes.Buffer
	if err := Report(&out, s, true); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"Container k8s:shop/web-0/calc (k8s ctr1)", "read-only: glassbox does not change k8s's containers",
		"Engine (k8s; read from containerd /run/containerd/containerd.sock)", "pod: web-0 in namespace shop, container calc",
		"limits it asked for: memory 48 MiB", "bundle: /run/containerd/io.containerd.runtime.v2.task/k8s.io/ctr1",
		"io.kubernetes.pod.name=web-0",
		"root: ext4 /dev/vda, directory /srv/rootfs of it (bind-mounted as /)",
		"/kubepods/a for memory", "/sys/fs/cgroup/memory/kubepods/a", "/kubepods/b for cpu", "/sys/fs/cgroup/cpu/kubepods/b",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\nLifecycle") {
		t.Errorf("another engine's container has no glassbox lifecycle:\n%s", text)
	}
}

// A stopped one has nothing left for the kernel to show: its engine's words.
func TestReportStoppedForeignContainer(t *testing.T) {
	s := &inspect.Snapshot{Container: &inspect.Container{Engine: inspect.EngineDocker, ID: "0a1b", Name: "old", Status: "exited",
		Limits: state.Limits{MemoryBytes: 32 << 20}, Source: "GET /v1.41/containers/0a1b/json"}}
	var out bytes.Buffer
	if err := Report(&out, s, false); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"Container docker:old (docker 0a1b)", "limits it asked for: memory 32 MiB", "It is exited: no processes"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Namespaces") {
		t.Errorf("a stopped container's report shows namespaces:\n%s", text)
	}
}
