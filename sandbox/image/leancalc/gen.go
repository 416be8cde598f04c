//go:build ignore

// gen builds the lean calculator (see leancalc.go) into build/calculator.zst:
// a static, stripped, reproducible build of glassbox/cmd/calculator,
// compressed with zstd. Run by `go generate ./sandbox/image/leancalc`.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/klauspost/compress/zstd"

	"glassbox/sandbox/image/leancalc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "leancalc gen:", err)
		os.Exit(1)
	}
}

func run() error {
	tmp, err := os.MkdirTemp("", "glassbox-leancalc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "calculator")
	cmd := exec.Command("go", leancalc.BuildArgs(bin)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	raw, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	packed := enc.EncodeAll(raw, nil)
	enc.Close()
	out := filepath.Join("build", "calculator.zst")
	if err := os.WriteFile(out+".tmp", packed, 0o644); err != nil {
		return err
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "leancalc: %s: %d bytes (%d unpacked)\n", out, len(packed), len(raw))
	return nil
}
