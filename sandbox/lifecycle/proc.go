package lifecycle

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/prometheus/procfs"
)

// Process names one process for good: its PID and its start time in clock
// ticks since boot (/proc/PID/stat field 22, read with procfs). A PID alone is not enough
// because the kernel reuses PIDs; the pair is unique for the machine's uptime.
type Process struct {
	PID        int    `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
}

// procRoot is where /proc is; tests point it at a fixture tree.
var procRoot = "/proc"

// procStat reads /proc/PID/stat.
func procStat(pid int) (procfs.ProcStat, error) {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return procfs.ProcStat{}, err
	}
	p, err := fs.Proc(pid)
	if err != nil {
		return procfs.ProcStat{}, err
	}
	return p.Stat()
}

// startTicks is when process pid started, in clock ticks since boot.
func startTicks(pid int) (uint64, error) {
	st, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return st.Starttime, nil
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
	st, err := procStat(p.PID)
	if err != nil {
		return false
	}
	if p.StartTicks != 0 && st.Starttime != p.StartTicks {
		return false
	}
	return st.State != "Z" && st.State != "X"
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
