package engines

import (
	"context"
	"encoding/binary"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
	"google.golang.org/protobuf/encoding/protowire"

	"glassbox/inspect"
)

// criSpec is an OCI spec as containerd's CRI plugin writes it for a pod's
// container (annotations) or its sandbox.
func criSpec(kind, pod, ns, name string) string {
	return `{"ociVersion":"1.0.2","root":{"path":"rootfs"},"annotations":{
 "io.kubernetes.cri.container-type":"` + kind + `","io.kubernetes.cri.sandbox-name":"` + pod + `",
 "io.kubernetes.cri.sandbox-namespace":"` + ns + `","io.kubernetes.cri.container-name":"` + name + `"},
 "linux":{"resources":{"memory":{"limit":33554432}}}}`
}

// fakeNode lays out what a Kubernetes node's containerd leaves on the host:
// a shim process whose working directory is its task's bundle, and the
// namespace's bundles side by side (a pod's sandbox and its container).
func fakeNode(t *testing.T, address string) Places {
	state := t.TempDir()
	ns := filepath.Join(state, "io.containerd.runtime.v2.task", "k8s.io")
	proc := newFakeProc(t)
	for _, b := range []struct {
		id, spec string
		pid      int
	}{
		{"sandbox0", criSpec("sandbox", "web-0", "shop", ""), 700},
		{"ctr1", criSpec("container", "web-0", "shop", "calc"), 701},
		{"ctr2", criSpec("container", "web-0", "shop", "sidecar"), 0},
	} {
		writeFile(t, filepath.Join(ns, b.id, "config.json"), b.spec)
		if b.pid > 0 {
			writeFile(t, filepath.Join(ns, b.id, "init.pid"), strconv.Itoa(b.pid)+"\n")
			proc.add(t, b.pid, 1, "/pause")
		}
	}
	shim := proc.add(t, 690, 1, "/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", "sandbox0", "-address", address)
	if err := os.Symlink(filepath.Join(ns, "sandbox0"), filepath.Join(shim, "cwd")); err != nil {
		t.Fatal(err)
	}
	p := nowhere(t)
	p.ProcRoot = proc.root
	return p
}

// A node without containerd's socket (or with it unreachable): the pods are
// named from the CRI's annotations in the bundles; the sandbox is left out.
func TestContainerdBundles(t *testing.T) {
	p := fakeNode(t, filepath.Join(t.TempDir(), "no-such.sock"))
	f := Discover(context.Background(), p)
	if len(f.Problems) != 0 {
		t.Errorf("problems: %v", f.Problems)
	}
	var refs []string
	for _, c := range f.Containers {
		refs = append(refs, c.Ref()+"="+c.Status)
	}
	if got, want := strings.Join(refs, " "), "k8s:shop/web-0/calc=running k8s:shop/web-0/sidecar=created"; got != want {
		t.Fatalf("found %s, want %s", got, want)
	}
	c := f.Containers[0]
	if c.PID != 701 || c.Namespace != "k8s.io" || c.ID != "ctr1" || c.Limits.MemoryBytes != 32<<20 || !strings.HasSuffix(c.RootFS, "/ctr1/rootfs") {
		t.Errorf("calc = %+v", c)
	}
	for _, ref := range []string{"k8s:shop/web-0/calc", "containerd:k8s.io/ctr1"} {
		if got, err := Find(f, ref); err != nil || got != c {
			t.Errorf("Find(%s) = %v, %v", ref, got, err)
		}
	}
}

