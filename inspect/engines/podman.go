package engines

import (
	"path/filepath"
	"strings"

	"glassbox/inspect"
)

// conmonContainer describes the container a conmon process watches: its id
// (-c), name (-n), bundle (-b) and the pid file its runtime wrote (-p).
// Podman starts conmon with --exit-command podman; CRI-O's containers
// carry the CRI's annotations, and are Kubernetes'.
func conmonContainer(p Places, args []string) (*inspect.Container, error) {
	id := flag(args, "-c", "--cid")
	bundle := flag(args, "-b", "--bundle")
	if id == "" || bundle == "" {
		return nil, nil
	}
	s, err := bundleSpec(bundle)
	if err != nil {
		return nil, err
	}
	c := &inspect.Container{
		Engine: inspect.EnginePodman, ID: id, Name: flag(args, "-n", "--name"),
		Bundle: bundle, RootFS: specRoot(s, bundle), Hostname: s.Hostname,
		Limits: specLimits(s), Annotations: s.Annotations,
		Source: "conmon " + strings.Join(args[1:min(len(args), 8)], " ") + " …; " + filepath.Join(bundle, "config.json"),
	}
	if c.Name == "" {
		c.Name = id
	}
	pidfile := flag(args, "-p", "--container-pidfile")
	if pidfile == "" {
		pidfile = filepath.Join(bundle, "pidfile")
	}
	c.PID = readPID(pidfile)
	c.Status = "running"
	if !alive(p.ProcRoot, c.PID, 0) {
		c.PID, c.Status = 0, "stopped"
	}
	if pod := podOf(nil, s.Annotations); pod != nil {
		c.Engine, c.Pod, c.Name = inspect.EngineKubernetes, pod, pod.Container
		c.Image = s.Annotations["io.kubernetes.cri-o.ImageName"]
	}
	return c, nil
}
