package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// mkdir makes one cgroup directory; created is false when it was there already.
func (f *FS) mkdir(dir string) (created bool, err error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	if f.onMkdir != nil {
		if err := f.onMkdir(dir); err != nil {
			os.RemoveAll(dir)
			return false, err
		}
	}
	return true, nil
}

// write writes one value to a cgroup file that must exist. cgroupfs ignores
// O_TRUNC; a fixture's plain file needs it.
func (f *FS) write(file, value string) error {
	fd, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, file, err)
	}
	_, err = fd.WriteString(value)
	if cerr := fd.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, file, err)
	}
	if f.onWrite != nil {
		f.onWrite(file, value)
	}
	return nil
}

func readString(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// readKV reads a flat-keyed file ("key value" lines): memory.events,
// cgroup.events, memory.oom_control, cpu.stat, …
func readKV(file string) (map[string]uint64, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %s: line %q: %w", file, sc.Text(), err)
		}
		out[k] = n
	}
	return out, sc.Err()
}

// readKey reads one key of a flat-keyed file; a missing key is an error.
func readKey(file, key string) (uint64, error) {
	kv, err := readKV(file)
	if err != nil {
		return 0, err
	}
	v, ok := kv[key]
	if !ok {
		return 0, fmt.Errorf("parse %s: no %q line", file, key)
	}
	return v, nil
}

// readPids reads cgroup.procs: one PID a line.
func readPids(file string) ([]int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %q is not a PID", file, f)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// poll calls done until it reports true, an error, or timeout passes
// (errTimeout). It starts fast — a freeze often completes in microseconds —
// checks every millisecond for the first 100 ms, then backs off to 10 ms so
// that a stuck state costs little CPU.
func poll(timeout time.Duration, done func() (bool, error)) error {
	start := time.Now()
	sleep := 50 * time.Microsecond
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		elapsed := time.Since(start)
		if elapsed > timeout {
			return errTimeout
		}
		time.Sleep(sleep)
		if elapsed < 100*time.Millisecond {
			sleep = min(sleep*2, time.Millisecond)
		} else {
			sleep = min(sleep*2, 10*time.Millisecond)
		}
	}
}

var errTimeout = errors.New("timed out")

// killAll sends SIGKILL to each PID; ones that are gone already are no error.
func killAll(pids []int) error {
	var errs []error
	for _, pid := range pids {
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("kill %d: %w", pid, err))
		}
	}
	return errors.Join(errs...)
}

// rmdir removes one cgroup directory. A cgroup's rmdir fails with EBUSY for
// a moment after its last process exited (the kernel releases the cgroup
// asynchronously), so it retries briefly — unless it is busy because it
// still holds processes: held, asked at the first EBUSY, returns the
// error that says so (then waiting is no use). A missing directory is no
// error. Removing first and asking only when refused spares the usual
// case, an empty cgroup, a stat and a read of cgroup.procs per hierarchy.
func (f *FS) rmdir(dir string, held func() error) error {
	rmdir := unix.Rmdir
	if f.onRmdir != nil {
		rmdir = func(dir string) error {
			if err := f.onRmdir(dir); err != nil {
				return err
			}
			return unix.Rmdir(dir)
		}
	}
	var err error
	delay := time.Millisecond
	for i := range 12 {
		err = rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		if i == 0 && held != nil {
			if herr := held(); herr != nil {
				return herr
			}
		}
		time.Sleep(delay)
		delay = min(delay*2, 100*time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}

// holdsProcesses is rmdir's held for a cgroup directory: an error naming
// its processes when cgroup.procs lists any.
func holdsProcesses(dir string) func() error {
	return func() error {
		if pids, err := readPids(filepath.Join(dir, "cgroup.procs")); err == nil && len(pids) > 0 {
			return fmt.Errorf("%s still holds processes %v", dir, pids)
		}
		return nil
	}
}
