// Command glassbox runs a service in a real Linux sandbox and shows, live,
// what the kernel sees.
package main

import (
	"os"
	"path/filepath"

	"glassbox/cmd/calculator/service"
)

func main() {
	// Multi-call binary, busybox-style: under the name "calculator" (as the
	// built-in image carries it at /app/calculator) it is the calculator.
	if filepath.Base(os.Args[0]) == "calculator" {
		os.Exit(service.Main())
	}
	os.Exit(execute(os.Args[1:]))
}
