package inspect

import (
	"slices"
	"strings"
)

// PathGroup is one cgroup path and the controllers whose hierarchy puts
// the process there, with their directories.
type PathGroup struct {
	Path        string   `json:"path"`
	Controllers []string `json:"controllers"`
	Dirs        []string `json:"dirs"`
}

// ControllerPaths groups a snapshot's cgroups by path: on v2 one path
// holds every controller; on v1 each controller has its hierarchy, and an
// engine may put a container at different paths in different ones.
func ControllerPaths(c Cgroup) []PathGroup {
	by := map[string]*PathGroup{}
	for ctl, p := range c.Paths {
		g := by[p]
		if g == nil {
			g = &PathGroup{Path: p}
			by[p] = g
		}
		g.Controllers = append(g.Controllers, ctl)
		if d := c.Dirs[ctl]; d != "" && !slices.Contains(g.Dirs, d) {
			g.Dirs = append(g.Dirs, d)
		}
	}
	out := make([]PathGroup, 0, len(by))
	for _, g := range by {
		slices.Sort(g.Controllers)
		slices.Sort(g.Dirs)
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b PathGroup) int { return strings.Compare(a.Path, b.Path) })
	return out
}
