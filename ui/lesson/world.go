package lesson

import (
	"context"
	"time"

	"glassbox/sandbox/state"
)

// World is what a lesson reads and does beyond the screen: cmd/glassbox
// wires it to the runtime (the store, the image store, the sandboxes' logs
// and layers), tests to fixtures. Every method may block; the runner calls
// them off the screen's goroutine.
type World interface {
	// Run runs a command line as the student would type it in a shell
	// (glassbox on PATH) and returns what it printed and its exit status.
	Run(ctx context.Context, line string) (out string, code int, err error)
	// Sandboxes lists every sandbox in the store.
	Sandboxes() ([]*state.Sandbox, error)
	// Remove stops and removes a sandbox (only ever one the lesson owns).
	Remove(id string) error
	// Image describes an image by name or id; nil, nil when there is none.
	Image(ref string) (*Image, error)
	// RemoveImage removes an image the lesson built.
	RemoveImage(id string) error
	// Logs is a sandbox's log so far.
	Logs(id string) (string, error)
	// HTTP sends a request (a JSON body, or none) and returns the status
	// and body.
	HTTP(method, url, body string) (int, string, error)
	// Stat describes a path in a sandbox's writable layer (upper) or in
	// its image's layers below it.
	Stat(id, path string, upper bool) (File, error)
	// CopiedUp lists the files of a sandbox's writable layer that its
	// image's layers also have: what overlayfs copied up.
	CopiedUp(id string) ([]CopyUp, error)
	// Terminal says what a sandbox's workload has as its standard input
	// ("/dev/pts/0" for a terminal).
	Terminal(id string) (string, error)
	// Exists says whether a path exists on the host.
	Exists(path string) bool
	// MakeDir writes files into a new temporary directory.
	MakeDir(files map[string]string) (string, error)
	// RemoveDir removes a directory MakeDir made.
	RemoveDir(dir string) error
	// Need says whether the machine has what a step needs ("qemu", or a
	// program), and if not, why.
	Need(what string) (ok bool, why string)
	// Host is the machine's kernel and cgroup mode.
	Host() Host
	// FreePort finds a free TCP port on 127.0.0.1.
	FreePort() (int, error)
	// LoadProgress and SaveProgress keep where the student is.
	LoadProgress() (Progress, error)
	SaveProgress(Progress) error
}

// Image is what a lesson reads of an image.
type Image struct {
	ID      string
	Names   []string
	Created time.Time
	Layers  []string // the layers' digests, bottom first
	History []HistoryStep
}

// HistoryStep is one instruction of an image's history.
type HistoryStep struct {
	CreatedBy string
	Empty     bool // made no layer (ENV, WORKDIR, CMD…)
	Size      int64
}

// File is a path as a layer has it.
type File struct {
	Exists   bool
	Kind     string // "file", "dir", "symlink", "whiteout", "other"
	Size     int64
	HostPath string
}

// CopyUp is a file overlayfs copied up into a sandbox's writable layer.
type CopyUp struct {
	Path      string
	Size      int64 // in the writable layer
	LowerSize int64 // in the image's layer below
}

// Host is what a lesson compares a sandbox with.
type Host struct {
	Kernel     string
	Hostname   string
	CgroupMode string
}

// Progress is where a student is, and what the lesson left behind.
type Progress struct {
	Chapter int             `json:"chapter"` // 1-based
	Step    int             `json:"step"`    // 1-based
	Done    map[string]bool `json:"done,omitempty"`
	Updated time.Time       `json:"updated"`
	// Owned is what the last session created and had not removed yet
	// (it ended without cleaning up: killed): the next start removes it.
	Owned Owned `json:"owned,omitempty"`
}
