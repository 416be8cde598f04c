//go:build linux

package inspect

import (
	"cmp"
	"errors"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// procHandle holds one process's /proc files open while it lives. A held
// /proc/PID/* descriptor stays bound to that process: once it exits, reads
// fail with ESRCH instead of silently showing a newcomer that reused the PID.
type procHandle struct {
	pid    int
	status *heldFile
	stat   *heldFile
	args   []string // cmdline, read once: it is set at exec
	seen   bool     // still listed in cgroup.procs this refresh
	// ident is the last reading of status, for what stat does not carry:
	// NSpid, the effective uid and gid, capabilities, seccomp, no_new_privs.
	// They change at exec, setuid, capset, prctl — at a process's start,
	// almost never after — so status is read when the process is first
	// seen, when its comm changes (an exec), and once it is slowRefresh
	// old, like the sandbox's other slow figures.
	ident   procStatus
	identAt time.Time
	// identRound is the Inspector's round (snapshot count) ident was read
	// at; readRound the last round the process was read alive.
	identRound, readRound uint64
}

func openProc(fs FS, pid int) (*procHandle, error) {
	st, err := openHeld(fs.procPath(pid, "status"))
	if err != nil {
		return nil, err
	}
	stat, err := openHeld(fs.procPath(pid, "stat"))
	if err != nil {
		st.close()
		return nil, err
	}
	h := &procHandle{pid: pid, status: st, stat: stat}
	// The command line is read once, with procfs (it serves here: a
	// one-off read); it changes only at exec.
	if p, err := fs.proc.Proc(pid); err == nil {
		h.args, _ = p.CmdLine()
	}
	return h, nil
}

func (h *procHandle) close() {
	h.status.close()
	h.stat.close()
}

// read fills a Process from the held files; gone=true when the process
// has exited.
func (h *procHandle) read(c *collector, now time.Time, round uint64) (p Process, gone bool) {
	b, err := h.stat.read(c.buf)
	if err != nil {
		if isGone(err) {
			return p, true
		}
		c.add(err)
		return p, false
	}
	st, err := parseStat(b)
	if err != nil {
		c.add(&pathError{op: "parse", path: h.stat.path, err: err})
		return p, false
	}
	if h.identAt.IsZero() || now.Sub(h.identAt) >= slowRefresh || string(st.comm) != h.ident.Name {
		// st.comm lives in c.buf, which this read overwrites: it is not
		// used below.
		b, err := h.status.read(c.buf)
		if err != nil {
			if isGone(err) {
				return p, true
			}
			c.add(err)
			return p, false
		}
		id, err := parseStatus(b, h.ident.Name, h.ident.NSpid)
		if err != nil {
			c.add(&pathError{op: "parse", path: h.status.path, err: err})
			return p, false
		}
		h.ident, h.identAt, h.identRound = id, now, round
	}
	h.readRound = round
	id := h.ident
	p = Process{
		HostPID: h.pid, NSpid: id.NSpid, PPID: st.PPID, Command: id.Name, Args: h.args,
		State: st.State, Threads: st.Threads, RSSBytes: st.RSS * pageSize, CPUTime: float64(st.CPU) / clockTicks,
		Source: h.status.path, StatSource: h.stat.path, Seccomp: id.Seccomp, SeccompFilters: id.SeccompFilters,
		NoNewPrivs: id.NoNewPrivs, UID: id.UID, GID: id.GID,
	}
	if len(id.NSpid) > 0 {
		p.SandboxPID = id.NSpid[len(id.NSpid)-1]
	}
	if id.hasCaps {
		ci := decodeCaps(id.CapEff)
		p.CapEff, p.Caps = ci.hex, ci.names
	}
	return p, false
}

// pageSize is the unit of stat's resident set (field 24).
var pageSize = int64(os.Getpagesize())

func isGone(err error) bool {
	return errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT)
}

// readProcesses lists every process in the cgroup (cgroup.procs), or only
// the centre process when it sits in the root cgroup (listing the root
// cgroup would list the whole host). gone reports the centre process's exit.
func (in *Inspector) readProcesses(c *collector, s *Snapshot) (gone bool) {
	pids := in.pidsBuf[:0]
	if !in.rootOnly && in.cg.procs != nil {
		if b := c.read(in.cg.procs); b != nil {
			pids = parsePids(b, pids)
		}
	}
	in.pidsBuf = pids
	for _, h := range in.procs {
		h.seen = false
	}
	in.target.seen = true
	for _, pid := range pids {
		h := in.procs[pid]
		if h == nil {
			var err error
			h, err = openProc(in.fs, pid)
			if err != nil {
				if !isGone(err) {
					c.add(err)
				}
				continue // exited between cgroup.procs and the open
			}
			in.procs[pid] = h
		}
		h.seen = true
	}
	s.Processes = make([]Process, 0, len(in.procs))
	for pid, h := range in.procs {
		if !h.seen {
			h.close()
			delete(in.procs, pid)
			continue
		}
		p, g := h.read(c, s.Taken, in.round)
		if g {
			if h == in.target {
				gone = true
				continue
			}
			h.close()
			delete(in.procs, pid)
			continue
		}
		s.Processes = append(s.Processes, p)
	}
	slices.SortFunc(s.Processes, func(a, b Process) int { return cmp.Compare(a.HostPID, b.HostPID) })
	markJoined(s.Processes)
	return gone
}

// settledness says, for the namespace reading, whether the centre process
// and the workload were read alive this round with a status that says they
// are settled (nsProc).
func (in *Inspector) settledness() settledness {
	st := settledness{round: in.round}
	if h := in.target; h.readRound == in.round {
		st.proc, st.procRound = h.ident.settled(), h.identRound
	}
	if w := in.workload(); w != in.pid {
		if h := in.procs[w]; h != nil && h.readRound == in.round {
			st.work, st.workRound = h.ident.settled(), h.identRound
		}
	}
	return st
}

// markJoined marks the processes whose parent is not among the sandbox's
// own: they stepped in with setns. Without a pid namespace of its own (a
// listing of one process) there is nothing to tell.
func markJoined(ps []Process) {
	if len(ps) < 2 {
		return
	}
	for i := range ps {
		p := &ps[i]
		if p.SandboxPID == 1 || len(p.NSpid) < 2 {
			continue
		}
		_, found := slices.BinarySearchFunc(ps, p.PPID, func(q Process, pid int) int { return cmp.Compare(q.HostPID, pid) })
		p.Joined = !found
	}
}
