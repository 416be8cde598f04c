package sandbox

import (
	"os"
	"os/exec"
	"testing"

	"github.com/prometheus/procfs"
)

// inCgroup is the check that a recorded PID is still the sandbox's init
// (exec and copy-up both make it before they touch the process).
func TestInCgroup(t *testing.T) {
	self, err := procfs.Self()
	if err != nil {
		t.Fatal(err)
	}
	cgs, err := self.Cgroups()
	if err != nil || len(cgs) == 0 {
		t.Fatalf("own cgroups: %v, %v", cgs, err)
	}
	for _, c := range []struct {
		cg   string
		want bool
	}{
		{cgs[len(cgs)-1].Path, true},
		{cgs[len(cgs)-1].Path + "-not-this-one", false},
		{"/glassbox/000000000000", false},
		{"", false},
	} {
		if in, err := inCgroup(os.Getpid(), c.cg); in != c.want || err != nil {
			t.Errorf("inCgroup(self, %q) = %v, %v; want %v", c.cg, in, err, c.want)
		}
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := inCgroup(gone.Process.Pid, cgs[0].Path); err == nil {
		t.Errorf("a process that is gone: no error")
	}
}
