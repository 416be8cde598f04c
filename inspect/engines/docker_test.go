package engines

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

const (
	dcalcID = "8f3c2e1d0b9a8f7e6d5c4b3a29180716f5e4d3c2b1a098f7e6d5c4b3a2918071"
	oldID   = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
	imageID = "sha256:5b1e2f3a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70"
	diff0   = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	diff1   = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	cache0  = "bbbb2222bbbb2222bbbb2222bbbb2222bbbb2222bbbb2222bbbb2222bbbb2222"
	cache1  = "aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111"
)

// fakeDocker answers the Engine API with answers recorded in the shape of
// docker 20.10's (testdata/docker), its data root a temporary directory
// holding the layer metadata the answers refer to. It returns the socket
// and the data root.
func fakeDocker(t testing.TB) (string, string) {
	t.Helper()
	data := t.TempDir()
	// layerdb: chain ids of the image's two layers, their cache ids and sizes.
	chain1sum := sha256.Sum256([]byte(diff0 + " " + diff1))
	chains := []string{diff0, "sha256:" + hex.EncodeToString(chain1sum[:])}
	for i, cache := range []string{cache0, cache1} {
		dir := filepath.Join(data, "image/overlay2/layerdb/sha256", strings.TrimPrefix(chains[i], "sha256:"))
		writeFile(t, filepath.Join(dir, "cache-id"), cache)
		writeFile(t, filepath.Join(dir, "size"), []string{"4096", "9437184"}[i])
	}
	cfg, err := os.ReadFile("testdata/docker/imageconfig.json")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(data, "image/overlay2/imagedb/content/sha256", strings.TrimPrefix(imageID, "sha256:")), string(cfg))

	answers := map[string]string{
		"/v1.41/containers/json":                 "containers.json",
		"/v1.41/containers/" + dcalcID + "/json": "dcalc.json",
		"/v1.41/containers/" + oldID + "/json":   "old.json",
		"/v1.41/images/" + imageID + "/json":     "image.json",
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("%s %s: glassbox only reads", r.Method, r.URL.Path)
			http.Error(w, "read-only", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "/v1.41/info" {
			w.Write([]byte(`{"DockerRootDir":"` + data + `","Driver":"overlay2"}`))
			return
		}
		f, ok := answers[r.URL.Path]
		if !ok {
			http.Error(w, `{"message":"No such container"}`, http.StatusNotFound)
			return
		}
		b, err := os.ReadFile(filepath.Join("testdata/docker", f))
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(strings.ReplaceAll(string(b), "DATA", data)))
	})
	return serveUnix(t, h), data
}

func TestDockerContainers(t *testing.T) {
	sock, data := fakeDocker(t)
	p := nowhere(t)
	p.DockerHost = "unix://" + sock
	f := Discover(context.Background(), p)
	if len(f.Problems) > 0 {
		t.Fatalf("problems: %v", f.Problems)
	}
	if len(f.Containers) != 2 {
		t.Fatalf("found %d containers, want 2: %+v", len(f.Containers), f.Containers)
	}
	c, err := Find(f, "docker:dcalc")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != dcalcID || c.PID != 4242 || c.Status != "running" || c.Image != "gbcalc" || c.ImageID != imageID || c.Hostname != "8f3c2e1d0b9a" {
		t.Errorf("dcalc = %+v", c)
	}
	if want := (state.Limits{MemoryBytes: 256 << 20, CPUs: 0.5}); c.Limits != want {
		t.Errorf("limits %+v, want %+v", c.Limits, want)
	}
	if want := []state.Port{{HostIP: "127.0.0.1", HostPort: 18700, ContainerPort: 8000, Proto: "tcp"}}; !reflect.DeepEqual(c.Ports, want) {
		t.Errorf("ports %+v, want %+v", c.Ports, want)
	}
	if c.Labels["course"] != "containers" {
		t.Errorf("labels %v", c.Labels)
	}
	if !strings.Contains(c.Source, "/v1.41/containers/"+dcalcID+"/json") {
		t.Errorf("source %q does not name the request", c.Source)
	}
	// The layers, top-most first: docker's init layer, then the image's
	// top and bottom layers, mapped through the layerdb to their diff ids
	// and the build steps that made them.
	ov := filepath.Join(data, "overlay2")
	want := []state.Layer{
		{Dir: ov + "/c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00-init/diff", CreatedBy: "docker's init layer: empty /etc/hosts, /etc/hostname, /etc/resolv.conf and /dev to mount over"},
		{Dir: ov + "/" + cache1 + "/diff", Digest: diff1, CreatedBy: "COPY file:4567 in /app/calculator ", Size: 9437184},
		{Dir: ov + "/" + cache0 + "/diff", Digest: diff0, CreatedBy: "COPY dir:0123 in / ", Size: 4096},
	}
	if !reflect.DeepEqual(c.Layers, want) {
		t.Errorf("layers\n got %+v\nwant %+v", c.Layers, want)
	}

	old, err := Find(f, "docker:0a1b2c")
	if err != nil {
		t.Fatal(err)
	}
	if old.PID != 0 || old.Running() || old.Record().Status != state.Exited {
		t.Errorf("exited container: %+v", old)
	}
	if want := (state.Limits{MemoryBytes: 32 << 20, CPUs: 0.5, CPUQuotaUS: 25000, CPUPeriodUS: 50000, PidsLimit: 64}); old.Limits != want {
		t.Errorf("limits %+v, want %+v", old.Limits, want)
	}
	if rec := c.Record(); rec.ID != "docker:dcalc" || rec.Engine != inspect.EngineDocker || rec.Status != state.Running || rec.InitPID != 4242 {
		t.Errorf("record %+v", rec)
	}
}

