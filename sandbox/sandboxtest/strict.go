package sandboxtest

import (
	"os"
	"testing"
)

// StrictEnv names the variable that the README's test command and CI set:
// there, a test that lacks something the machine should have been given
// fails instead of skipping.
const StrictEnv = "GLASSBOX_TEST_STRICT"

// Strict reports whether the tests run where every dependency must be
// present (GLASSBOX_TEST_STRICT=1).
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// Missing stops a test that needs something this machine lacks: it fails
// when Strict (a silent skip there would hide a test that never ran) and
// skips with the message otherwise. what names the dependency, install says
// how to get it.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	if Strict() {
		t.Fatalf("%s is missing (%s; .ci/deps installs it, and %s=1 makes its absence a failure)", what, install, StrictEnv)
	}
	t.Skipf("%s is missing (%s); skipped", what, install)
}

// HostOnly skips a test inside CI's cgroup v2 VM (GLASSBOX_VM=1), where a
// package's root tests must fit in one binary's time limit under software
// emulation. It is for tests that no cgroup, namespace or mount difference
// touches (why says what the test is about); the host's run covers them.
func HostOnly(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("GLASSBOX_VM") == "1" {
		t.Skip("inside the cgroup v2 VM (emulated, slow): " + why + "; the host's run covers this test")
	}
}
