package engines_test

import (
	"os/exec"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
)

// BenchmarkPsEnginesVsDockerPs lists a machine's containers with the two
// CLIs, interleaved in one run: `glassbox ps --engines` (docker's Engine
// API, a /proc scan for shims and conmons, the runtimes' state
// directories) against `docker ps` (the Engine API alone), with one
// running docker container. It reports each one's mean time per listing.
//
//	go test -run XXX -bench PsEngines -benchtime 20x ./inspect/engines
func BenchmarkPsEnginesVsDockerPs(b *testing.B) {
	sandboxtest.RequireRoot(b)
	sandboxtest.TempRoots(b)
	bin := sandboxtest.Binary(b)
	d := sandboxtest.Dockerd(b)
	b.Setenv("DOCKER_HOST", d.Host)
	img := d.ImportBusybox(b)
	d.Run(b, "run", "-d", "--name", "idle", img, "sleep", "600")
	var gb, dk time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if out, err := exec.Command(bin, "ps", "--engines").CombinedOutput(); err != nil {
			b.Fatalf("glassbox ps --engines: %v\n%s", err, out)
		}
		gb += time.Since(start)
		start = time.Now()
		if out, err := d.Command("ps").CombinedOutput(); err != nil {
			b.Fatalf("docker ps: %v\n%s", err, out)
		}
		dk += time.Since(start)
	}
	b.ReportMetric(float64(gb.Microseconds())/float64(b.N)/1000, "ms/glassbox-ps")
	b.ReportMetric(float64(dk.Microseconds())/float64(b.N)/1000, "ms/docker-ps")
}
