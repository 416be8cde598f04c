package words

import (
	"slices"

	"glassbox/inspect"
)

// engine reports what another engine says about its container: its names,
// where the description was read, the limits it asked for, its bundle.
// glassbox's own sandboxes and bare processes have no such section.
func (r *reporter) engine(s *inspect.Snapshot) {
	c := s.Container
	if c == nil {
		return
	}
	r.section("Engine (" + c.Engine + "; read from " + c.Source + ")")
	r.line("  id: %s", c.ID)
	if c.Namespace != "" {
		r.line("  containerd namespace: %s", c.Namespace)
	}
	if p := c.Pod; p != nil {
		r.line("  pod: %s in namespace %s, container %s", p.Name, p.Namespace, p.Container)
	}
	if c.Name != "" {
		r.line("  name: %s", c.Name)
	}
	if c.Image != "" {
		img := c.Image
		if c.ImageID != "" && c.ImageID != c.Image {
			img += " (" + shortDigest(c.ImageID) + ")"
		}
		r.line("  image: %s", img)
	}
	r.line("  status: %s", c.Status)
	if !c.Started.IsZero() {
		r.line("  started: %s", c.Started.Local().Format("2006-01-02 15:04:05"))
	}
	r.line("  limits it asked for: %s (the Cgroup section shows what the kernel holds)", Limits(c.Limits))
	if c.Bundle != "" {
		r.line("  bundle: %s", c.Bundle)
	}
	for _, p := range c.Ports {
		r.line("  published: %s:%d → %d/%s", p.HostIP, p.HostPort, p.ContainerPort, p.Proto)
	}
	if len(c.Labels) > 0 {
		keys := make([]string, 0, len(c.Labels))
		for k := range c.Labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		r.line("  labels:")
		for _, k := range keys {
			r.line("    %s=%s", k, c.Labels[k])
		}
	}
}
