package image

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
)

// The built-in image is complete: its layers, stacked with overlayfs, are a
// root filesystem in which /app/calculator (the dynamically linked glassbox
// binary) starts and answers /health, with nothing from the host's tree.
func TestImageRunsFromItsLayers(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	s := NewStore(roots)
	s.Self = sandboxtest.Binary(t)
	im, err := s.Get("")
	if err != nil {
		t.Fatal(err)
	}

	work := t.TempDir()
	upper, wd, merged := filepath.Join(work, "upper"), filepath.Join(work, "work"), filepath.Join(roots.Lib, "test-merged")
	for _, d := range []string{upper, wd, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := "lowerdir=" + strings.Join(im.LowerDirs(), ":") + ",upperdir=" + upper + ",workdir=" + wd
	if err := syscall.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Fatalf("mount overlay on %s: %v", merged, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(merged, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", merged, err)
		}
	})

	cmd := exec.Command(im.Argv()[0])
	cmd.Dir = "/"
	cmd.Env = append(im.Config.Env, "SERVER_PORT=0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: merged, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s in the image: %v", im.Argv()[0], err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	var started struct {
		Msg  string
		Port int
	}
	if err != nil || json.Unmarshal([]byte(line), &started) != nil || started.Msg != "started" {
		t.Fatalf("the calculator did not start in the image: %q %v; stderr %s", line, err, stderr.String())
	}
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(started.Port) + im.Config.Healthcheck.Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("health check: %d", resp.StatusCode)
	}
}
