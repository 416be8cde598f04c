package engines

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"glassbox/inspect"
)

// A docker container is also containerd's (namespace moby) and runc's:
// listed once, as docker's, the most telling description.
func TestDedupe(t *testing.T) {
	cs := []*inspect.Container{
		{Engine: "runc", ID: "8f3c", PID: 4242, Status: "running"},
		{Engine: "containerd", Namespace: "moby", ID: "8f3c", PID: 4242, Status: "running"},
		{Engine: "docker", ID: "8f3c", Name: "dcalc", PID: 4242, Status: "running"},
		{Engine: "runc", ID: "other", PID: 5000, Status: "running"},
		{Engine: "docker", ID: "aa11", Name: "old", Status: "exited"},
		{Engine: "runc", ID: "aa11", Status: "stopped"},
		{Engine: "k8s", ID: "p", PID: 6000, Status: "running", Annotations: map[string]string{"io.kubernetes.cri.container-type": "sandbox"}},
	}
	var refs []string
	for _, c := range dedupe(cs) {
		refs = append(refs, c.Ref())
	}
	if got, want := strings.Join(refs, " "), "docker:dcalc docker:old runc:other"; got != want {
		t.Errorf("listed %s, want %s", got, want)
	}
}

func TestFindAmbiguous(t *testing.T) {
	f := Found{Containers: []*inspect.Container{
		{Engine: "docker", ID: strings.Repeat("ab", 32), Name: "one"},
		{Engine: "docker", ID: "abab" + strings.Repeat("cd", 30), Name: "two"},
	}}
	if _, err := Find(f, "docker:abab"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("Find(docker:abab) = %v, want ambiguous", err)
	}
	if c, err := Find(f, "docker:ababcd"); err != nil || c.Name != "two" {
		t.Errorf("Find(docker:ababcd) = %v, %v", c, err)
	}
	if _, err := Find(f, "docker:ab"); err == nil {
		t.Error("a 2-character prefix matched")
	}
}

// Podman's containers are watched by conmon: -c ID -n NAME -b BUNDLE -p PIDFILE.
func TestConmon(t *testing.T) {
	proc := newFakeProc(t)
	bundle := t.TempDir()
	writeFile(t, filepath.Join(bundle, "config.json"), specWithLimits)
	writeFile(t, filepath.Join(bundle, "pidfile"), "8100")
	proc.add(t, 8100, 1, "/app/calculator")
	proc.add(t, 8099, 1, "/usr/bin/conmon", "--api-version", "1", "-c", "c0ffee", "-u", "c0ffee", "-r", "/usr/bin/crun",
		"-b", bundle, "-p", filepath.Join(bundle, "pidfile"), "-n", "pcalc", "--exit-command", "/usr/bin/podman")
	p := nowhere(t)
	p.ProcRoot = proc.root
	f := Discover(context.Background(), p)
	if len(f.Containers) != 1 || len(f.Problems) != 0 {
		t.Fatalf("found %+v", f)
	}
	c := f.Containers[0]
	if c.Ref() != "podman:pcalc" || c.PID != 8100 || c.Status != "running" || c.Limits.PidsLimit != 50 || c.Bundle != bundle {
		t.Errorf("pcalc = %+v", c)
	}
	if err := os.Remove(filepath.Join(proc.root, "8100", "stat")); err != nil {
		t.Fatal(err)
	}
	if c := Discover(context.Background(), p).Containers[0]; c.Status != "stopped" || c.PID != 0 {
		t.Errorf("after its process ended: %+v", c)
	}
}
