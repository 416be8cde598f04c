package inspect

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A sandbox whose init has ended stops counting as a layer's sharer,
// within sharerRecheck: every Inspector of a UI counts on every refresh,
// and the counts look at /proc once per sandbox in that time, not once per
// Inspector.
func TestSharingDropsAnEndedInit(t *testing.T) {
	proc := t.TempDir()
	for _, pid := range []string{"4242", "4251"} {
		if err := os.Mkdir(filepath.Join(proc, pid), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &sharing{store: fixtureStore(t), fs: FS{ProcRoot: proc}}
	count := func() []string {
		l := []Lower{{Dir: layer2}}
		s.count(l)
		if l[0].SharedBy != len(l[0].SharedWith) {
			t.Errorf("SharedBy %d, SharedWith %v", l[0].SharedBy, l[0].SharedWith)
		}
		return l[0].SharedWith
	}
	if got := count(); len(got) != 2 {
		t.Fatalf("both running: shared with %v", got)
	}
	if err := os.Remove(filepath.Join(proc, "4251")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(sharerRecheck)
	if got := count(); len(got) != 1 || got[0] != "web" {
		t.Errorf("other's init ended %v ago: shared with %v, want [web]", sharerRecheck, got)
	}
}
