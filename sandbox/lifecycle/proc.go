package lifecycle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process names one process for good: its PID and its start time in clock
// ticks since boot (/proc/PID/stat field 22). A PID alone is not enough
// because the kernel reuses PIDs; the pair is unique for the machine's uptime.
type Process struct {
	PID        int    `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
}

// procRoot is where /proc is; tests point it at a fixture tree.
var procRoot = "/proc"

// startTicks reads field 22 (starttime) of /proc/PID/stat. The command name
// (field 2) is in parentheses and may itself contain spaces and ')', so the
// fields are counted from the last ')'.
func startTicks(pid int) (uint64, error) {
	data, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields)+2)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// Self is the calling process.
func Self() (Process, error) {
	t, err := startTicks(os.Getpid())
	if err != nil {
		return Process{}, fmt.Errorf("read own start time: %w", err)
	}
	return Process{PID: os.Getpid(), StartTicks: t}, nil
}

// Alive says whether this very process still runs: the PID exists, is not
// a zombie, and started at the recorded time (so it was not reused).
func (p Process) Alive() bool {
	if p.PID <= 0 {
		return false
	}
	t, err := startTicks(p.PID)
	if err != nil {
		return false
	}
	if p.StartTicks != 0 && t != p.StartTicks {
		return false
	}
	return !zombie(p.PID)
}

func zombie(pid int) bool {
	data, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(data, ')')
	return i >= 0 && i+2 < len(data) && (data[i+2] == 'Z' || data[i+2] == 'X')
}

// clockTicks is USER_HZ, which is 100 on every Linux architecture Go runs on.
const clockTicks = 100

// startedBefore says whether process pid started no later than t (with a
// second of slack for btime's resolution). A record's owner must have
// started before the record was created: if the PID now belongs to a
// younger process, the owner is gone and its PID was reused.
func startedBefore(pid int, t time.Time) bool {
	ticks, err := startTicks(pid)
	if err != nil {
		return false
	}
	boot, err := bootTime()
	if err != nil {
		return true // cannot tell; trust the PID
	}
	started := boot.Add(time.Duration(ticks) * time.Second / clockTicks)
	return !started.After(t.Add(time.Second))
}

func bootTime() (time.Time, error) {
	data, err := os.ReadFile(filepath.Join(procRoot, "stat"))
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, err
			}
			return time.Unix(s, 0), nil
		}
	}
	return time.Time{}, errors.New("no btime in /proc/stat")
}

// supervisorFile names the file in a sandbox's state directory where its
// supervisor writes who it is.
const supervisorFile = "supervisor.json"

func writeProcess(path string, p Process) error {
	data, _ := json.Marshal(p)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readProcess(path string) (Process, error) {
	var p Process
	data, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	err = json.Unmarshal(data, &p)
	return p, err
}

// signalProcess sends sig to the process if it is still this process.
func signalProcess(p Process, sig syscall.Signal) error {
	if !p.Alive() {
		return syscall.ESRCH
	}
	return syscall.Kill(p.PID, sig)
}
