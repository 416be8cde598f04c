package engines

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serveUnix serves h on a unix socket in a temporary directory for the
// test's duration and returns the socket's path.
func serveUnix(t testing.TB, h http.Handler) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

// fakeProc is a proc root holding the given processes: a stat whose
// start time is start, and a cmdline.
type fakeProc struct{ root string }

func newFakeProc(t *testing.T) *fakeProc {
	return &fakeProc{root: t.TempDir()}
}

func (p *fakeProc) add(t *testing.T, pid int, start uint64, args ...string) string {
	t.Helper()
	dir := filepath.Join(p.root, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Fields after the command, as many as the kernel writes (procfs reads
	// them all): state ppid … field 22 is the start time.
	fields := make([]string, 50)
	for i := range fields {
		fields[i] = "0"
	}
	fields[0] = "S"
	fields[19] = strconv.FormatUint(start, 10)
	stat := strconv.Itoa(pid) + " (some (odd) name) " + strings.Join(fields, " ") + "\n"
	writeFile(t, filepath.Join(dir, "stat"), stat)
	writeFile(t, filepath.Join(dir, "cmdline"), strings.Join(args, "\x00")+"\x00")
	return dir
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// nowhere are Places where no engine is.
func nowhere(t *testing.T) Places {
	d := t.TempDir()
	return Places{
		ProcRoot:         t.TempDir(),
		DockerHost:       "unix://" + filepath.Join(d, "docker.sock"),
		PodmanSocket:     filepath.Join(d, "podman.sock"),
		ContainerdSocket: filepath.Join(d, "containerd.sock"),
		RuntimeRoots:     map[string][]string{"runc": {filepath.Join(d, "runc")}, "crun": {filepath.Join(d, "crun")}},
		Timeout:          2 * time.Second,
	}
}
