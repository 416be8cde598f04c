package cgroup

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"
)

// helperEnv makes the test binary, re-executed, play a workload instead of
// running the tests: "alloc:<MiB>" touches that much memory, "spin" burns CPU.
// Either waits for one byte on stdin first, so that the test can move it into
// a cgroup before it does anything.
const helperEnv = "GLASSBOX_CGROUP_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

func runHelper(mode string) int {
	var b [1]byte
	if _, err := io.ReadFull(os.Stdin, b[:]); err != nil {
		fmt.Fprintln(os.Stderr, "helper: no start signal:", err)
		return 2
	}
	switch {
	case mode == "spin":
		for x := 0; ; x++ {
			if x < 0 {
				return 0
			}
		}
	case len(mode) > 6 && mode[:6] == "alloc:":
		mib, err := strconv.Atoi(mode[6:])
		if err != nil {
			return 2
		}
		var keep [][]byte
		for range mib {
			chunk := make([]byte, 1<<20)
			for i := 0; i < len(chunk); i += 4096 {
				chunk[i] = 1 // touch every page so that it is really charged
			}
			keep = append(keep, chunk)
		}
		fmt.Println("allocated", len(keep), "MiB")
		time.Sleep(time.Hour) // hold it: only the OOM killer ends this
		return 0
	}
	fmt.Fprintln(os.Stderr, "helper: unknown mode", mode)
	return 2
}

// testID is a sandbox id that cannot clash with another test's or a real one.
func testID(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "test-" + hex.EncodeToString(b)
}
