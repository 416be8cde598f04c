package engines_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
)

// startContainerd runs a containerd of the test's own: its socket, root and
// state in a temporary directory (not the machine's /run/containerd, nor
// the containerd a test's dockerd runs), the CRI plugin off. It is stopped
// and its directory removed at cleanup; returns its socket.
func startContainerd(t *testing.T) string {
	t.Helper()
	need(t, "containerd", "ctr", "containerd-shim-runc-v2", "runc")
	dir := tempDir(t)
	sock := filepath.Join(dir, "containerd.sock")
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = ""
[metrics]
  address = ""
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc")
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		log.Close()
	})
	eventually(t, 10*time.Second, func() error {
		_, _, err := run(t, "ctr", "--address", sock, "version")
		return err
	})
	return sock
}

// ctrRun starts a container through containerd (ctr run -d) and deletes it
// (task and container) at cleanup.
func ctrRun(t *testing.T, sock, ns, id, rootfs string, args ...string) {
	t.Helper()
	t.Cleanup(func() {
		run(t, "ctr", "--address", sock, "-n", ns, "task", "kill", "-s", "SIGKILL", id)
		for range 50 {
			if _, _, err := run(t, "ctr", "--address", sock, "-n", ns, "task", "delete", id); err == nil || strings.Contains(err.Error(), "not found") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		run(t, "ctr", "--address", sock, "-n", ns, "container", "delete", id)
	})
	cmd := append([]string{"--address", sock, "-n", ns, "run", "-d", "--null-io", "--rootfs", "--cgroup", "/" + id}, args...)
	cmd = append(cmd, rootfs, id, "/bin/sleep", "600")
	startDetached(t, filepath.Join(filepath.Dir(rootfs), id+".log"), "ctr", cmd...)
}

// A container created through containerd in the k8s.io namespace with the
// labels the CRI gives a pod's container is listed by its pod, namespace
// and container names, which come from containerd's API (labels) — and
// inspect and top read it by that name.
func TestContainerdKubernetes(t *testing.T) {
	sandboxtest.RequireRoot(t)
	sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)
	sock := startContainerd(t)
	rootfs := busyboxRoot(t)
	id := testID("k8s")
	pod := "web-" + id[len(id)-4:] // unique: another test's pod must not answer to this name
	ctrRun(t, sock, "k8s.io", id, rootfs,
		"--memory-limit", fmt.Sprint(48<<20),
		"--label", "io.kubernetes.pod.name="+pod,
		"--label", "io.kubernetes.pod.namespace=shop",
		"--label", "io.kubernetes.container.name=calc",
		"--label", "io.kubernetes.pod.uid=3d5e6f70-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
		"--label", "io.cri-containerd.kind=container",
	)
	// A plain containerd container in another namespace is containerd's.
	plain := testID("ctr")
	ctrRun(t, sock, "default", plain, busyboxRoot(t))

	// A container without a task (ctr container create): no shim shows
	// it, containerd's API does (CONTAINERD_ADDRESS, as ctr finds it).
	idle := testID("idle")
	t.Cleanup(func() { run(t, "ctr", "--address", sock, "container", "delete", idle) })
	must(t, "ctr", "--address", sock, "container", "create", "--rootfs", "--label", "course=containers", rootfs, idle, "/bin/sleep", "600")
	t.Setenv("CONTAINERD_ADDRESS", sock)

	ref := "k8s:shop/" + pod + "/calc"
	if ps := must(t, bin, "ps", "-a", "--engines", "--no-trunc"); !psHas(ps, "containerd", "containerd:default/"+idle) || !strings.Contains(ps, "Created") {
		t.Errorf("ps -a --engines does not list the created containerd:default/%s:\n%s", idle, ps)
	}
	ps := must(t, bin, "ps", "--engines", "--no-trunc")
	if !psHas(ps, "k8s", ref) || !psHas(ps, "containerd", "containerd:default/"+plain) {
		t.Fatalf("ps --engines does not list %s and containerd:default/%s:\n%s", ref, plain, ps)
	}
	s := snapshotJSON(t, must(t, bin, "inspect", "--json", "--interval", "0", ref))
	c := s.Container
	if c == nil || c.Engine != "k8s" || c.Namespace != "k8s.io" || c.ID != id || c.Pod == nil {
		t.Fatalf("inspect %s: %+v", ref, c)
	}
	if p := c.Pod; p.Name != pod || p.Namespace != "shop" || p.Container != "calc" || p.UID != "3d5e6f70-1a2b-4c3d-8e9f-0a1b2c3d4e5f" {
		t.Errorf("pod %+v", p)
	}
	if c.Labels["io.kubernetes.pod.name"] != pod || !strings.Contains(c.Source, sock) {
		t.Errorf("labels %v from %s: want containerd's API's", c.Labels, c.Source)
	}
	if c.Limits.MemoryBytes != 48<<20 || s.Cgroup.Memory.Limit.Value != 48<<20 {
		t.Errorf("memory limit asked %d, held %+v", c.Limits.MemoryBytes, s.Cgroup.Memory.Limit)
	}
	if s.Filesystem.RootHostDir != rootfs {
		t.Errorf("root directory %q (%q on the host), want %q", s.Filesystem.RootDir, s.Filesystem.RootHostDir, rootfs)
	}
	text := must(t, bin, "inspect", "--interval", "0", "containerd:k8s.io/"+id)
	if !strings.Contains(text, "pod: "+pod+" in namespace shop, container calc") {
		t.Errorf("inspect containerd:k8s.io/%s:\n%s", id, text)
	}
	frame := must(t, bin, "top", "--once", ref, "containerd:default/"+plain)
	if !strings.Contains(frame, ref) || !strings.Contains(frame, "containerd:default/") {
		t.Errorf("top --once:\n%s", frame)
	}
}
