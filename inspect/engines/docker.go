package engines

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// Docker (and podman's compatible service) answer the Engine API on a unix
// socket. glassbox asks it only GETs: the container list, each container's
// inspect, its image's inspect, and /info for the data root. The answers'
// shapes are docker's documented API (v1.41 here: docker 20.10, and what
// podman 4 serves); only the fields read are declared.

const dockerAPI = "/v1.41"

// apiClient is a read-only Engine API client on one unix socket.
type apiClient struct {
	socket string
	http   *http.Client
}

func newAPIClient(host string, timeout time.Duration) (*apiClient, error) {
	socket, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		return nil, fmt.Errorf("%s: glassbox reads an engine through its unix socket only (it must see the host's processes and cgroups anyway, so it runs where the engine does)", host)
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableCompression: true,
	}
	return &apiClient{socket: socket, http: &http.Client{Transport: tr, Timeout: timeout}}, nil
}

func (a *apiClient) close() { a.http.CloseIdleConnections() }

// get decodes the JSON answer to GET path into v.
func (a *apiClient) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+dockerAPI+path, nil)
	if err != nil {
		return err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		var op *net.OpError
		if ue, ok := err.(*url.Error); ok && asOpError(ue.Err, &op) {
			return fmt.Errorf("%s: %w", a.socket, op.Err)
		}
		return fmt.Errorf("GET %s on %s: %w", path, a.socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &m) == nil && m.Message != "" {
			return fmt.Errorf("GET %s on %s: %s: %s", path, a.socket, resp.Status, m.Message)
		}
		return fmt.Errorf("GET %s on %s: %s", path, a.socket, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
		return fmt.Errorf("GET %s on %s: %w", path, a.socket, err)
	}
	return nil
}

func asOpError(err error, op **net.OpError) bool {
	o, ok := err.(*net.OpError)
	if ok {
		*op = o
	}
	return ok
}

// dockerListEntry is one element of GET /containers/json.
type dockerListEntry struct {
	ID string `json:"Id"`
}

// dockerContainerJSON is the part of GET /containers/{id}/json read here.
type dockerContainerJSON struct {
	ID      string `json:"Id"`
	Name    string `json:"Name"` // "/dcalc"
	Created string `json:"Created"`
	Image   string `json:"Image"` // the image id, sha256:…
	State   struct {
		Status    string `json:"Status"` // created, running, paused, restarting, removing, exited, dead
		Pid       int    `json:"Pid"`
		StartedAt string `json:"StartedAt"`
		OOMKilled bool   `json:"OOMKilled"`
	} `json:"State"`
	Config struct {
		Hostname string            `json:"Hostname"`
		Image    string            `json:"Image"` // as the user named it
		Labels   map[string]string `json:"Labels"`
	} `json:"Config"`
	HostConfig struct {
		Memory    int64  `json:"Memory"`
		NanoCpus  int64  `json:"NanoCpus"`
		CPUQuota  int64  `json:"CpuQuota"`
		CPUPeriod int64  `json:"CpuPeriod"`
		PidsLimit *int64 `json:"PidsLimit"`
	} `json:"HostConfig"`
	NetworkSettings struct {
		Ports map[string][]struct {
			HostIP   string `json:"HostIp"`
			HostPort string `json:"HostPort"`
		} `json:"Ports"`
	} `json:"NetworkSettings"`
	GraphDriver struct {
		Name string            `json:"Name"`
		Data map[string]string `json:"Data"`
	} `json:"GraphDriver"`
}

// dockerContainers lists an Engine API's containers (stopped ones too).
func dockerContainers(ctx context.Context, p Places, engine, host string) ([]*inspect.Container, error) {
	a, err := newAPIClient(host, p.Timeout)
	if err != nil {
		return nil, err
	}
	defer a.close()
	var list []dockerListEntry
	if err := a.get(ctx, "/containers/json?all=1", &list); err != nil {
		return nil, err
	}
	var layers *layerMap
	if engine == inspect.EngineDocker {
		layers = newLayerMap(ctx, a, p.DockerRoot)
	}
	var out []*inspect.Container
	var bad []string
	for _, e := range list {
		var j dockerContainerJSON
		path := "/containers/" + url.PathEscape(e.ID) + "/json"
		if err := a.get(ctx, path, &j); err != nil {
			bad = append(bad, err.Error()) // removed meanwhile, most likely
			continue
		}
		c := fromDockerJSON(engine, &j)
		c.Source = "GET " + dockerAPI + path + " on " + a.socket
		if layers != nil {
			c.Layers = layers.forContainer(ctx, a, &j)
		}
		out = append(out, c)
	}
	if len(bad) > 0 && len(out) == 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return out, nil
}

// fromDockerJSON turns docker's inspect answer into a Container.
func fromDockerJSON(engine string, j *dockerContainerJSON) *inspect.Container {
	c := &inspect.Container{
		Engine: engine, ID: j.ID, Name: strings.TrimPrefix(j.Name, "/"),
		Image: j.Config.Image, ImageID: j.Image, Status: j.State.Status,
		Labels: j.Config.Labels, Hostname: j.Config.Hostname,
	}
	if c.Status == "restarting" || c.Status == "running" || c.Status == "paused" {
		c.PID = j.State.Pid
	}
	if c.Status == "restarting" && c.PID > 0 {
		c.Status = "running"
	}
	c.Created, _ = time.Parse(time.RFC3339Nano, j.Created)
	if t, err := time.Parse(time.RFC3339Nano, j.State.StartedAt); err == nil && t.Year() > 1 {
		c.Started = t
	}
	h := j.HostConfig
	c.Limits.MemoryBytes = h.Memory
	switch {
	case h.NanoCpus > 0:
		c.Limits.CPUs = float64(h.NanoCpus) / 1e9
	case h.CPUQuota > 0:
		period := h.CPUPeriod
		if period <= 0 {
			period = 100000
		}
		c.Limits.CPUQuotaUS, c.Limits.CPUPeriodUS = h.CPUQuota, uint64(period)
		c.Limits.CPUs = float64(h.CPUQuota) / float64(period)
	}
	if h.PidsLimit != nil && *h.PidsLimit > 0 {
		c.Limits.PidsLimit = *h.PidsLimit
	}
	for spec, binds := range j.NetworkSettings.Ports {
		port, proto, _ := strings.Cut(spec, "/")
		cp, err := strconv.Atoi(port)
		if err != nil {
			continue
		}
		for _, b := range binds {
			hp, err := strconv.Atoi(b.HostPort)
			if err != nil {
				continue
			}
			c.Ports = append(c.Ports, state.Port{HostIP: b.HostIP, HostPort: hp, ContainerPort: cp, Proto: proto})
		}
	}
	sortPorts(c.Ports)
	if engine == inspect.EngineDocker {
		if pod := podOf(c.Labels, nil); pod != nil {
			c.Pod = pod // a Kubernetes container run through dockershim or cri-dockerd
		}
	}
	return c
}

func sortPorts(ps []state.Port) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && portLess(ps[j], ps[j-1]); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func portLess(a, b state.Port) bool {
	if a.ContainerPort != b.ContainerPort {
		return a.ContainerPort < b.ContainerPort
	}
	if a.HostIP != b.HostIP {
		return a.HostIP < b.HostIP
	}
	return a.HostPort < b.HostPort
}
