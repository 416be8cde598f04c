package compare

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"glassbox/sandbox/state"
)

// removeLeftovers removes sandboxes of earlier runs whose process is gone
// (killed with SIGKILL, which no clean-up survives).
func (r *runner) removeLeftovers() error {
	re := regexp.MustCompile(`^vmvs-(\d+)-`)
	return r.removeNamed(func(name string) bool {
		m := re.FindStringSubmatch(name)
		if m == nil {
			return false
		}
		pid, _ := strconv.Atoi(m[1])
		return pid != os.Getpid() && !pidAlive(pid)
	})
}

// removeNamed removes every sandbox whose name matches. One still being
// created (a `run -d` that outlived the run that asked for it) is removed
// once it has started.
func (r *runner) removeNamed(match func(name string) bool) error {
	deadline := time.Now().Add(startWait)
	for {
		all, err := r.eng.List(true)
		if err != nil {
			return err
		}
		var errs []error
		starting := false
		for _, sb := range all {
			switch {
			case !match(sb.Name):
			case sb.Status == state.Created && time.Now().Before(deadline):
				starting = true
			default:
				if err := r.removeRecord(sb.ID); err != nil {
					errs = append(errs, fmt.Errorf("remove sandbox %s: %w", sb.Name, err))
				}
			}
		}
		if !starting || len(errs) > 0 {
			return errors.Join(errs...)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startWait bounds the wait for a sandbox being created by someone else.
const startWait = 30 * time.Second

// cleanup stops and removes everything this run started.
func (r *runner) cleanup() error {
	var errs []error
	r.stopVMs()
	for _, id := range r.sandboxes {
		if err := r.removeRecord(id); err != nil {
			errs = append(errs, fmt.Errorf("remove sandbox %s: %w", id, err))
		}
	}
	r.sandboxes = nil
	// A start cut short may have made a sandbox whose id never came back:
	// this run's names say which.
	if err := r.removeNamed(func(name string) bool { return strings.HasPrefix(name, r.prefix) }); err != nil {
		errs = append(errs, err)
	}
	r.stopHostCalculator()
	if r.initrd != nil {
		r.initrd.Close()
		r.initrd = nil
	}
	return errors.Join(errs...)
}

func (r *runner) stopHostCalculator() {
	if r.hostCalc == nil {
		return
	}
	r.hostCalc.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { r.hostCalc.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		r.hostCalc.Process.Kill()
		<-done
	}
	r.hostCalc = nil
}
