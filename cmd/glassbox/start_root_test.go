package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"glassbox/sandbox/image"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// The UI's "new sandbox" key starts a calculator through the engine, with
// the course's limits and the image's port published on a free port of
// the default host address.
func TestStartCalculatorThroughTheEngine(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	eng := lifecycle.New(roots)
	eng.Binary = sandboxtest.Binary(t)
	name, err := startCalculator(eng, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Remove(name, true) })
	sb, err := eng.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	im, err := image.NewStore(roots).Get(image.Builtin)
	if err != nil {
		t.Fatal(err)
	}
	if len(sb.Network.Ports) != 1 {
		t.Fatalf("ports %+v, want one", sb.Network.Ports)
	}
	p := sb.Network.Ports[0]
	if p.ContainerPort != im.Config.TCPPorts()[0] || p.HostIP != state.DefaultHostIP || p.HostPort == 0 {
		t.Errorf("published %+v, want the image's port %d on %s", p, im.Config.TCPPorts()[0], state.DefaultHostIP)
	}
	if sb.Limits.MemoryBytes != 256<<20 || sb.Limits.CPUs != 0.5 {
		t.Errorf("limits %+v, want 256 MiB and 0.5 CPUs", sb.Limits)
	}
	url := fmt.Sprintf("http://%s:%d/health", p.HostIP, p.HostPort)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
