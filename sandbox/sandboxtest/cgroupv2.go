package sandboxtest

import (
	"os"
	"testing"
)

// VMEnv is set to 1 inside CI's cgroup v2 VM (.ci/cgroup-v2).
const VMEnv = "GLASSBOX_VM"

// InV2VM reports whether the test runs inside CI's cgroup v2 VM.
func InV2VM() bool { return os.Getenv(VMEnv) == "1" }

// AlsoOnCgroupV2 marks a root test that proves something the kernel does
// differently on pure cgroup v2 — limits, OOM kills, the freezer, joining a
// cgroup, the cgroup namespace — or on another kernel (mount options,
// nftables, the escape battery). It does nothing when the test runs; CI's
// cgroup v2 VM (.ci/cgroup-v2, through .ci/vm/roottests.go) runs exactly the
// tests that call it, directly or through a helper of their package. The
// VM emulates its CPU (up to 60× slower): mark what cgroup v2 must see, and
// leave to the host's run what is the same everywhere (flags, messages,
// images, docker round trips).
func AlsoOnCgroupV2(t testing.TB) { t.Helper() }