// With containerd's socket, its labels (and the image) come from its API:
// one Containers/List per namespace, in gRPC's framing over HTTP/2.
func TestContainerdLabels(t *testing.T) {
	var asked []string
	h := h2c.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ns := r.Header.Get("containerd-namespace")
		asked = append(asked, r.URL.Path+" ns="+ns+" "+r.Header.Get("Content-Type"))
		var msg []byte
		switch {
		case r.URL.Path == namespacesList:
			for _, n := range []string{"k8s.io", "default"} {
				var m []byte
				m = protowire.AppendTag(m, 1, protowire.BytesType)
				m = protowire.AppendString(m, n)
				msg = protowire.AppendTag(msg, 1, protowire.BytesType)
				msg = protowire.AppendBytes(msg, m)
			}
		case ns == "default":
			// A container created without a task: no shim, no bundle.
			var m []byte
			m = protowire.AppendTag(m, 1, protowire.BytesType)
			m = protowire.AppendString(m, "idle")
			m = protowire.AppendTag(m, 3, protowire.BytesType)
			m = protowire.AppendString(m, "registry.example/idle:1")
			msg = protowire.AppendTag(msg, 1, protowire.BytesType)
			msg = protowire.AppendBytes(msg, m)
		default:
			msg = k8sContainerList()
		}
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		frame := make([]byte, 5, 5+len(msg))
		binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
		w.Write(append(frame, msg...))
		w.Header().Set("Grpc-Status", "0")
	}), &http2.Server{})
	sock := serveUnix(t, h)
	f := Discover(context.Background(), fakeNode(t, sock))
	if len(f.Problems) != 0 {
		t.Fatalf("problems: %v", f.Problems)
	}
	want := []string{containersList + " ns=k8s.io application/grpc", namespacesList + " ns= application/grpc", containersList + " ns=default application/grpc"}
	if !reflect.DeepEqual(asked, want) {
		t.Errorf("asked %q, want %q", asked, want)
	}
	idle, err := Find(f, "containerd:default/idle")
	if err != nil || idle.Status != "created" || idle.PID != 0 || idle.Image != "registry.example/idle:1" {
		t.Errorf("a container without a task: %+v, %v", idle, err)
	}
	c, err := Find(f, "k8s:shop-labels/web-0/calc")
	if err != nil {
		t.Fatal(err)
	}
	if c.Image != "registry.example/calc:1" || c.Created.Unix() != 1764526800 || c.Labels["io.kubernetes.container.name"] != "calc" || !strings.Contains(c.Source, sock) {
		t.Errorf("calc = %+v", c)
	}
	if c.Engine != inspect.EngineKubernetes {
		t.Errorf("engine %s", c.Engine)
	}
}

// k8sContainerList is containerd's answer to Containers/List in k8s.io:
// the pod's two containers with the CRI's labels.
func k8sContainerList() []byte {
	var msg []byte
	for _, c := range []struct{ id, pod, name, image string }{
		{"ctr1", "web-0", "calc", "registry.example/calc:1"},
		{"ctr2", "web-0", "sidecar", "registry.example/side:1"},
	} {
		var m []byte
		m = protowire.AppendTag(m, 1, protowire.BytesType)
		m = protowire.AppendString(m, c.id)
		for k, v := range map[string]string{"io.kubernetes.pod.name": c.pod, "io.kubernetes.pod.namespace": "shop-labels", "io.kubernetes.container.name": c.name} {
			var e []byte
			e = protowire.AppendTag(e, 1, protowire.BytesType)
			e = protowire.AppendString(e, k)
			e = protowire.AppendTag(e, 2, protowire.BytesType)
			e = protowire.AppendString(e, v)
			m = protowire.AppendTag(m, 2, protowire.BytesType)
			m = protowire.AppendBytes(m, e)
		}
		m = protowire.AppendTag(m, 3, protowire.BytesType)
		m = protowire.AppendString(m, c.image)
		var ts []byte
		ts = protowire.AppendTag(ts, 1, protowire.VarintType)
		ts = protowire.AppendVarint(ts, 1764526800)
		m = protowire.AppendTag(m, 8, protowire.BytesType)
		m = protowire.AppendBytes(m, ts)
		msg = protowire.AppendTag(msg, 1, protowire.BytesType)
		msg = protowire.AppendBytes(msg, m)
	}
	return msg
}

// The gRPC status of a failed call is reported with containerd's message,
// and the containers are still listed from their bundles.
func TestContainerdAPIError(t *testing.T) {
	h := h2c.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Grpc-Status", "7")
		w.Header().Set("Grpc-Message", "permission denied")
	}), &http2.Server{})
	f := Discover(context.Background(), fakeNode(t, serveUnix(t, h)))
	if len(f.Containers) != 2 || len(f.Problems) != 1 || !strings.Contains(f.Problems[0].Err, "grpc status 7: permission denied") {
		t.Fatalf("found %+v", f)
	}
}
