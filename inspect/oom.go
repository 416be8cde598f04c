//go:build linux

package inspect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// WatchOOM delivers the OOM kills of the memory cgroup in dir (a v1 memory
// controller directory, or a v2 cgroup directory), as they happen:
//
//   - v1: an eventfd registered for memory.oom_control through
//     cgroup.event_control; the kernel signals it when the cgroup hits OOM,
//     and also when the cgroup is removed.
//   - v2: inotify on memory.events, which the kernel marks modified
//     whenever one of its counters moves.
//
// Each wake-up re-reads the oom_kill counter and sends an event when it rose.
// The channel is closed, and every fd and the goroutine released, when ctx
// is cancelled or the cgroup is removed: read it until it closes, or cancel
// ctx. Each event carries the total, so a late reader loses no count.
//
// Writing cgroup.event_control is the one write inspect does: the v1 kernel
// interface offers no other way to receive OOM notifications. It changes no
// setting of the cgroup; the registration dies with the eventfd.
func WatchOOM(ctx context.Context, dir string) (<-chan OOMEvent, error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var w *oomWatch
	var err error
	if exists(filepath.Join(dir, "memory.events")) {
		w, err = watchV2(dir)
	} else if exists(filepath.Join(dir, "memory.oom_control")) {
		w, err = watchV1(dir)
	} else {
		return nil, fmt.Errorf("watch OOM in %s: no memory.events or memory.oom_control (not a memory cgroup?)", dir)
	}
	if err != nil {
		return nil, err
	}
	// The baseline is read before returning, so that an OOM right after
	// WatchOOM returns is an event.
	buf := make([]byte, 4096)
	if w.ooms, w.kills, err = w.counts(buf); err != nil {
		w.close()
		return nil, fmt.Errorf("watch OOM: %w", err)
	}
	ch := make(chan OOMEvent, 16)
	go w.run(ctx, ch, buf)
	return ch, nil
}

// WatchOOM watches the Inspector's memory cgroup (see the function WatchOOM).
func (in *Inspector) WatchOOM(ctx context.Context) (<-chan OOMEvent, error) {
	dir := in.CgroupDir("memory")
	if dir == "" {
		return nil, errors.New("watch OOM: the process has no memory cgroup")
	}
	return WatchOOM(ctx, dir)
}

type oomWatch struct {
	dir    string
	source *heldFile // memory.oom_control or memory.events
	notify int       // the eventfd (v1) or inotify fd (v2)
	v2     bool
	wake   int // an eventfd that ctx's cancellation writes to

	ooms, kills int64 // the counters as last read
}

func (w *oomWatch) close() {
	unix.Close(w.notify)
	unix.Close(w.wake)
	w.source.close()
}

func watchV1(dir string) (*oomWatch, error) {
	src, err := openHeld(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return nil, fmt.Errorf("watch OOM: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		src.close()
		return nil, fmt.Errorf("watch OOM: eventfd: %w", err)
	}
	ctl := filepath.Join(dir, "cgroup.event_control")
	if err := os.WriteFile(ctl, []byte(strconv.Itoa(efd)+" "+strconv.Itoa(src.fd)), 0); err != nil {
		unix.Close(efd)
		src.close()
		return nil, fmt.Errorf("watch OOM: register with %s: %w", ctl, err)
	}
	return newWatch(dir, src, efd, false)
}

func watchV2(dir string) (*oomWatch, error) {
	src, err := openHeld(filepath.Join(dir, "memory.events"))
	if err != nil {
		return nil, fmt.Errorf("watch OOM: %w", err)
	}
	ifd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		src.close()
		return nil, fmt.Errorf("watch OOM: inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(ifd, src.path, unix.IN_MODIFY|unix.IN_DELETE_SELF); err != nil {
		unix.Close(ifd)
		src.close()
		return nil, fmt.Errorf("watch OOM: inotify on %s: %w", src.path, err)
	}
	return newWatch(dir, src, ifd, true)
}

func newWatch(dir string, src *heldFile, notify int, v2 bool) (*oomWatch, error) {
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(notify)
		src.close()
		return nil, fmt.Errorf("watch OOM: eventfd: %w", err)
	}
	return &oomWatch{dir: dir, source: src, notify: notify, v2: v2, wake: wake}, nil
}

