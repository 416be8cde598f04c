package lifecycle

import (
	"os"

	"glassbox/sandbox/state"
)

// releasedFile, in a sandbox's state directory, is its supervisor's word
// that everything the last run created other than the writable layer and
// the state directory — the cgroup, mounts, short links, veth, address
// lease, forwarding rules — is gone: written once that release succeeded,
// removed before the next start creates anything. A command that removes
// the sandbox (rm, prune) then has nothing of the run to look for; it
// deletes the writable layer and the state directory. Without it (a
// supervisor killed, a release that failed, a foreground run) the command
// releases everything itself, as it always could.
const releasedFile = "released"

// markReleased writes releasedFile; failing to, it says so in the log, and
// a later rm merely does the release again.
func (s *supervisor) markReleased() {
	f, err := os.OpenFile(s.store.Path(s.spec.ID, releasedFile), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		s.log.note("glassbox: %v", err)
		return
	}
	f.Close()
}

// released says whether sandbox id's supervisor released everything of
// its last run (releasedFile). Only a holder of the sandbox's lock may act
// on the answer: the next start, which makes it false, takes the lock.
func released(store *state.Store, id string) bool {
	_, err := os.Stat(store.Path(id, releasedFile))
	return err == nil
}
