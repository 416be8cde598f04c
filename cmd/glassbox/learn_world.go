package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/image"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/state"
	"glassbox/sandbox/vm"
	"glassbox/ui/lesson"
)

// learnWorld is what a lesson reads and does (lesson.World), on the
// engine's state roots: the store and image store, the sandboxes' layers
// and logs, and command lines run as a student types them.
type learnWorld struct {
	eng    *lifecycle.Engine
	images *image.Store
	// bin is a directory with "glassbox" in it (this binary), first on the
	// PATH of the command lines a lesson runs.
	bin    string
	client *http.Client

	mu sync.Mutex // the progress file
}

func newLearnWorld(eng *lifecycle.Engine) (*learnWorld, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the glassbox binary: %w", err)
	}
	bin, err := os.MkdirTemp("", "glassbox-lesson-bin-")
	if err != nil {
		return nil, err
	}
	if err := os.Symlink(self, filepath.Join(bin, "glassbox")); err != nil {
		os.RemoveAll(bin)
		return nil, err
	}
	return &learnWorld{eng: eng, images: image.NewStore(eng.Roots), bin: bin,
		client: &http.Client{Timeout: 3 * time.Second}}, nil
}

// Close removes the directory of the glassbox link.
func (w *learnWorld) Close() { os.RemoveAll(w.bin) }

