package sandboxtest

import (
	"slices"
	"strings"
	"testing"
)

// The kit finds a test's live supervisors — whichever way they were
// started, with no state root on their command line — so that a test that
// leaves one running fails (stopLeftoverSupervisors).
func TestSupervisorsOfFindsATestsSupervisor(t *testing.T) {
	c := NewCLI(t)
	id := strings.TrimSpace(c.Ok("run", "-d", "--network", "none", "busybox", "sleep", "600"))
	pid := c.Get(id).SupervisorPID
	if got := supervisorsOf(c.Roots.Run); !slices.Contains(got, pid) {
		t.Errorf("supervisorsOf(%s) = %v, want its supervisor %d among them", c.Roots.Run, got, pid)
	}
	if got := supervisorsOf(c.Roots.Run + "-other"); slices.Contains(got, pid) {
		t.Errorf("another root's supervisors include this one's (%d)", pid)
	}
	c.Ok("rm", "-f", id)
}
