package build_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
)

// BenchmarkCourseVsDocker builds the course example with glassbox and with
// docker build (Debian's docker.io, a dockerd of the test kit's own, its
// busybox imported from the same static binary), interleaved, three ways:
// cold (--no-cache), fully cached, and after a change to the app. It
// reports the medians of 3 rounds in ms; run it with -benchtime 1x.
func BenchmarkCourseVsDocker(b *testing.B) {
	sandboxtest.RequireRoot(b)
	sandboxtest.TempRoots(b)
	d := sandboxtest.Dockerd(b)
	d.Run(b, "tag", d.ImportBusybox(b), "busybox:latest")
	ctx := courseContext(b)
	bin := sandboxtest.Binary(b)
	timed := func(cmd *exec.Cmd) time.Duration {
		t0 := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
		return time.Since(t0)
	}
	gb := func(args ...string) *exec.Cmd {
		return exec.Command(bin, append([]string{"build", "-q", "-t", "course"}, append(args, ctx)...)...)
	}
	dk := func(args ...string) *exec.Cmd {
		c := d.Command(append([]string{"build", "-q", "-t", "course"}, append(args, ctx)...)...)
		c.Env = append(c.Env, "DOCKER_BUILDKIT=0")
		return c
	}
	res := map[string][]time.Duration{}
	for b.Loop() {
		for range 3 {
			res["glassbox-cold"] = append(res["glassbox-cold"], timed(gb("--no-cache")))
			res["docker-cold"] = append(res["docker-cold"], timed(dk("--no-cache")))
			res["glassbox-cached"] = append(res["glassbox-cached"], timed(gb()))
			res["docker-cached"] = append(res["docker-cached"], timed(dk()))
			f, _ := os.OpenFile(filepath.Join(ctx, "calculator"), os.O_APPEND|os.O_WRONLY, 0)
			f.Write([]byte("x"))
			f.Close()
			res["glassbox-app-change"] = append(res["glassbox-app-change"], timed(gb()))
			res["docker-app-change"] = append(res["docker-app-change"], timed(dk()))
		}
	}
	for k, v := range res {
		slices.Sort(v)
		b.ReportMetric(float64(v[len(v)/2].Microseconds())/1000, k+"-ms")
	}
}
