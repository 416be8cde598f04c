package engines

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	c.Image, c.ImageID, c.Created = storageImage(bundle, id)
	if pod := podOf(nil, s.Annotations); pod != nil {
		c.Engine, c.Pod, c.Name = inspect.EngineKubernetes, pod, pod.Container
		c.Image = s.Annotations["io.kubernetes.cri-o.ImageName"]
	}
	return c, nil
}

// storageImage is a podman container's image name and id, from the
// containers/storage record its bundle sits in
// (ROOT/overlay-containers/containers.json; the bundle is
// ROOT/overlay-containers/ID/userdata): "" when there is none.
func storageImage(bundle, id string) (name, imageID string, created time.Time) {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(bundle)), "containers.json"))
	if err != nil {
		return "", "", time.Time{}
	}
	var recs []struct {
		ID       string `json:"id"`
		Image    string `json:"image"`
		Metadata string `json:"metadata"`
	}
	if json.Unmarshal(b, &recs) != nil {
		return "", "", time.Time{}
	}
	for _, r := range recs {
		if r.ID != id {
			continue
		}
		var m struct {
			ImageName string `json:"image-name"`
			Created   int64  `json:"created-at"`
		}
		json.Unmarshal([]byte(r.Metadata), &m)
		if m.Created > 0 {
			created = time.Unix(m.Created, 0)
		}
		return m.ImageName, r.Image, created
	}
	return "", "", time.Time{}
}
