package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

// Every start of the binary runs the init of every package it links: the
// CLI's for each verb, the supervisor's, the calculator's. What glassbox's
// own packages do there is paid by all of them, for whatever few use it (a
// regexp wording one rare error, a lesson's table). The bound is on bytes
// the Go runtime counts, not on time: it does not move with the machine's
// load. Work that only some commands need waits for first use
// (sync.OnceValue).
func TestOwnPackageInitsStayLight(t *testing.T) {
	const maxBytes = 16 << 10
	stderr := initTrace(t)
	// init glassbox/ui/words @4.2 ms, 0.003 ms clock, 2384 bytes, 12 allocs
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(stderr))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		seen++
		if !strings.HasPrefix(f[1], "glassbox/") {
			continue
		}
		n, err := strconv.Atoi(f[7])
		if err != nil {
			t.Fatalf("inittrace line %q: %v", sc.Text(), err)
		}
		if n > maxBytes {
			t.Errorf("package %s allocates %d bytes in its init (at most %d): every start of the binary pays it; defer the work to first use", f[1], n, maxBytes)
		}
	}
	if seen == 0 {
		t.Fatalf("no inittrace lines in the output of GODEBUG=inittrace=1 glassbox version:\n%s", string(stderr))
	}
}

// The prefault package maps the heap's next pages in one call: it helps only
// if it runs before the package inits that allocate much, which Go's init
// order (lexically first ready package) decides, not the import list.
func TestPrefaultPrecedesTheInitsThatAllocate(t *testing.T) {
	const much = 8 << 10
	stderr := initTrace(t)
	prefaulted := false
	sc := bufio.NewScanner(bytes.NewReader(stderr))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		if f[1] == "glassbox/cmd/glassbox/prefault" {
			prefaulted = true
			continue
		}
		n, err := strconv.Atoi(f[7])
		if err != nil {
			t.Fatalf("inittrace line %q: %v", sc.Text(), err)
		}
		if n > much && !prefaulted {
			t.Errorf("package %s allocates %d bytes in its init before glassbox/cmd/glassbox/prefault has run", f[1], n)
		}
	}
	if !prefaulted {
		t.Fatalf("glassbox/cmd/glassbox/prefault is not initialized by glassbox version:\n%s", string(stderr))
	}
}

// initTrace is what GODEBUG=inittrace=1 glassbox version prints: a line per
// package init.
func initTrace(t *testing.T) []byte {
	t.Helper()
	cmd := exec.Command(sandboxtest.Binary(t), "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("glassbox version: %v\n%s", err, stderr.String())
	}
	return stderr.Bytes()
}
