package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"glassbox/inspect/union"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

const mib = 1 << 20

// gbCLI runs the glassbox binary under test on the test's state root.
func gbCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(sandboxtest.Binary(t), args...).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("glassbox %s: %v", strings.Join(args, " "), err)
	}
	return string(out), 0
}

// buildImage builds a Dockerfile FROM the built-in busybox with glassbox
// build, tagged tag.
func buildImage(t *testing.T, tag, dockerfile string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := gbCLI(t, "build", "--progress", "plain", "-t", tag, dir); code != 0 {
		t.Fatalf("glassbox build -t %s: exit %d\n%s", tag, code, out)
	}
}

// A sandbox appends one byte to a 50 MiB file of a lower layer: the next
// read of its upper layer (one refresh of the Image view) shows all 50 MiB
// there, marked as the copy-up of the lower file. The UI's action does
// the same through the sandbox's root mount; with no file named it skips
// the programs running in the sandbox (the kernel refuses writes to them).
func TestCopyUpShowsInTheUpperLayer(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	buildImage(t, "bigfiles", "FROM busybox\nRUN dd if=/dev/zero of=/0big bs=1M count=50 && dd if=/dev/zero of=/1big bs=1M count=50\n")
	name := fmt.Sprintf("copyup-%d", os.Getpid())
	if out, code := gbCLI(t, "run", "-d", "--name", name, "--network", "none", "bigfiles",
		"sh", "-c", "echo >> /0big && touch /appended && exec sleep 1000"); code != 0 {
		t.Fatalf("glassbox run -d: exit %d\n%s", code, out)
	}
	t.Cleanup(func() {
		if out, code := gbCLI(t, "rm", "-f", name); code != 0 {
			t.Errorf("glassbox rm -f %s: %s", name, out)
		}
	})
	eng := lifecycle.New(roots)
	var sb *state.Sandbox
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		sb, err = eng.Get(name)
		if err == nil && sb.Status == state.Running {
			if _, err := os.Stat(filepath.Join(sb.UpperDir, "appended")); err == nil {
				break // the append is done
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox did not append to /0big: %+v %v", sb, err)
		}
	}

	st, err := newStacks(roots).Stack(name)
	if err != nil {
		t.Fatal(err)
	}
	im, err := union.Read(st)
	if err != nil {
		t.Fatal(err)
	}
	upper := im.Top()
	big := findItem(im.Changes(upper), "/0big")
	if big == nil || big.Mark != union.Modified || big.Entry.Size != 50*mib+1 || big.Below == nil || big.Below.Size != 50*mib {
		t.Fatalf("/0big in the upper layer: %+v", big)
	}
	if !strings.HasPrefix(st.Layers[big.BelowLayer].CreatedBy, "RUN dd if=/dev/zero of=/0big") {
		t.Errorf("the copy came from %q", st.Layers[big.BelowLayer].CreatedBy)
	}
	if im.Stats[upper].Size < 50*mib+1 {
		t.Errorf("the upper layer holds %d bytes, want the whole file", im.Stats[upper].Size)
	}

	// The UI's u: the next refresh shows the upper layer 50 MiB bigger.
	acts := newTopActions(eng, nil)
	before := im.Stats[upper].Size
	if written, size, err := acts.CopyUp(name, "/1big"); err != nil || written != "/1big" || size != 50*mib {
		t.Fatalf("CopyUp /1big: %q %d %v", written, size, err)
	}
	next, err := im.Reread()
	if err != nil || next == im {
		t.Fatalf("one refresh after the copy-up: %v (changed: %v)", err, next != im)
	}
	if grew := next.Stats[upper].Size - before; grew != 50*mib+1 {
		t.Errorf("the upper layer grew by %d bytes for one byte written, want all of the file (%d)", grew, 50*mib+1)
	}
	// Named by nobody: the biggest lower file not copied up yet that no
	// process runs. sleep is busybox, which the kernel will not let be
	// written (ETXTBSY); the pick goes past it.
	written, size, err := acts.CopyUp(name, "")
	if err != nil || written == "" || written == "/bin/busybox" || size <= 0 {
		t.Errorf("CopyUp with no path: %q %d %v", written, size, err)
	}
	if _, _, err := acts.CopyUp(name, "/bin/busybox"); err == nil || !strings.Contains(err.Error(), "the kernel refuses writes to it") {
		t.Errorf("CopyUp of the running busybox: %v", err)
	}
	if _, _, err := acts.CopyUp(name, "/nope"); err == nil {
		t.Error("CopyUp of a missing file")
	}
	if _, _, err := acts.CopyUp(name, "/etc"); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("CopyUp of a directory: %v", err)
	}
}

