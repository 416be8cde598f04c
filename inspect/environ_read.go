//go:build linux

package inspect

import (
	"bytes"
	"os"
)

// environReader reads a process's environment once: it cannot change
// after execve, so a new process (a restart) is the only reason to read
// it again.
type environReader struct {
	pid int
	env Environ
}

func (r *environReader) read(fs FS, pid int, c *collector) Environ {
	if pid <= 0 {
		return Environ{}
	}
	if r.pid == pid {
		return r.env
	}
	path := fs.procPath(pid, "environ")
	b, err := os.ReadFile(path)
	if err != nil {
		c.add(err)
		return Environ{}
	}
	var vars []string
	for _, kv := range bytes.Split(b, []byte{0}) {
		if len(kv) > 0 {
			vars = append(vars, string(kv))
		}
	}
	r.pid, r.env = pid, Environ{Vars: vars, Source: path}
	return r.env
}