// An Engine API that answers with an error is there but unreadable: said,
// with the reason; nothing is listed for it.
func TestDockerUnreadable(t *testing.T) {
	sock := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"client version 1.41 is too new. Maximum supported API version is 1.40"}`, http.StatusBadRequest)
	}))
	p := nowhere(t)
	p.DockerHost = "unix://" + sock
	f := Discover(context.Background(), p)
	if len(f.Containers) != 0 || len(f.Problems) != 1 || f.Problems[0].Engine != "docker" || !strings.Contains(f.Problems[0].Err, "Maximum supported API version") {
		t.Fatalf("found %+v", f)
	}
	if _, err := Find(f, "docker:dcalc"); err == nil || !strings.Contains(err.Error(), "Maximum supported API version") {
		t.Errorf("Find says %v; want the reason docker could not be read", err)
	}
}

// No engine at all: nothing found, nothing to say.
func TestAbsentEngines(t *testing.T) {
	f := Discover(context.Background(), nowhere(t))
	if len(f.Containers) != 0 || len(f.Problems) != 0 {
		t.Fatalf("found %+v on a machine without engines", f)
	}
	// A socket left behind by a daemon that is gone is no engine either.
	p := nowhere(t)
	sock := filepath.Join(t.TempDir(), "docker.sock")
	writeFile(t, sock, "")
	p.DockerHost = "unix://" + sock
	if f := Discover(context.Background(), p); len(f.Problems) != 0 {
		t.Errorf("a stale socket file: %+v", f.Problems)
	}
	_, err := Find(f, "docker:dcalc")
	if err == nil || err.Error() != "no docker container docker:dcalc" {
		t.Errorf("Find on an empty machine: %v", err)
	}
	if _, err := Find(f, "calc"); err == nil || !strings.Contains(err.Error(), "names no engine") {
		t.Errorf("Find(calc): %v", err)
	}
}

// DOCKER_HOST naming a TCP address is not followed, and said.
func TestDockerHostTCP(t *testing.T) {
	t.Setenv("DOCKER_HOST", "tcp://10.0.0.1:2375")
	p := Host()
	n := nowhere(t)
	p.ProcRoot, p.PodmanSocket, p.RuntimeRoots = n.ProcRoot, n.PodmanSocket, n.RuntimeRoots
	f := Discover(context.Background(), p)
	if len(f.Problems) != 1 || !strings.Contains(f.Problems[0].Err, "unix socket only") {
		t.Errorf("problems %+v", f.Problems)
	}
}

// What a look costs: the Engine API's answers for two containers (with
// the layer metadata) and a scan of this machine's /proc for shims.
func BenchmarkDiscover(b *testing.B) {
	sock, _ := fakeDocker(b)
	p := Host()
	p.DockerHost = "unix://" + sock
	p.PodmanSocket = ""
	ctx := context.Background()
	for b.Loop() {
		if f := Discover(ctx, p); len(f.Containers) < 2 {
			b.Fatalf("found %d", len(f.Containers))
		}
	}
}

// The /proc scan alone (no Engine API), for comparison.
func BenchmarkDiscoverProcOnly(b *testing.B) {
	p := Host()
	p.DockerHost, p.PodmanSocket = "unix:///nonexistent/docker.sock", ""
	ctx := context.Background()
	for b.Loop() {
		Discover(ctx, p)
	}
}