func findItem(it *union.Item, p string) *union.Item {
	if it.Path() == p {
		return it
	}
	for _, k := range it.Kids {
		if strings.HasPrefix(p, k.Path()) {
			if f := findItem(k, p); f != nil {
				return f
			}
		}
	}
	return nil
}

// image waste --ci fails on an image built with a 20 MiB leftover, still
// fails when a later step removes it (added, then removed: the layer that
// added it keeps it), and passes when the step that makes it removes it.
func TestWasteCIOnBuiltImages(t *testing.T) {
	sandboxtest.RequireRoot(t)
	sandboxtest.TempRoots(t)
	const make20 = "dd if=/dev/zero of=/var/log/build.log bs=1M count=20"
	buildImage(t, "leftover", "FROM busybox\nRUN mkdir -p /var/log && "+make20+"\n")
	buildImage(t, "removedlater", "FROM busybox\nRUN mkdir -p /var/log && "+make20+"\nRUN rm /var/log/build.log\n")
	buildImage(t, "clean", "FROM busybox\nRUN mkdir -p /var/log && "+make20+" && rm /var/log/build.log\n")
	for _, tc := range []struct {
		image string
		code  int
		want  []string
	}{
		{"leftover", 1, []string{"[FAIL] lowest efficiency", "[FAIL] highest wasted bytes: 20 MiB", "20 MiB leftover #3 #3 /var/log/build.log (log file)", "/var/log/build.log  (log file)", "Result: FAIL"}},
		{"removedlater", 1, []string{"[FAIL] highest wasted bytes: 20 MiB", "deleted", "/var/log/build.log  (whiteout /var/log/build.log)", "Result: FAIL"}},
		{"clean", 0, []string{"[PASS] lowest efficiency: 1.0000", "[PASS] highest wasted bytes: 0 B", "Result: PASS"}},
	} {
		out, code := gbCLI(t, "image", "waste", "--ci", "--lowest-efficiency", "0.9", "--highest-wasted-bytes", "10m", tc.image)
		if code != tc.code {
			t.Errorf("image waste --ci %s: exit %d, want %d\n%s", tc.image, code, tc.code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(squeeze(out), squeeze(w)) {
				t.Errorf("image waste --ci %s lacks %q:\n%s", tc.image, w, out)
			}
		}
	}
	// Without the base image, the leftover is all the image adds.
	out, code := gbCLI(t, "image", "waste", "--ci", "--exclude-base", "leftover")
	if code != 1 || !strings.Contains(out, "efficiency 0.0%") || !strings.Contains(out, "base image busybox left out") {
		t.Errorf("image waste --ci --exclude-base leftover: exit %d\n%s", code, out)
	}
}

// Reading images needs read access to the store, not root: ls, cat and
// waste run as nobody (the built-in image was built by root before).
func TestImageVerbsWithoutRoot(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	if out, code := gbCLI(t, "images"); code != 0 { // builds the built-in images
		t.Fatalf("glassbox images: %s", out)
	}
	top := filepath.Dir(roots.Lib)
	if err := os.Chmod(top, 0o755); err != nil { // the test's root is 0700
		t.Fatal(err)
	}
	bin := binaryNobodyCanRun(t, sandboxtest.Binary(t), top)
	for _, args := range [][]string{
		{"image", "ls", "busybox", "/etc"},
		{"image", "cat", "busybox", "/etc/passwd"},
		{"image", "waste", "--ci", "busybox"},
		{"image", "ls", "--json", "--changes", "calculator@2"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("glassbox %s as nobody: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	out, _ := exec.Command("sh", "-c", "ls -la "+roots.LayersDir()).CombinedOutput()
	if strings.Contains(string(out), ".staging") {
		t.Errorf("readers left something in the store:\n%s", out)
	}
}
