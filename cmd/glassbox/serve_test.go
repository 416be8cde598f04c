package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"glassbox/inspect"
)

func TestSnapshotHandler(t *testing.T) {
	var asked [][]string
	h := snapshotHandler(func(refs []string) ([]*inspect.Snapshot, error) {
		asked = append(asked, refs)
		if len(refs) > 0 && refs[0] == "nope" {
			return nil, errors.New("top nope: no such sandbox")
		}
		return []*inspect.Snapshot{{PID: 4242, Container: &inspect.Container{Engine: "docker", Name: "dcalc"}}}, nil
	})
	do := func(method, target string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
		return w
	}
	w := do("GET", "/snapshots")
	var got []inspect.Snapshot
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" || json.Unmarshal(w.Body.Bytes(), &got) != nil ||
		len(got) != 1 || got[0].PID != 4242 || got[0].Container.Ref() != "docker:dcalc" {
		t.Fatalf("GET /snapshots: %d %s", w.Code, w.Body)
	}
	do("GET", "/snapshots?ref=calc&ref=k8s:shop/web-0/calc")
	if want := [][]string{nil, {"calc", "k8s:shop/web-0/calc"}}; !reflect.DeepEqual(asked, want) {
		t.Errorf("refs asked %q, want %q", asked, want)
	}
	if w := do("GET", "/snapshots?ref=nope"); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "no such sandbox") {
		t.Errorf("an unknown ref: %d %s", w.Code, w.Body)
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		if w := do(m, "/snapshots"); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /snapshots: %d", m, w.Code)
		}
	}
	if w := do("GET", "/"); w.Code != http.StatusNotFound {
		t.Errorf("GET /: %d", w.Code)
	}
	if n := len(asked); n != 3 {
		t.Errorf("snapshots taken %d times; a refused request must take none", n)
	}
}
