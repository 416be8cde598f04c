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
