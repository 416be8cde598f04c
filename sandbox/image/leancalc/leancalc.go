// Package leancalc carries a lean build of the calculator service for the
// built-in calculator image: static, stripped, without glassbox's CLI, UI
// and runtime. glassbox itself is a multi-call binary that is the
// calculator under that name, and the image carried it until this package
// existed; a 28 MB dynamically linked binary that initialises every
// package of glassbox costs each start of the calculator milliseconds of
// page faults, relocations and package init that the service never uses.
//
// The build is made by `go generate ./sandbox/image/leancalc` (gen.go:
// CGO_ENABLED=0 go build of glassbox/cmd/calculator, zstd-compressed into
// build/calculator.zst, which is not committed); the README's commands and
// .ci run it before building glassbox. A glassbox built without it (a
// plain `go build ./cmd/glassbox` of a fresh clone) has none: the image then
// carries glassbox itself, as before, and serves the same service.
package leancalc

//go:generate go run gen.go

import (
	"bytes"
	"embed"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

//go:embed build
var build embed.FS

// blobName is the generated file in build/.
const blobName = "build/calculator.zst"

// Present says whether this glassbox carries the lean calculator.
func Present() bool {
	_, err := build.Open(blobName)
	return err == nil
}

// WriteTo writes the lean calculator, decompressed, to w; it fails when
// Present is false.
func WriteTo(w io.Writer) (int64, error) {
	data, err := build.ReadFile(blobName)
	if err != nil {
		return 0, fmt.Errorf("the lean calculator: %w (go generate ./sandbox/image/leancalc makes it)", err)
	}
	dec, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return 0, fmt.Errorf("the lean calculator: %w", err)
	}
	defer dec.Close()
	n, err := io.Copy(w, dec)
	if err != nil {
		return n, fmt.Errorf("the lean calculator: %w", err)
	}
	return n, nil
}

// BuildArgs are go's arguments (with CGO_ENABLED=0 in the environment)
// that build the lean calculator into out: gen.go's build, and the test's
// that checks the embedded one is the current source's. -trimpath and an
// empty build id make the build reproducible.
func BuildArgs(out string) []string {
	return []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, "glassbox/cmd/calculator"}
}
