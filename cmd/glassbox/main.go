// Command glassbox runs a service in a real Linux sandbox and shows, live,
// what the kernel sees.
package main

import (
	"os"
	"path/filepath"

	"glassbox/cmd/calculator/service"
	_ "glassbox/cmd/glassbox/prefault" // first of the package inits that allocate: see its doc
	"glassbox/cmd/glassbox/quietterm"
	"glassbox/sandbox"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/vm/guest"
)

func main() {
	quietterm.Restore() // first: see quietterm/quietterm.c
	// Multi-call binary, busybox-style: under the name "calculator" (as the
	// built-in image carries it at /app/calculator) it is the calculator.
	if filepath.Base(os.Args[0]) == "calculator" {
		os.Exit(service.Main())
	}
	// As /init of glassbox's micro-VM (vm-vs-container) it is the VM's init.
	if guest.IsInit() {
		os.Exit(guest.Main())
	}
	// What the caller left open without close-on-exec stays out of
	// everything glassbox starts; the supervisor keeps its socket.
	var keep []int
	if len(os.Args) > 1 && os.Args[1] == lifecycle.SupervisorVerb {
		keep = append(keep, lifecycle.ReadyFD)
	}
	sandbox.CloseInheritedFiles(keep...)
	code := execute(os.Args[1:])
	if code == 0 {
		// `run -d` split by the constructor: this process is its
		// sandbox's supervisor now.
		if supervised, ok := lifecycle.DetachHostedSupervisor(); ok {
			os.Exit(supervised)
		}
	}
	os.Exit(code)
}
