package sandbox

// What a start writes down and makes before its init runs: the record it
// begins from, the namespaces and limits the record names, and the
// directories of the overlay.

import (
	"fmt"
	"os"

	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/state"
)

// baseRecord is the sandbox's existing record when a caller (the lifecycle
// engine) reserved the id and name already — its own fields (restart
// policy, ports, log path, …) are kept — or a new one. reserved: the
// record on disk is that reservation, a sandbox created under name and
// not started yet (Engine.create checked the name, under the lock of all
// names, and wrote it): it need not be checked or written again before
// the start. A record of an earlier run (exited) is not one.
func baseRecord(store *state.Store, id, name string) (sb *state.Sandbox, reserved bool) {
	if sb, err := store.Load(id); err == nil {
		return sb, sb.Status == state.Created && sb.Name == name && sb.ID == id
	}
	return &state.Sandbox{}, false
}

// namespaces are the kinds of namespace the sandbox gets of its own.
func namespaces(cfg *Config) []string {
	ns := []string{"pid", "mnt", "uts", "ipc", "cgroup"}
	if cfg.Network != NetworkHost {
		ns = append(ns, "net")
	}
	if _, err := os.Stat("/proc/self/ns/time"); err == nil && !cfg.NoInit {
		// The time namespace applies to children: a workload that is PID 1
		// itself is not in it.
		ns = append(ns, "time")
	}
	if cfg.UserNS {
		ns = append(ns, "user")
	}
	return ns
}

// limits are the resources as the record keeps them.
func limits(r cgroup.Resources) state.Limits {
	return state.Limits{
		MemoryBytes: r.MemoryBytes, CPUs: r.CPUs(), CPUQuotaUS: r.CPUQuotaUS,
		CPUPeriodUS: r.CPUPeriodUS, PidsLimit: r.PidsLimit,
	}
}

// makeDirs creates the writable layer, overlayfs's work dir and the mount
// point. With a user namespace the sandbox's root is UIDMapStart on the
// host, which must own the writable layer to write to it.
func makeDirs(sb *state.Sandbox, userns bool) error {
	// overlayfs's work directory is made anew for each start: the kernel
	// refuses one a volatile mount used (work/incompat/volatile), and a
	// crash may have left one behind.
	if err := os.RemoveAll(sb.WorkDir); err != nil {
		return fmt.Errorf("clear %s: %w", sb.WorkDir, err)
	}
	for _, d := range []string{sb.UpperDir, sb.WorkDir, sb.RootFS} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
		if userns {
			if err := os.Chown(d, UIDMapStart, UIDMapStart); err != nil {
				return fmt.Errorf("chown %s to the sandbox's root: %w", d, err)
			}
		}
	}
	return nil
}
