// Package engines finds the containers of the other engines on the machine
// — docker, podman, containerd (and Kubernetes through it), plain runc and
// crun — each through its public interface: docker's and podman's Engine
// API on their sockets, containerd's shims and their OCI bundles (with its
// API for the labels), the runtimes' state directories. It only reads:
// it asks nothing that changes a container, and never writes.
//
// An engine that is absent (no socket, no state directory) is skipped
// quietly; one that is present but cannot be read is reported as a
// Problem that says why.
package engines

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"glassbox/inspect"
)

// Places are where the engines are looked for. Host() gives the defaults
// of a machine (and honours DOCKER_HOST, CONTAINER_HOST); tests point them
// at their own daemons.
type Places struct {
	ProcRoot string // /proc: containerd's shims and podman's conmons are found among its processes
	// DockerHost is docker's API socket, unix:///var/run/docker.sock.
	DockerHost string
	// DockerRoot is docker's data root, for its layer metadata; empty asks
	// the daemon (GET /info).
	DockerRoot string
	// PodmanSocket is podman's API socket (podman system service).
	PodmanSocket string
	// ContainerdSocket is containerd's API socket, asked for the containers
	// that have no task (the others are found through their shims, which
	// name their own containerd's socket).
	ContainerdSocket string
	// RuntimeRoots are the state directories of plain runtimes, by runtime.
	RuntimeRoots map[string][]string
	// Timeout bounds each engine's answers.
	Timeout time.Duration
}

// Host is where a machine's engines keep their sockets and state.
func Host() Places {
	p := Places{
		ProcRoot:         "/proc",
		DockerHost:       "unix:///var/run/docker.sock",
		PodmanSocket:     "/run/podman/podman.sock",
		ContainerdSocket: "/run/containerd/containerd.sock",
		RuntimeRoots: map[string][]string{
			inspect.EngineRunc: {"/run/runc"},
			inspect.EngineCrun: {"/run/crun"},
		},
		Timeout: 3 * time.Second,
	}
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		p.DockerHost = h // a tcp:// one is said to be unread: see newAPIClient
	}
	if a := os.Getenv("CONTAINERD_ADDRESS"); a != "" {
		p.ContainerdSocket = strings.TrimPrefix(a, "unix://") // as ctr takes it
	}
	if h := os.Getenv("CONTAINER_HOST"); strings.HasPrefix(h, "unix://") {
		p.PodmanSocket = strings.TrimPrefix(h, "unix://")
	}
	return p
}

// Problem is an engine that is there but could not be read.
type Problem struct {
	Engine string `json:"engine"`
	Err    string `json:"error"`
}

func (p Problem) String() string { return p.Engine + ": " + p.Err }

// Found is what one look found.
type Found struct {
	Containers []*inspect.Container `json:"containers"`
	Problems   []Problem            `json:"problems,omitempty"`
}

// preference orders engines for a container several of them describe
// (docker's containers are containerd's moby namespace and runc's too):
// the most telling description wins.
var preference = []string{
	inspect.EngineDocker, inspect.EnginePodman, inspect.EngineKubernetes,
	inspect.EngineContainerd, inspect.EngineRunc, inspect.EngineCrun,
}

// Discover lists the containers of every engine present, running or not
// (as far as the engine keeps stopped ones). A running container seen by
// several engines (its PID is the same) is listed once, under the most
// telling one; Kubernetes' pod sandboxes (pause containers) are left out.
func Discover(ctx context.Context, p Places) Found {
	if p.Timeout <= 0 {
		p.Timeout = 3 * time.Second
	}
	var f Found
	add := func(engine string, cs []*inspect.Container, err error) {
		f.Containers = append(f.Containers, cs...)
		if err != nil && !absent(err) {
			msg := err.Error()
			if errors.Is(err, fs.ErrPermission) {
				msg += " (another engine's state is root's to read: run glassbox as root)"
			}
			f.Problems = append(f.Problems, Problem{Engine: engine, Err: msg})
		}
	}
	cs, err := dockerContainers(ctx, p, inspect.EngineDocker, p.DockerHost)
	add(inspect.EngineDocker, cs, err)
	if p.PodmanSocket != "" {
		cs, err = dockerContainers(ctx, p, inspect.EnginePodman, "unix://"+p.PodmanSocket)
		add(inspect.EnginePodman, cs, err)
	}
	cs, errs := processContainers(ctx, p)
	add(inspect.EngineContainerd, cs, nil)
	for _, e := range errs {
		add(e.engine, nil, e.err)
	}
	for _, rt := range []string{inspect.EngineRunc, inspect.EngineCrun} {
		for _, root := range p.RuntimeRoots[rt] {
			cs, err := runtimeContainers(p, rt, root)
			add(rt, cs, err)
		}
	}
	f.Containers = dedupe(f.Containers)
	return f
}

// dedupe keeps one description per running process, the most telling, and
// drops pod sandboxes; the order is by engine, then by ref.
func dedupe(cs []*inspect.Container) []*inspect.Container {
	rank := func(c *inspect.Container) int { return slices.Index(preference, c.Engine) }
	slices.SortStableFunc(cs, func(a, b *inspect.Container) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a.Ref(), b.Ref())
	})
	seenPID := map[int]bool{}
	seenID := map[string]bool{}
	var out []*inspect.Container
	for _, c := range cs {
		if podSandbox(c) {
			continue
		}
		if c.PID > 0 && seenPID[c.PID] {
			continue
		}
		// A stopped docker container is containerd's and runc's no more,
		// but the same id may still be in a runtime's state directory.
		if c.PID <= 0 && seenID[c.ID] {
			continue
		}
		seenPID[c.PID] = c.PID > 0
		seenID[c.ID] = true
		out = append(out, c)
	}
	return out
}

// Find returns the one container a ref names (docker:NAME,
// k8s:NS/POD/CONTAINER, containerd:NS/ID, runc:ID, …; an id prefix of
// four or more characters also does), among what Discover found.
func Find(f Found, ref string) (*inspect.Container, error) {
	engine, _, ok := inspect.ParseRef(ref)
	if !ok {
		return nil, fmt.Errorf("%q names no engine: use docker:NAME, podman:NAME, k8s:NAMESPACE/POD/CONTAINER, containerd:NAMESPACE/ID, runc:ID or crun:ID", ref)
	}
	var exact, matches []*inspect.Container
	for _, c := range f.Containers {
		if c.Ref() == ref {
			exact = append(exact, c)
		} else if c.Match(ref) {
			matches = append(matches, c)
		}
	}
	if len(exact) == 1 {
		return exact[0], nil
	}
	matches = append(exact, matches...)
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		msg := fmt.Sprintf("no %s container %s", engine, ref)
		for _, p := range f.Problems {
			if p.Engine == engine || (engine == inspect.EngineKubernetes && p.Engine == inspect.EngineContainerd) {
				msg += " (" + p.String() + ")"
			}
		}
		return nil, errors.New(msg)
	}
	var refs []string
	for _, c := range matches {
		refs = append(refs, c.Ref()+" ("+c.ShortID()+")")
	}
	return nil, fmt.Errorf("%s is ambiguous: %s", ref, strings.Join(refs, ", "))
}

// absent says whether an error only means the engine is not on this
// machine (or not running): no socket, no state directory, nobody
// listening on a socket left behind.
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}
