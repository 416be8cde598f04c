package state

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestStoreSaveLoadResolveRemove(t *testing.T) {
	s := NewStore(RootsAt(t.TempDir()))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, sb := range []*Sandbox{
		{ID: "3f2a9c01b7de", Name: "calc", Created: t0.Add(2 * time.Second)},
		{ID: "3f2b00000000", Name: "web", Created: t0.Add(1 * time.Second)},
		{ID: "a00000000001", Name: "3f2", Created: t0.Add(3 * time.Second)},
	} {
		if err := s.Save(sb); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	list, err := s.List()
	if err != nil || len(list) != 3 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if list[0].Name != "web" || list[2].Name != "3f2" {
		t.Errorf("List not oldest first: %s %s %s", list[0].Name, list[1].Name, list[2].Name)
	}
	for _, tc := range []struct {
		ref, want, err string
	}{
		{ref: "calc", want: "3f2a9c01b7de"},
		{ref: "3f2a", want: "3f2a9c01b7de"},
		{ref: "3f2b00000000", want: "3f2b00000000"},
		{ref: "3f2", want: "a00000000001"}, // an exact name wins over an id prefix
		{ref: "3f", err: "matches 2 sandboxes"},
		{ref: "zzz", err: "no such sandbox"},
		{ref: "", err: "no such sandbox"},
	} {
		sb, err := s.Resolve(tc.ref)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Resolve(%q) err = %v, want %q", tc.ref, err, tc.err)
			}
			continue
		}
		if err != nil || sb.ID != tc.want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", tc.ref, sb, err, tc.want)
		}
	}
	if err := s.Remove("3f2a9c01b7de"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("3f2a9c01b7de"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load after Remove: %v, want ErrNotFound", err)
	}
	if err := s.Remove("../x"); err == nil {
		t.Error("Remove accepted a path as id")
	}
	entries, _ := os.ReadDir(s.Roots.SandboxDir("3f2b00000000"))
	for _, e := range entries {
		if e.Name() != "state.json" {
			t.Errorf("left a temporary file: %s", e.Name())
		}
	}
}

func TestDefaultRootsFollowGlassboxRoot(t *testing.T) {
	t.Setenv("GLASSBOX_ROOT", "/tmp/x")
	if r := DefaultRoots(); r.Lib != "/tmp/x/lib" || r.Run != "/tmp/x/run" {
		t.Errorf("DefaultRoots = %+v", r)
	}
	t.Setenv("GLASSBOX_ROOT", "")
	if r := DefaultRoots(); r.Lib != "/var/lib/glassbox" || r.Run != "/run/glassbox" {
		t.Errorf("DefaultRoots = %+v", r)
	}
}

func TestExitWords(t *testing.T) {
	for e, want := range map[Exit]string{
		{Code: 0}:                      "Exited (0)",
		{Code: 143, Signal: "SIGTERM"}: "Exited (143, SIGTERM)",
		{Code: 137, Signal: "SIGKILL", OOMKilled: true}: "Exited (137, SIGKILL, OOMKilled)",
	} {
		if got := e.String(); got != want {
			t.Errorf("%+v: %q, want %q", e, got, want)
		}
	}
}
