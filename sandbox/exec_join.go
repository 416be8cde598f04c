package sandbox

// What a process stepping into a sandbox is told (steps 1 and 2 of the
// exec protocol, in exec.go): the workload's process as its init started
// it, recorded at the start, and the namespaces, cgroups, user,
// environment and working directory the joining process takes from it.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"

	"glassbox/sandbox/nsinit"
	"glassbox/sandbox/state"
)

// processFile records the workload's process as the init was told to
// start it, in the sandbox's state directory: exec starts its processes
// with the same environment, working directory, capabilities and seccomp
// filter.
const processFile = "process.json"

// processRecord is processFile's content.
type processRecord struct {
	Env     []string `json:"env"` // with HOSTNAME and PATH
	Cwd     string   `json:"cwd"`
	Caps    uint64   `json:"caps"`
	Seccomp string   `json:"seccomp,omitempty"` // the compiled filter, as the init reads it
	UserNS  bool     `json:"userns,omitempty"`
	// User is the sandbox's USER[:GROUP] (the image's USER, run -u): an
	// exec without -u runs as it, resolved inside the running sandbox.
	User string `json:"user,omitempty"`
}

func writeProcess(store *state.Store, id string, p *processRecord) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	file := store.Path(id, processFile)
	if err := os.WriteFile(file+".tmp", data, 0o600); err != nil {
		return fmt.Errorf("record the sandbox's process: %w", err)
	}
	return os.Rename(file+".tmp", file)
}

func readProcess(roots state.Roots, sb *state.Sandbox) (*processRecord, error) {
	data, err := os.ReadFile(state.NewStore(roots).Path(sb.ID, processFile))
	if err != nil {
		return nil, fmt.Errorf("cannot exec in %s: its process record is missing (%v); it was started by an older glassbox: restart it", sb.Name, err)
	}
	var p processRecord
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("cannot exec in %s: its process record: %w", sb.Name, err)
	}
	return &p, nil
}

// joinSpec is what the joining process is told; it opens a pidfd of the
// init (nil where the kernel has none) after checking that the PID is
// still the sandbox's init.
func joinSpec(sb *state.Sandbox, proc *processRecord, x *ExecConfig) (*nsinit.Join, *os.File, error) {
	notRunning := fmt.Errorf("cannot exec in %s: it is not running (its init, pid %d, is gone)", sb.Name, sb.InitPID)
	if sb.InitPID <= 0 {
		return nil, nil, notRunning
	}
	var pidfd *os.File
	fd, err := unix.PidfdOpen(sb.InitPID, 0)
	switch {
	case err == nil:
		pidfd = os.NewFile(uintptr(fd), "init-pidfd")
	case errors.Is(err, unix.ESRCH):
		return nil, nil, notRunning
	case !errors.Is(err, unix.ENOSYS):
		return nil, nil, fmt.Errorf("cannot exec in %s: pidfd_open(%d): %w", sb.Name, sb.InitPID, err)
	}
	fail := func(err error) (*nsinit.Join, *os.File, error) {
		if pidfd != nil {
			pidfd.Close()
		}
		return nil, nil, err
	}
	// The pidfd names whatever process had the PID when it was opened: it
	// must be the init, in the sandbox's cgroup.
	start := startTime(sb.InitPID)
	if in, _ := inCgroup(sb.InitPID, sb.Cgroup.Path); !in || start == 0 {
		return fail(notRunning)
	}
	// Without -u, the sandbox's own user (the image's USER, run -u), as
	// docker's exec does. An unknown user is a command that cannot run:
	// 126, as in docker.
	spec := x.User
	if spec == "" {
		spec = proc.User
	}
	u, err := lookupUser(rootReader(fmt.Sprintf("/proc/%d/root", sb.InitPID)), spec)
	if err != nil {
		return fail(&ExecError{Code: ExitCannotExec, Msg: err.Error()})
	}
	if proc.UserNS {
		if err := u.checkUserNS(spec); err != nil {
			return fail(&ExecError{Code: ExitCannotExec, Msg: err.Error()})
		}
	}
	// docker's order: the sandbox's environment, HOME from the user's
	// passwd entry unless the sandbox sets one, TERM for a terminal, -e.
	env := proc.Env
	if envValue(env, "HOME") == "" {
		env = append(slices.Clip(env), "HOME="+u.Home)
	}
	if x.TTY && envValue(env, "TERM") == "" {
		env = append(env, "TERM=xterm")
	}
	env = MergeEnv(env, x.Env)
	cwd := x.WorkDir
	if cwd == "" {
		cwd = proc.Cwd
	}
	j := &nsinit.Join{
		InitPID: sb.InitPID, InitStart: start,
		Namespaces: joinOrder(sb.Namespaces), CgroupProcs: procsFiles(sb.Cgroup.Dirs),
		Cgroup2Dir: cgroup2Dir(sb.Cgroup), UID: u.UID, GID: u.GID, Groups: u.Groups, Detach: x.Detach,
		Exec: nsinit.Exec{Args: x.Args, Env: env, Cwd: cwd, Caps: proc.Caps, Seccomp: proc.Seccomp, TTY: x.TTY},
	}
	return j, pidfd, nil
}

// joinOrder lists the sandbox's namespaces as /proc/PID/ns names in the
// order to join them: the user namespace first, as it grants the
// capabilities the others need there; the mount namespace last, since it
// changes what /proc is. The init's own time namespace is the host's: its
// children's (the workload's) is time_for_children.
func joinOrder(kinds []string) []string {
	order := []string{"user", "cgroup", "ipc", "uts", "net", "pid", "time", "mnt"}
	var out []string
	for _, k := range order {
		if !slices.Contains(kinds, k) {
			continue
		}
		if k == "time" {
			k = "time_for_children"
		}
		out = append(out, k)
	}
	return out
}

// cgroup2Dir is the sandbox's cgroup directory on a pure cgroup v2 host
// (on v1 and hybrid hosts, its controllers' cgroups are v1's).
func cgroup2Dir(cg state.Cgroup) string {
	if cg.Mode != "v2" {
		return ""
	}
	return cg.Dirs["unified"]
}

func procsFiles(dirs map[string]string) []string {
	var out []string
	for _, d := range dirs {
		f := filepath.Join(d, "cgroup.procs")
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// inCgroup says whether the process is in cgroup path cg (in any
// hierarchy), as /proc/PID/cgroup (read with procfs) has it; an error
// when the process is gone.
func inCgroup(pid int, cg string) (bool, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return false, err
	}
	cgs, err := p.Cgroups()
	if err != nil {
		return false, err
	}
	for _, c := range cgs {
		if cg != "" && c.Path == cg {
			return true, nil
		}
	}
	return false, nil
}

// startTime is when process pid started, in clock ticks since boot
// (/proc/PID/stat, read with procfs); 0 if it is gone.
func startTime(pid int) uint64 {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0
	}
	st, err := p.Stat()
	if err != nil {
		return 0
	}
	return st.Starttime
}