// counts reads the oom and oom_kill counters (v1 has no oom count: -1).
func (w *oomWatch) counts(buf []byte) (ooms, kills int64, err error) {
	b, err := w.source.read(buf)
	if err != nil {
		return 0, 0, err
	}
	var m Memory
	if w.v2 {
		parseMemoryEvents(b, "", &m)
	} else {
		parseOOMControl(b, "", &m)
		m.OOM.Value = -1
	}
	if !m.OOMKills.Valid {
		return 0, 0, fmt.Errorf("%s: no oom_kill line", w.source.path)
	}
	return m.OOM.Value, m.OOMKills.Value, nil
}

// pollEvery bounds how long a removed v2 cgroup goes unnoticed; between
// wake-ups the goroutine sleeps in poll(2). kernfs tells inotify nothing
// when a cgroup is removed (no IN_DELETE_SELF while the watch holds the
// file), so a v2 watch looks now and then. A v1 watch needs no timer: the
// kernel signals the eventfd when the cgroup goes too, and an eventfd's
// count cannot be missed. That matters to the live view, which keeps one
// watch per sandbox: five watches waking each second were a third of what
// `glassbox top` cost with five sandboxes (ui/bench/measure-top.sh, one
// run: 0.42–0.56 % of a core with them, 0.31–0.34 % without).
const pollEvery = time.Second

// pollTimeout is how long the watch sleeps in poll(2) when no OOM is
// pending: pollEvery on v2, for ever (-1) on v1.
func (w *oomWatch) pollTimeout() int {
	if w.v2 {
		return int(pollEvery / time.Millisecond)
	}
	return -1
}

func (w *oomWatch) run(ctx context.Context, ch chan<- OOMEvent, buf []byte) {
	stop := make(chan struct{})
	defer func() {
		close(stop)
		w.close()
		close(ch)
	}()
	go func() {
		select {
		case <-ctx.Done():
			var one = [8]byte{1}
			unix.Write(w.wake, one[:])
		case <-stop:
		}
	}()

	ooms, kills := w.ooms, w.kills
	// An OOM is announced before its victim is killed and counted: v1's
	// eventfd fires as the OOM starts, and v2's "oom" counter moves before
	// "oom_kill". So an OOM without a kill yet leaves the watch pending: the
	// counter is re-read every 20 ms for a second, and only then is the OOM
	// reported without a kill.
	const pendingTries = 50
	pending := 0
	fds := []unix.PollFd{{Fd: int32(w.notify), Events: unix.POLLIN}, {Fd: int32(w.wake), Events: unix.POLLIN}}
	for {
		timeout := w.pollTimeout()
		if pending > 0 {
			timeout = 20
		}
		n, err := unix.Poll(fds, timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil || ctx.Err() != nil {
			return
		}
		notified := n > 0 && fds[0].Revents != 0
		if notified {
			w.drain(buf)
		}
		if !exists(w.dir) {
			return // the cgroup was removed (v1 signals the eventfd for that too)
		}
		o, k, err := w.counts(buf)
		if err != nil {
			continue // caught mid-update; the next wake-up reads it again
		}
		switch {
		case k > kills:
			kills, ooms, pending = k, o, 0
			if !send(ctx, ch, OOMEvent{Time: time.Now(), OOMKills: k, Killed: true, Source: w.source.path}) {
				return
			}
		case pending == 0 && ((!w.v2 && notified) || (w.v2 && o > ooms)):
			ooms, pending = o, pendingTries
		case pending > 0 && !notified:
			pending--
			if pending == 0 {
				if !send(ctx, ch, OOMEvent{Time: time.Now(), OOMKills: k, Source: w.source.path}) {
					return
				}
			}
		}
	}
}

func (w *oomWatch) drain(buf []byte) {
	for {
		if _, err := unix.Read(w.notify, buf); err != nil {
			return
		}
	}
}

func send(ctx context.Context, ch chan<- OOMEvent, ev OOMEvent) bool {
	select {
	case ch <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}
