package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"glassbox/sandbox/state"
)

// Cleanup removes every resource of a dead (or abandoned) sandbox from its
// record alone — what crash recovery needs when the process that started
// it is gone: it kills whatever is left in the sandbox's cgroup (the init
// first, which takes the pid namespace and with it every mount), deletes
// the cgroup, and removes the writable layer and the state directory.
// The network is not touched: detach it first (network.Detach).
// Cleanup of something already gone succeeds.
func Cleanup(roots state.Roots, sb *state.Sandbox) error { return cleanup(roots, sb, true) }

// CleanupResources is Cleanup that leaves the state directory (record,
// logs) and the writable layer to their owner, as Config.KeepState does
// for Destroy.
func CleanupResources(roots state.Roots, sb *state.Sandbox) error {
	return cleanup(roots, sb, false)
}

func cleanup(roots state.Roots, sb *state.Sandbox, stateToo bool) error {
	if !state.IsID(sb.ID) {
		return fmt.Errorf("clean up sandbox: bad id %q", sb.ID)
	}
	var errs []error
	cg, err := LoadCgroup(roots, sb.ID)
	var foreign *ForeignCgroupError
	switch {
	case errors.As(err, &foreign):
		errs = append(errs, err)
	case err == nil:
		if err := cg.Kill(); err != nil {
			errs = append(errs, err)
		}
		if err := cg.Delete(); err != nil {
			errs = append(errs, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		errs = append(errs, fmt.Errorf("clean up the cgroup of %s: %w", sb.ID, err))
	}
	// The directory is derived from the roots, not the record, so that a
	// damaged record cannot make Cleanup remove anything else.
	dir := filepath.Join(roots.ContainersDir(), sb.ID)
	errs = append(errs, removeShortLinks(roots, sb.ID))
	errs = append(errs, removeDir(dir, stateToo))
	if stateToo {
		errs = append(errs, state.NewStore(roots).Remove(sb.ID))
	}
	return errors.Join(errs...)
}
