package engines

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"glassbox/inspect"
)

// Containerd and podman keep no daemon-independent list of what runs, but
// each running container has a small process watching it that says where
// its state is: containerd's shim (containerd-shim-runc-v2 -namespace NS
// -id ID -address SOCKET, working directory the task's bundle) and
// podman's or CRI-O's conmon (-c ID -n NAME -b BUNDLE -p PIDFILE). Finding
// them among the host's processes finds their containers wherever the
// engine keeps its state, even when its socket is not mounted or not ours.

type engineErr struct {
	engine string
	err    error
}

// processContainers finds the containers of the shims and conmons running.
func processContainers(ctx context.Context, p Places) ([]*inspect.Container, []engineErr) {
	ents, err := os.ReadDir(p.ProcRoot)
	if err != nil {
		return nil, []engineErr{{inspect.EngineContainerd, err}}
	}
	var out []*inspect.Container
	var errs []engineErr
	nsDirs := map[string]string{} // a containerd namespace's task dir -> its socket
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		args := cmdline(p.ProcRoot, pid)
		if len(args) == 0 {
			continue
		}
		switch base := filepath.Base(args[0]); {
		case strings.HasPrefix(base, "containerd-shim"):
			cwd, err := os.Readlink(filepath.Join(p.ProcRoot, e.Name(), "cwd"))
			if err != nil {
				if !absent(err) {
					errs = append(errs, engineErr{inspect.EngineContainerd, err})
				}
				continue
			}
			// A shim may serve several containers of a pod (grouping):
			// every bundle beside its own belongs to the namespace.
			nsDirs[filepath.Dir(cwd)] = flag(args, "-address")
		case base == "conmon":
			c, err := conmonContainer(p, args)
			if err != nil {
				if !absent(err) {
					errs = append(errs, engineErr{inspect.EnginePodman, err})
				}
				continue
			}
			if c != nil {
				out = append(out, c)
			}
		}
	}
	seen := map[string]map[string]bool{} // socket -> namespaces its shims showed
	failed := map[string]bool{}          // sockets already said to be unreadable
	for dir, address := range nsDirs {
		cs, err := containerdNamespace(ctx, p, dir, address)
		out = append(out, cs...)
		if err != nil {
			errs = append(errs, engineErr{inspect.EngineContainerd, err})
			failed[address] = true
		}
		if seen[address] == nil {
			seen[address] = map[string]bool{}
		}
		seen[address][filepath.Base(dir)] = true
	}
	// The namespaces without a running task: only the API knows them.
	sockets := []string{p.ContainerdSocket}
	for a := range seen {
		if a != p.ContainerdSocket {
			sockets = append(sockets, a)
		}
	}
	for _, a := range sockets {
		if a == "" || failed[a] {
			continue
		}
		cs, err := containerdSocket(ctx, p, a, seen[a])
		out = append(out, cs...)
		if err != nil && !absent(err) {
			errs = append(errs, engineErr{inspect.EngineContainerd, fmt.Errorf("%s: %w", a, err)})
		}
	}
	return out, errs
}

// cmdline is a process's argument vector; nil when it cannot be read (it
// exited, or it is a kernel thread).
func cmdline(procRoot string, pid int) []string {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "cmdline"))
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
}

// flag is the value of a command-line flag given as "-name value",
// "--name value" or "--name=value"; "" when absent.
func flag(args []string, names ...string) string {
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, n+"="); ok {
				return v
			}
		}
	}
	return ""
}

// readPID reads a pid file ("4520\n"); 0 when absent or bad.
func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return n
}
