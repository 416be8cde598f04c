// Package service is the calculator: a small, container-friendly HTTP service
// (configured by environment, /health, graceful shutdown, logs on stdout).
// Both cmd/calculator and the glassbox binary (as "glassbox calculator", or
// when invoked under the name "calculator") run it through Main.
package service

import (
	"fmt"
	"os"
)

// Main runs the calculator until it is told to stop and returns its exit status.
// PLACEHOLDER: replaced by the calculator's real implementation.
func Main() int {
	fmt.Fprintln(os.Stderr, "calculator: not built yet")
	return 1
}
