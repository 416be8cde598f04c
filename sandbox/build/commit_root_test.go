package build_test

import (
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
)

// diff after writing, changing and deleting files inside a sandbox lists
// exactly those, as docker would; commit of that sandbox gives an image
// whose sandboxes see the changes.
func TestDiffAndCommit(t *testing.T) {
	sandboxtest.RequireRoot(t)
	sandboxtest.TempRoots(t)
	name := "diff-" + strings.ReplaceAll(time.Now().Format("150405.000"), ".", "")
	t.Cleanup(func() { glassbox(t, "rm", "-f", name) })
	script := "echo new > /added; echo more >> /etc/group; rm /bin/vi; mkdir -p /opt/d; echo f > /opt/d/f; touch /ready; sleep 1000"
	if out, errs, code := glassbox(t, "run", "-d", "--name", name, "busybox", "sh", "-c", script); code != 0 {
		t.Fatalf("run -d: %s%s", out, errs)
	}
	deadline := time.Now().Add(30 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		out, _, _ = glassbox(t, "diff", name)
		if strings.Contains(out, "A /ready") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := "A /added\nC /bin\nD /bin/vi\nC /etc\nC /etc/group\nA /opt\nA /opt/d\nA /opt/d/f\nA /ready\n"
	if out != want {
		t.Errorf("diff:\n%s\nwant:\n%s", out, want)
	}
	id, errs, code := glassbox(t, "commit", "-m", "a snapshot", "-c", `CMD ["cat", "/added"]`, name, "snapshot:v1")
	if code != 0 || !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("commit: exit %d %q %s", code, id, errs)
	}
	if out, _, _ := glassbox(t, "run", "snapshot:v1"); out != "new\n" {
		t.Errorf("run of the committed image: %q, want its new CMD's output", out)
	}
	if out, _, _ := glassbox(t, "run", "snapshot:v1", "sh", "-c", "ls /bin/vi 2>/dev/null; tail -1 /etc/group; cat /opt/d/f"); out != "more\nf\n" {
		t.Errorf("the committed image's sandbox sees %q", out)
	}
	if hist, _, _ := glassbox(t, "history", "snapshot:v1"); !strings.Contains(hist, "glassbox commit "+name) || !strings.Contains(hist, "a snapshot") {
		t.Errorf("history lacks the commit:\n%s", hist)
	}
}

// export writes a running sandbox's merged tree (its changes and deletions
// included); import makes a one-layer image of it that runs.
func TestExportImport(t *testing.T) {
	sandboxtest.RequireRoot(t)
	hostOnly(t, "tar streams of layers, nothing of cgroup v2")
	sandboxtest.TempRoots(t)
	name := "export-" + strings.ReplaceAll(time.Now().Format("150405.000"), ".", "")
	t.Cleanup(func() { glassbox(t, "rm", "-f", name) })
	if out, errs, code := glassbox(t, "run", "-d", "--name", name, "busybox", "sh", "-c", "echo x > /x; rm /bin/vi; touch /ready; sleep 1000"); code != 0 {
		t.Fatalf("run -d: %s%s", out, errs)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if out, _, _ := glassbox(t, "diff", name); strings.Contains(out, "A /ready") {
			break
		}
	}
	tarPath := t.TempDir() + "/rootfs.tar"
	if _, errs, code := glassbox(t, "export", "-o", tarPath, name); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	if _, errs, code := glassbox(t, "import", tarPath, "imported:v1"); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	if out, _, _ := glassbox(t, "run", "imported:v1", "/bin/sh", "-c", "cat /x; ls /bin/vi 2>/dev/null; ls /bin/sh"); out != "x\n/bin/sh\n" {
		t.Errorf("the imported image's sandbox sees %q", out)
	}
}
