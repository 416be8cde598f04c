package nsinit

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// PeerFD is the socket between the init and the workload's process (PID 2)
// while the latter waits to exec, in both processes.
const PeerFD = 4

// workload is what the workload's process execs, sent by the init once the
// root filesystem is in place.
type workload struct {
	Path string   `json:"path"`
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Cwd  string   `json:"cwd"`
}

// exec drops the capabilities of this (locked) thread, enters the working
// directory and replaces the process with the workload. It returns only
// on failure.
func (w *workload) exec() error {
	if err := dropCaps(); err != nil {
		return err
	}
	if err := unix.Chdir(w.Cwd); err != nil {
		return fmt.Errorf("working directory %s: %w", w.Cwd, err)
	}
	err := unix.Exec(w.Path, w.Args, w.Env)
	return fmt.Errorf("exec %s: %w", w.Args[0], err)
}

// release lets the waiting workload process (PID 2) exec, and returns once
// it did (its end of the socket closes on exec) or with its error.
func (w *workload) release(pid int) error {
	peer := os.NewFile(PeerFD, "workload-socket")
	syscall.CloseOnExec(PeerFD)
	defer peer.Close()
	if err := json.NewEncoder(peer).Encode(w); err != nil {
		return fmt.Errorf("release the workload (pid %d): %w", pid, err)
	}
	var m Message
	if err := json.NewDecoder(peer).Decode(&m); err != nil {
		return nil // end of file: exec succeeded
	}
	return fmt.Errorf("%s", m.Error)
}

// workloadStage is the workload's process (PID 2) between the fork in the
// early stage and its exec: it waits for the init to build the root and
// send the command, then execs it.
func workloadStage() int {
	peer := os.NewFile(PeerFD, "workload-socket")
	syscall.CloseOnExec(PeerFD)
	var w workload
	if err := json.NewDecoder(peer).Decode(&w); err != nil {
		return 1 // the init gave up; it reports why
	}
	err := w.exec()
	json.NewEncoder(peer).Encode(Message{Kind: MsgError, Error: err.Error()})
	return 127
}

// fork starts the workload as a child of the init, from the locked thread
// (it inherits this thread's namespaces and capabilities): the fallback
// without an early stage.
func (w *workload) fork() (int, error) {
	// Capabilities are per thread: dropping them here limits this thread,
	// and so the child forked from it, not the init's other threads.
	if err := dropCaps(); err != nil {
		return 0, err
	}
	proc, err := os.StartProcess(w.Path, w.Args, &os.ProcAttr{
		Dir:   w.Cwd,
		Env:   w.Env,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", w.Args[0], err)
	}
	return proc.Pid, nil
}
