package image

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

// The busybox image runs as `glassbox run busybox …` does it: a shell
// command in the foreground, and a detached sleep that ps shows and rm -f
// removes.
func TestRunBusybox(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	sandboxtest.TempRoots(t) // GLASSBOX_ROOT for the commands below
	bin := sandboxtest.Binary(t)
	glassbox := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return out.String(), errb.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), 0
	}

	out, errs, code := glassbox("run", "busybox", "sh", "-c", "echo hi; ls /bin/sh /usr/bin/wget; cat /etc/group")
	if code != 0 || !strings.HasPrefix(out, "hi\n/bin/sh\n/usr/bin/wget\nroot:x:0:") {
		t.Errorf("run busybox sh -c: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, _, code := glassbox("run", "busybox:latest", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit 7 in the sandbox: glassbox exited %d", code)
	}

	name := "bb-" + strings.ReplaceAll(t.Name(), "/", "-")
	t.Cleanup(func() { glassbox("rm", "-f", name) })
	if out, errs, code := glassbox("run", "-d", "--name", name, "busybox", "sleep", "1000"); code != 0 || len(strings.TrimSpace(out)) != 12 {
		t.Fatalf("run -d busybox sleep 1000: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	out, _, _ = glassbox("ps", "--no-trunc")
	if !strings.Contains(out, name) || !strings.Contains(out, "busybox") || !strings.Contains(out, "Up") {
		t.Errorf("ps does not show %s running busybox:\n%s", name, out)
	}
	if _, errs, code := glassbox("rm", "-f", name); code != 0 {
		t.Errorf("rm -f %s: exit %d: %s", name, code, errs)
	}
	if out, _, _ := glassbox("ps", "-a"); strings.Contains(out, name) {
		t.Errorf("%s still listed after rm -f:\n%s", name, out)
	}
}
