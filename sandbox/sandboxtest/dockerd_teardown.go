package sandboxtest

// What the dockerd kit uses to take a daemon and its leftovers down: processes,
// cgroups and mounts found by the kit's directory, and the signal watch that
// does it when the test process is interrupted.

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

const kitDirPrefix = "glassbox-test-dockerd-"

func isKitDir(dir string) bool {
	return filepath.IsAbs(dir) && strings.HasPrefix(filepath.Base(dir), kitDirPrefix) && filepath.Clean(dir) == dir
}

func readPid(file string) int {
	pid, _ := strconv.Atoi(strings.TrimSpace(readString(file)))
	return pid
}

func readString(file string) string {
	b, _ := os.ReadFile(file)
	return string(b)
}

// terminate sends SIGTERM, waits up to grace for the process to go, then
// sends SIGKILL and waits for it to be gone.
func terminate(pid int, grace time.Duration) {
	if syscall.Kill(pid, syscall.SIGTERM) != nil {
		return
	}
	for end := time.Now().Add(grace); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if !alive(pid) {
			return
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for i := 0; i < 250 && alive(pid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
}

// alive: the process exists and is not a zombie (one that someone else has
// yet to reap is as good as gone).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// processesMentioning lists the processes whose command line names dir, one
// of the kit's state directories (anything else gives none).
func processesMentioning(dir string) []int {
	if !isKitDir(dir) {
		return nil
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), dir) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// removeCgroupTree kills what is left in a cgroup tree and removes it,
// innermost first.
func removeCgroupTree(root string) error {
	var dirs []string
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	var errs []error
	for i := len(dirs) - 1; i >= 0; i-- {
		for _, f := range strings.Fields(readString(filepath.Join(dirs[i], "cgroup.procs"))) {
			if pid, err := strconv.Atoi(f); err == nil {
				terminate(pid, 2*time.Second)
			}
		}
		var err error
		for try := 0; try < 50; try++ { // a killed task leaves its cgroup a moment later
			if err = os.Remove(dirs[i]); err == nil || errors.Is(err, os.ErrNotExist) {
				err = nil
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dirs[i], err))
		}
	}
	return errors.Join(errs...)
}

// unmountBelow detaches every mount at or below dir (container root
// filesystems, network namespace files, shm), deepest first.
func unmountBelow(dir string) error {
	var errs []error
	for _, m := range mountsBelow(dir) {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
		}
	}
	return errors.Join(errs...)
}

// mountsBelow lists mount points at or below dir, deepest first.
func mountsBelow(dir string) []string {
	infos, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return nil
	}
	mounts := make([]string, 0, len(infos))
	for i := len(infos) - 1; i >= 0; i-- {
		mounts = append(mounts, infos[i].Mountpoint)
	}
	return mounts
}

func tail(file string, lines int) string {
	s := strings.TrimRight(readString(file), "\n")
	all := strings.Split(s, "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// A ^C or a kill of the test process would otherwise leave dockerd running
// and the host's FORWARD policy at DROP until the next Dockerd: the running
// one is cleaned up first, then the signal does what it would have done.
var (
	signalMu   sync.Mutex
	signalWith *Docker
	signalOnce sync.Once
)

func watchSignals(d *Docker) {
	signalMu.Lock()
	signalWith = d
	signalMu.Unlock()
	signalOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		go func() {
			sig := <-ch
			signalMu.Lock()
			d := signalWith
			signalMu.Unlock()
			if d != nil {
				d.stop()
			}
			signal.Reset()
			syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		}()
	})
}

func unwatchSignals(d *Docker) {
	signalMu.Lock()
	if signalWith == d {
		signalWith = nil
	}
	signalMu.Unlock()
}
