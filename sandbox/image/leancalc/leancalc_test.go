package leancalc

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The embedded calculator is the current source's: a change to the
// service without `go generate` would otherwise leave the image serving
// the old code while `glassbox calculator` serves the new.
func TestEmbeddedIsCurrent(t *testing.T) {
	if !Present() {
		if os.Getenv("GLASSBOX_TEST_STRICT") != "" {
			t.Fatal("no lean calculator embedded: run go generate ./sandbox/image/leancalc (.ci/test does)")
		}
		t.Skip("no lean calculator embedded (go generate ./sandbox/image/leancalc makes it); the image carries glassbox itself")
	}
	var got bytes.Buffer
	if _, err := WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "calculator")
	cmd := exec.Command("go", BuildArgs(out)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("the embedded lean calculator (%d bytes) is not a build of the current source (%d bytes): run go generate ./sandbox/image/leancalc", got.Len(), len(want))
	}
	// It is the calculator, static: it runs without a loader or libraries.
	bin := filepath.Join(t.TempDir(), "calculator")
	if err := os.WriteFile(bin, got.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	v, err := exec.Command(bin, "version").Output()
	if err != nil || !bytes.HasPrefix(v, []byte("calculator (glassbox) ")) {
		t.Fatalf("calculator version: %q, %v", v, err)
	}
}
