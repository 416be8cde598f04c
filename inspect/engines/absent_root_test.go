package engines_test

import (
	"strings"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

// hidden runs glassbox where no other engine can be seen: a mount
// namespace with an empty /run (no docker.sock, /run/containerd, /run/runc,
// /run/crun, /run/podman) and a PID namespace with its own /proc (no shim
// or conmon of another test's engine), DOCKER_HOST unset.
func hidden(t *testing.T, bin string, args ...string) (string, string, error) {
	t.Helper()
	need(t, "unshare")
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("CONTAINER_HOST", "")
	script := `mount -t tmpfs glassbox-test-run /run && exec "$@"`
	return run(t, "unshare", append([]string{"--mount", "--pid", "--fork", "--mount-proc", "sh", "-c", script, "sh", bin}, args...)...)
}

// On a machine without other engines the same commands list only
// glassbox's sandboxes and say nothing alarming.
func TestAbsentEnginesCLI(t *testing.T) {
	sandboxtest.RequireRoot(t)
	notInVM(t, "five glassbox runs that read no cgroup") // nothing here depends on the cgroup version
	sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)

	out, stderr, err := hidden(t, bin, "ps", "-a", "--engines")
	if err != nil || stderr != "" {
		t.Fatalf("ps -a --engines: %v, stderr %q", err, stderr)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "ENGINE") {
		t.Errorf("ps -a --engines on an empty machine:\n%s", out)
	}
	if out, stderr, err := hidden(t, bin, "ps", "-aq", "--engines"); err != nil || out != "" || stderr != "" {
		t.Errorf("ps -aq --engines: %q %q %v", out, stderr, err)
	}
	_, stderr, err = hidden(t, bin, "inspect", "docker:dcalc")
	if err == nil || strings.TrimSpace(stderr) != "glassbox: no docker container docker:dcalc" {
		t.Errorf("inspect docker:dcalc without docker: %v, stderr %q", err, stderr)
	}
	out, stderr, err = hidden(t, bin, "top", "--once", "--engines")
	if err != nil || stderr != "" || !strings.Contains(out, "no sandbox is running") {
		t.Errorf("top --once --engines: %v, stderr %q:\n%s", err, stderr, out)
	}
	out, stderr, err = hidden(t, bin, "top", "--once", "--json", "--engines")
	if err != nil || stderr != "" || strings.TrimSpace(out) != "[]" {
		t.Errorf("top --once --json --engines: %v, stderr %q:\n%s", err, stderr, out)
	}
}
