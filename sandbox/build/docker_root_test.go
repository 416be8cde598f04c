package build_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

// Images go between glassbox and a real docker both ways: docker build →
// docker save → glassbox load → glassbox run; glassbox build → glassbox
// save → docker load → docker run, and docker history shows glassbox's
// steps.
func TestDockerRoundTrips(t *testing.T) {
	sandboxtest.RequireRoot(t)
	hostOnly(t, "docker archives and a dockerd, nothing of cgroup v2")
	sandboxtest.TempRoots(t)
	d := sandboxtest.Dockerd(t)
	base := d.ImportBusybox(t)
	dir := t.TempDir()

	ctx := buildContext(t, "FROM "+base+"\nRUN echo from-docker > /hi\nCMD [\"cat\", \"/hi\"]\n", nil)
	d.Run(t, "build", "-q", "-t", "fromdocker:v1", ctx)
	archive := filepath.Join(dir, "fromdocker.tar")
	d.Run(t, "save", "-o", archive, "fromdocker:v1")
	if out, errs, code := glassbox(t, "load", "-i", archive); code != 0 || !strings.Contains(out, "Loaded image: fromdocker:v1") {
		t.Fatalf("glassbox load of docker's archive: exit %d %s%s", code, out, errs)
	}
	if out, errs, code := glassbox(t, "run", "fromdocker:v1"); code != 0 || out != "from-docker\n" {
		t.Errorf("glassbox run of docker's image: exit %d %q %s", code, out, errs)
	}

	ctx = buildContext(t, "FROM busybox\nRUN echo from-glassbox > /hi\nCMD [\"cat\", \"/hi\"]\n", nil)
	if out, errs, code := glassbox(t, "build", "-q", "-t", "fromglassbox:v1", ctx); code != 0 {
		t.Fatalf("glassbox build: %s%s", out, errs)
	}
	archive = filepath.Join(dir, "fromglassbox.tar")
	if out, errs, code := glassbox(t, "save", "-o", archive, "fromglassbox:v1"); code != 0 {
		t.Fatalf("glassbox save: %s%s", out, errs)
	}
	if fi, err := os.Stat(archive); err != nil || fi.Size() == 0 {
		t.Fatalf("no archive: %v", err)
	}
	d.Run(t, "load", "-i", archive)
	if out := d.Run(t, "run", "--rm", "--network", "none", "fromglassbox:v1"); out != "from-glassbox" {
		t.Errorf("docker run of glassbox's image: %q", out)
	}
	if hist := d.Run(t, "history", "--no-trunc", "fromglassbox:v1"); !strings.Contains(hist, "RUN echo from-glassbox > /hi") || !strings.Contains(hist, "COPY busybox /bin/busybox") {
		t.Errorf("docker history lacks glassbox's steps:\n%s", hist)
	}
	gid, _, _ := glassbox(t, "images", "-q")
	if did := d.Run(t, "images", "-q", "fromglassbox:v1"); !strings.Contains(gid, did) {
		t.Errorf("docker's image id %s is not one of glassbox's:\n%s", did, gid)
	}
}
