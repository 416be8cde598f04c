package state

import (
	"reflect"
	"testing"
	"time"
)

// Records lists what Store.List lists, decoding again only the records
// whose file changed: an unchanged record is the same *Sandbox, a changed
// one is read afresh, a removed one is gone.
func TestRecordsDecodeOnlyWhatChanged(t *testing.T) {
	s := NewStore(RootsAt(t.TempDir()))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &Sandbox{ID: "aaaaaaaaaaaa", Name: "a", Status: Running, Created: t0.Add(2 * time.Second)}
	b := &Sandbox{ID: "bbbbbbbbbbbb", Name: "b", Status: Running, Created: t0.Add(time.Second)}
	for _, sb := range []*Sandbox{a, b} {
		if err := s.Save(sb); err != nil {
			t.Fatal(err)
		}
	}
	r := NewRecords(s)
	list := func() []*Sandbox {
		t.Helper()
		got, err := r.List()
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.List()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Records.List = %+v, Store.List = %+v", got, want)
		}
		return got
	}
	first := list()
	if len(first) != 2 || first[0].Name != "b" {
		t.Fatalf("first listing %+v: want b, a", first)
	}
	again := list()
	if again[0] != first[0] || again[1] != first[1] {
		t.Errorf("unchanged records decoded again")
	}
	b.Status, b.Exit = Exited, &Exit{Code: 137, Signal: "SIGKILL"}
	if err := s.Save(b); err != nil {
		t.Fatal(err)
	}
	changed := list()
	if changed[0] == first[0] || changed[0].Status != Exited || changed[1] != first[1] {
		t.Errorf("after b's save: %+v (b decoded again: %v, a kept: %v)", changed[0], changed[0] != first[0], changed[1] == first[1])
	}
	if err := s.Remove(b.ID); err != nil {
		t.Fatal(err)
	}
	if gone := list(); len(gone) != 1 || gone[0] != first[1] {
		t.Errorf("after b's removal: %+v", gone)
	}
}