func (w *learnWorld) Run(ctx context.Context, line string) (string, int, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Env = append(os.Environ(), "PATH="+w.bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GLASSBOX_ROOT="+rootDir(w.eng.Roots), "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A command may leave processes behind that hold its output open (a
	// sandbox's background jobs): its end is the shell's exit.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode(), nil
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		return out.String(), cmd.ProcessState.ExitCode(), nil
	}
	if err != nil {
		return out.String(), -1, err
	}
	return out.String(), 0, nil
}

// rootDir is GLASSBOX_ROOT for roots, "" for the default ones.
func rootDir(r state.Roots) string {
	if dir := filepath.Dir(r.Lib); state.RootsAt(dir) == r {
		return dir
	}
	return ""
}

func (w *learnWorld) Sandboxes() ([]*state.Sandbox, error) { return w.eng.List(true) }

func (w *learnWorld) Remove(id string) error {
	var err error
	// A sandbox between two runs (its restart policy at work) may refuse
	// for a moment: try again.
	for try := 0; try < 3; try++ {
		if err = w.eng.Remove(id, true); err == nil || errors.Is(err, state.ErrNotFound) {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return err
}

func (w *learnWorld) Image(ref string) (*lesson.Image, error) {
	im, err := w.images.Find(ref)
	if errors.Is(err, image.ErrUnknown) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := &lesson.Image{ID: im.ID, Names: im.Tags, Created: im.Created}
	for _, l := range im.Layers {
		out.Layers = append(out.Layers, l.Digest)
	}
	for _, h := range im.History {
		out.History = append(out.History, lesson.HistoryStep{CreatedBy: h.CreatedBy, Empty: h.EmptyLayer, Size: h.Size})
	}
	return out, nil
}

func (w *learnWorld) RemoveImage(id string) error {
	_, err := w.images.Remove(id, true)
	if errors.Is(err, image.ErrUnknown) {
		return nil
	}
	return err
}

func (w *learnWorld) Logs(id string) (string, error) {
	var b bytes.Buffer
	err := w.eng.Logs(context.Background(), id, lifecycle.LogOptions{Tail: -1}, &b)
	return b.String(), err
}

func (w *learnWorld) HTTP(method, url, body string) (int, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := w.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, string(b), err
}

// sandbox is a sandbox's record by id.
func (w *learnWorld) sandbox(id string) (*state.Sandbox, error) {
	return w.eng.Get(id)
}

func (w *learnWorld) Stat(id, path string, upper bool) (lesson.File, error) {
	sb, err := w.sandbox(id)
	if err != nil {
		return lesson.File{}, err
	}
	var fi fs.FileInfo
	host := ""
	if upper {
		host = filepath.Join(sb.UpperDir, filepath.Clean("/"+path))
		if fi, err = os.Lstat(host); err != nil {
			return lesson.File{HostPath: host}, nil
		}
	} else {
		var ok bool
		if fi, ok = image.Lookup(sb.Layers, path); !ok {
			return lesson.File{}, nil
		}
	}
	return lesson.File{Exists: true, Kind: fileKind(fi), Size: fi.Size(), HostPath: host}, nil
}

// fileKind words a file's type; a 0/0 character device is overlayfs's whiteout.
func fileKind(fi fs.FileInfo) string {
	m := fi.Mode()
	switch {
	case m.IsRegular():
		return "file"
	case m.IsDir():
		return "dir"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeCharDevice != 0:
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Rdev == 0 {
			return "whiteout"
		}
	}
	return "other"
}

func (w *learnWorld) CopiedUp(id string) ([]lesson.CopyUp, error) {
	sb, err := w.sandbox(id)
	if err != nil {
		return nil, err
	}
	var out []lesson.CopyUp
	err = filepath.WalkDir(sb.UpperDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(sb.UpperDir, p)
		low, ok := image.Lookup(sb.Layers, rel)
		if !ok || !low.Mode().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			out = append(out, lesson.CopyUp{Path: "/" + rel, Size: fi.Size(), LowerSize: low.Size()})
		}
		return nil
	})
	return out, err
}

func (w *learnWorld) Terminal(id string) (string, error) {
	sb, err := w.sandbox(id)
	if err != nil {
		return "", err
	}
	if sb.WorkloadPID <= 0 {
		return "", fmt.Errorf("%s has no workload running", sb.Name)
	}
	return os.Readlink(fmt.Sprintf("/proc/%d/fd/0", sb.WorkloadPID))
}

func (w *learnWorld) Exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// lessonDirPrefix names the directories a lesson writes, so that RemoveDir
// removes nothing else.
const lessonDirPrefix = "glassbox-lesson-"

func (w *learnWorld) MakeDir(files map[string]string) (string, error) {
	dir, err := os.MkdirTemp("", lessonDirPrefix)
	if err != nil {
		return "", err
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

func (w *learnWorld) RemoveDir(dir string) error {
	if !strings.HasPrefix(filepath.Base(dir), lessonDirPrefix) || filepath.Dir(dir) != filepath.Clean(os.TempDir()) {
		return fmt.Errorf("%s is not a directory a lesson made", dir)
	}
	return os.RemoveAll(dir)
}

func (w *learnWorld) Need(what string) (bool, string) {
	if what != "qemu" {
		if _, err := exec.LookPath(what); err != nil {
			return false, "has no " + what + " on PATH"
		}
		return true, ""
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		return false, "has no qemu-system-x86_64 (Debian: apt-get install qemu-system-x86)"
	}
	if _, err := vm.FindKernel(""); err != nil {
		return false, "has no kernel image to boot: " + err.Error()
	}
	if os.Getenv("GLASSBOX_VM") != "" && !vm.DetectAccel().KVM {
		return false, "is itself an emulated VM (GLASSBOX_VM, no KVM): a VM inside it would boot for minutes"
	}
	return true, ""
}

func (w *learnWorld) Host() lesson.Host { return hostFacts() }

// hostFacts are the machine's kernel, name and cgroup mode (a lesson
// compares sandboxes with them; a recording keeps them).
func hostFacts() lesson.Host {
	var u unix.Utsname
	unix.Uname(&u)
	h, _ := os.Hostname()
	mode := "unknown"
	if fs, err := cgroup.NewFS("/sys/fs/cgroup"); err == nil {
		mode = fs.Mode()
	}
	return lesson.Host{Kernel: unix.ByteSliceToString(u.Release[:]), Hostname: h, CgroupMode: mode}
}

func (w *learnWorld) FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// progressFile is where a student's progress is kept, below the state root.
func (w *learnWorld) progressFile() string {
	return filepath.Join(w.eng.Roots.Lib, "learn", "progress.json")
}

func (w *learnWorld) LoadProgress() (lesson.Progress, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var p lesson.Progress
	b, err := os.ReadFile(w.progressFile())
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return lesson.Progress{}, fmt.Errorf("%s is damaged (%v): glassbox learn --reset starts over", w.progressFile(), err)
	}
	return p, nil
}

func (w *learnWorld) SaveProgress(p lesson.Progress) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.progressFile()
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp := f + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, f)
}

var _ lesson.World = (*learnWorld)(nil)
