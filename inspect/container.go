package inspect

import (
	"strings"
	"time"

	"glassbox/sandbox/state"
)

// Engines whose containers glassbox reads (see the engines package, which
// finds them). glassbox never changes them.
const (
	EngineDocker     = "docker"
	EnginePodman     = "podman"
	EngineKubernetes = "k8s"        // a containerd container in k8s.io with the CRI's labels
	EngineContainerd = "containerd" // any other containerd container
	EngineRunc       = "runc"
	EngineCrun       = "crun"
)

// Container is another engine's container as that engine describes it
// through its public interface (an API socket, a runtime's state
// directory, an OCI bundle). The kernel's view of it is the Snapshot's;
// this is what the engine asked for and calls it.
type Container struct {
	Engine string `json:"engine"` // docker, podman, k8s, containerd, runc, crun
	// Namespace is containerd's namespace (k8s.io, moby, default).
	Namespace string `json:"namespace,omitempty"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Image     string `json:"image,omitempty"`
	ImageID   string `json:"image_id,omitempty"`
	// Status is the engine's word for it: running, paused, created, exited.
	Status  string    `json:"status"`
	PID     int       `json:"pid"` // the host PID of its first process; 0 when not running
	Created time.Time `json:"created,omitzero"`
	Started time.Time `json:"started,omitzero"`
	// Pod is set for a Kubernetes container (from the CRI's labels, or its
	// annotations in the OCI spec when containerd's socket is not reachable).
	Pod         *Pod              `json:"pod,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Ports       []state.Port      `json:"ports,omitempty"`
	// Limits are what the engine asked for; the Snapshot's cgroup says
	// what the kernel holds.
	Limits state.Limits `json:"limits"`
	// Bundle is the OCI bundle directory the runtime was started on
	// (runc, containerd, podman); RootFS the root directory it was given.
	Bundle string `json:"bundle,omitempty"`
	RootFS string `json:"rootfs,omitempty"`
	// Layers are the image's layers as the root overlay stacks them,
	// top-most first, where the engine's metadata maps its directories to
	// layer ids (docker's overlay2). Dir is the directory the layer's
	// files are in (the target of the short link the mount names).
	Layers []state.Layer `json:"layers,omitempty"`
	// Source says where this description was read from: the API request,
	// or the state file.
	Source string `json:"source"`
}

// Pod names a Kubernetes container the way kubectl does.
type Pod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Container string `json:"container"`
	UID       string `json:"uid,omitempty"`
}

// Ref is how a user names the container on glassbox's command line:
// docker:NAME, podman:NAME, k8s:NAMESPACE/POD/CONTAINER,
// containerd:NAMESPACE/ID, runc:ID, crun:ID.
func (c *Container) Ref() string {
	switch {
	case c.Engine == EngineKubernetes && c.Pod != nil:
		return c.Engine + ":" + c.Pod.Namespace + "/" + c.Pod.Name + "/" + c.Pod.Container
	case c.Engine == EngineContainerd:
		return c.Engine + ":" + c.Namespace + "/" + c.ID
	case c.Name != "":
		return c.Engine + ":" + c.Name
	}
	return c.Engine + ":" + c.ID
}

// ShortID is the first 12 characters of a long hexadecimal id, as docker
// shows it; an id chosen by a person (runc's, ctr's) is kept whole.
func (c *Container) ShortID() string {
	if len(c.ID) == 64 && strings.Trim(c.ID, "0123456789abcdef") == "" {
		return c.ID[:12]
	}
	return c.ID
}

// Running says whether the container has a live first process to read.
func (c *Container) Running() bool {
	return c.PID > 0 && state.Status(c.Status).Live() // engines say "running" and "paused" as glassbox does
}

// Record is the read-only record under which the container appears beside
// glassbox's sandboxes (in ps and the live view): its Engine is set, its id
// and name are the container's Ref, so that every view keys and names it the
// way the command line does. It is made afresh on each look, never stored.
func (c *Container) Record() *state.Sandbox {
	st := state.Exited
	switch c.Status {
	case "running":
		st = state.Running
	case "paused":
		st = state.Paused
	case "created":
		st = state.Created
	}
	if (st.Live()) && c.PID <= 0 {
		st = state.Exited
	}
	ref := c.Ref()
	started := c.Started
	if started.IsZero() && (st.Live()) {
		started = c.Created // runtimes record when they created it, not when it started
	}
	img := c.Image
	if img == "" {
		img = "-"
	}
	return &state.Sandbox{
		ID: ref, Name: ref, Engine: c.Engine, Image: img, Hostname: c.Hostname,
		Status: st, InitPID: c.PID, WorkloadPID: c.PID,
		Limits: c.Limits, Layers: c.Layers,
		Network: state.Network{Ports: c.Ports},
		Created: c.Created, Started: started,
	}
}

// ParseRef splits ENGINE:REST, the form of a foreign container's name on
// the command line; ok is false for a plain glassbox sandbox name.
func ParseRef(ref string) (engine, rest string, ok bool) {
	engine, rest, ok = strings.Cut(ref, ":")
	if !ok {
		return "", "", false
	}
	switch engine {
	case EngineDocker, EnginePodman, EngineKubernetes, EngineContainerd, EngineRunc, EngineCrun:
		return engine, rest, true
	}
	return "", "", false
}

// Match says whether the container is the one a ref names: by its Ref, or
// by the engine and its id or a unique-looking id prefix (docker's habit).
func (c *Container) Match(ref string) bool {
	if ref == c.Ref() {
		return true
	}
	engine, rest, ok := ParseRef(ref)
	if !ok || rest == "" {
		return false
	}
	if engine != c.Engine {
		// k8s containers are containerd's too.
		if !(engine == EngineContainerd && c.Engine == EngineKubernetes) {
			return false
		}
	}
	if ns, id, found := strings.Cut(rest, "/"); found && engine == EngineContainerd {
		return ns == c.Namespace && (id == c.ID || (len(id) >= 4 && strings.HasPrefix(c.ID, id)))
	}
	return rest == c.ID || rest == c.Name || (len(rest) >= 4 && strings.HasPrefix(c.ID, rest))
}
