package engines_test

import (
	"archive/tar"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/sandboxtest"
)

// podman is a podman whose storage, runtime state and temporary files are
// all in a directory of the test's own (not the machine's
// /var/lib/containers), with runc and cgroupfs, which work on v1, hybrid
// and v2 alike. Its clean-up removes the containers, unmounts what
// containers/storage left mounted below the directory and removes it.
type podman struct {
	dir  string
	args []string
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	need(t, "podman", "conmon", "runc")
	dir := tempDir(t)
	p := &podman{dir: dir, args: []string{
		"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "runroot"),
		"--tmpdir", filepath.Join(dir, "tmp"), "--cgroup-manager", "cgroupfs",
		"--events-backend", "file", "--runtime", "runc", "--storage-driver", "overlay",
	}}
	t.Cleanup(func() {
		p.run(t, "rm", "-f", "-a", "-t", "0")
		// conmon runs podman's exit command (podman container cleanup)
		// after the container ends, on its own: it mounts the storage's
		// graph root again. Wait for every process of this podman to end.
		waitNoProcessMentioning(t, dir)
		unmountBelow(t, dir)
		if left := mountsBelow(t, dir); len(left) > 0 {
			t.Errorf("still mounted below %s: %v", dir, left)
		}
	})
	return p
}

func (p *podman) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, _, err := run(t, "podman", append(slices.Clone(p.args), args...)...)
	return strings.TrimSpace(out), err
}

func (p *podman) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mountsBelow lists the mount points below dir.
func mountsBelow(t *testing.T, dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Error(err)
		return nil
	}
	var mps []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			mps = append(mps, f[4])
		}
	}
	return mps
}

// waitNoProcessMentioning waits up to 20 s until no process has dir in its
// command line.
func waitNoProcessMentioning(t *testing.T, dir string) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		var left []string
		pids, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, f := range pids {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), dir) {
				left = append(left, f)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes of the test's podman still running: %v", left)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// unmountBelow detaches every mount below dir, deepest first.
func unmountBelow(t *testing.T, dir string) {
	mps := mountsBelow(t, dir)
	slices.SortFunc(mps, func(a, b string) int { return len(b) - len(a) })
	for _, mp := range mps {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mp, err)
		}
	}
}

// A podman container is found through conmon (its name, bundle, image from
// containers/storage), and through podman's API socket when its service
// runs (CONTAINER_HOST, as podman's remote client finds it).
func TestPodmanContainer(t *testing.T) {
	sandboxtest.RequireRoot(t)
	notInVM(t, "podman with its service")
	sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)
	name := testID("podman")
	t.Cleanup(func() { removeCgroups(t, name) }) // after podman's own clean-up
	p := newPodman(t)
	rootfs := busyboxRoot(t)
	tarball := filepath.Join(p.dir, "busybox.tar")
	f, err := os.Create(tarball)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(rootfs)); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	f.Close()
	p.must(t, "import", "--change", `CMD ["/bin/sleep","600"]`, tarball, "glassbox-test/busybox")
	// podman asks for nofile and nproc limits above what this machine
	// lets a process raise them to: ask for ones it may.
	id := p.must(t, "run", "-d", "--name", name, "--network", "none", "--memory", "64m", "--pids-limit", "77",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--cgroup-parent", "/"+name, "glassbox-test/busybox")

	ref := "podman:" + name
	ps := must(t, bin, "ps", "--engines", "--no-trunc")
	if !psHas(ps, "podman", ref) || !strings.Contains(ps, "localhost/glassbox-test/busybox:latest") {
		t.Fatalf("ps --engines does not list %s with its image:\n%s", ref, ps)
	}
	s := snapshotJSON(t, must(t, bin, "inspect", "--json", "--interval", "0", ref))
	c := s.Container
	if c == nil || c.ID != id || c.Engine != "podman" || !strings.HasPrefix(c.Bundle, p.dir) || !strings.Contains(c.Source, "conmon") {
		t.Fatalf("inspect %s: %+v", ref, c)
	}
	if c.Limits.MemoryBytes != 64<<20 || c.Limits.PidsLimit != 77 || s.Cgroup.Memory.Limit.Value != 64<<20 || s.Cgroup.Pids.Limit.Value != 77 {
		t.Errorf("limits asked %+v, held memory %+v pids %+v", c.Limits, s.Cgroup.Memory.Limit, s.Cgroup.Pids.Limit)
	}
	if s.Filesystem.RootType != "overlay" || len(s.Filesystem.Lowers) == 0 {
		t.Errorf("root %s with lowers %+v", s.Filesystem.RootType, s.Filesystem.Lowers)
	}

	// podman's service: the same container through the API.
	sock := filepath.Join(p.dir, "podman.sock")
	svc := exec.Command("podman", append(slices.Clone(p.args), "system", "service", "--time", "0", "unix://"+sock)...)
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { svc.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			svc.Process.Kill()
			<-done
		}
	})
	eventually(t, 20*time.Second, func() error { _, err := os.Stat(sock); return err })
	t.Setenv("CONTAINER_HOST", "unix://"+sock)
	s = snapshotJSON(t, must(t, bin, "inspect", "--json", "--interval", "0", ref))
	if c := s.Container; c == nil || c.ID != id || !strings.Contains(c.Source, "GET /v1.41/containers/"+id+"/json on "+sock) {
		t.Errorf("through podman's API: %+v", s.Container)
	}
	if ps := must(t, bin, "ps", "--engines", "--no-trunc"); strings.Count(ps, ref) != 1 {
		t.Errorf("listed other than once:\n%s", ps)
	}
}

// removeCgroups removes the cgroup parent a test named (podman removes its
// container's cgroup below it, not the parent), in every hierarchy.
func removeCgroups(t *testing.T, name string) {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	if d := "/sys/fs/cgroup/" + name; exists(d) {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		var sub []string
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				sub = append(sub, p)
			}
			return nil
		})
		slices.Reverse(sub)
		for _, p := range sub {
			// conmon leaves its cgroup (…/conmon) a moment after the
			// container is removed.
			var err error
			for range 50 {
				if err = os.Remove(p); err == nil || os.IsNotExist(err) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil && !os.IsNotExist(err) {
				t.Errorf("remove cgroup %s: %v", p, err)
			}
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
