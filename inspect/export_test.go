package inspect

import "time"

// SetSlowRefresh changes how often the slow figures are re-read, for a
// benchmark of the worst refresh; it returns the undo.
func SetSlowRefresh(d time.Duration) func() {
	old := slowRefresh
	slowRefresh = d
	return func() { slowRefresh = old }
}

// Files lists, for the benchmark of naive reads, the kernel files a refresh may read (held open by the
// Inspector), the namespace links included: the provenance of a snapshot
// in one list, and what a naive reader would open each time.
func (in *Inspector) Files() []string {
	var out []string
	add := func(f *heldFile) {
		if f != nil {
			out = append(out, f.path)
		}
	}
	for _, f := range in.cg.files() {
		add(f)
	}
	for _, p := range in.procs {
		add(p.status)
		add(p.stat)
	}
	add(in.fsv.mountinfo)
	add(in.net.dev)
	add(in.uts.hostname)
	out = append(out, in.ns.paths[:]...)
	return out
}
