package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"time"
)

const (
	// killTimeout bounds Kill: SIGKILL cannot be caught, so only a task stuck
	// in the kernel (uninterruptible sleep) outlasts it.
	killTimeout = 5 * time.Second
	// killFreezeTimeout bounds the freeze that makes a kill round race-free;
	// without it the round still kills, just not atomically.
	killFreezeTimeout = 500 * time.Millisecond
	// killRoundWait is how long a round waits for the cgroup to empty before
	// the next round kills what is left (or was forked meanwhile).
	killRoundWait = 200 * time.Millisecond
)

// killLoop kills the cgroup's processes in rounds until procs reports none,
// at most killTimeout. A cgroup that does not exist (any more) is empty.
func killLoop(path string, procs func() ([]int, error), round func(pids []int) error) error {
	deadline := time.Now().Add(killTimeout)
	var lastErr error
	for {
		pids, err := procs()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted already: nothing to kill
		}
		if err != nil {
			return fmt.Errorf("kill cgroup %s: %w", path, err)
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if lastErr != nil {
				return fmt.Errorf("kill cgroup %s: processes %v still there after %v: %w", path, pids, killTimeout, lastErr)
			}
			return fmt.Errorf("kill cgroup %s: processes %v still there after %v", path, pids, killTimeout)
		}
		lastErr = round(pids)
		poll(min(killRoundWait, time.Until(deadline)), func() (bool, error) {
			pids, err := procs()
			return len(pids) == 0, err
		})
	}
}
