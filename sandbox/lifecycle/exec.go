package lifecycle

import (
	"glassbox/sandbox"
)

// Exec runs a command inside a running sandbox, detached or owned by a
// foreground run alike (glassbox exec): it needs the sandbox's init, not
// its supervisor. It returns once the command runs; an unknown sandbox,
// one that is not running or paused, or bad input is an error that
// starts nothing.
func (e *Engine) Exec(ref string, x *sandbox.ExecConfig, stdio sandbox.Stdio) (*sandbox.Process, error) {
	sb, err := e.Get(ref)
	if err != nil {
		return nil, err
	}
	if x.Binary == "" {
		x.Binary = e.Binary
	}
	return sandbox.Exec(e.Roots, sb, x, stdio)
}
