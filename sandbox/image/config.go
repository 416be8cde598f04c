package image

import (
	"encoding/json"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// An image's configuration is kept on disk as an OCI image configuration
// (the JSON docker and OCI archives carry), and the image's ID is the
// sha256 of those bytes: an image saved, loaded and saved again keeps its
// ID, and docker shows the same one. Config and History are glassbox's view
// of it; toConfigFile and fromConfigFile map the two both ways.

// Config is what the image says about how to run it.
type Config struct {
	Env        []string `json:"env,omitempty"` // KEY=VALUE
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	WorkingDir string   `json:"working_dir,omitempty"`
	User       string   `json:"user,omitempty"`
	// ExposedPorts are "PORT/PROTO", e.g. "8000/tcp", sorted.
	ExposedPorts []string          `json:"exposed_ports,omitempty"`
	Healthcheck  *Healthcheck      `json:"healthcheck,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Shell        []string          `json:"shell,omitempty"`
	StopSignal   string            `json:"stop_signal,omitempty"`
}

// Healthcheck is how the image's health is checked, every Interval, healthy
// on success within Timeout, unhealthy after Retries failures in a row
// (failures during StartPeriod do not count). Either an HTTP GET of Path on
// Port inside the sandbox (the built-in calculator's; the supervisor polls
// it), or Test in docker's form: ["CMD", args…], ["CMD-SHELL", command] or
// ["NONE"] (run by `exec`; until then stored and shown).
type Healthcheck struct {
	Path        string        `json:"path,omitempty"`
	Port        int           `json:"port,omitempty"`
	Test        []string      `json:"test,omitempty"`
	Interval    time.Duration `json:"interval,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`
	StartPeriod time.Duration `json:"start_period,omitempty"`
	Retries     int           `json:"retries,omitempty"`
}

// IsHTTP says the check is an HTTP GET the supervisor can poll.
func (h *Healthcheck) IsHTTP() bool { return h != nil && h.Path != "" }

// String is the check as a Dockerfile line would give it.
func (h *Healthcheck) String() string {
	if h == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("HEALTHCHECK")
	for _, o := range []struct {
		name string
		d    time.Duration
	}{{"interval", h.Interval}, {"timeout", h.Timeout}, {"start-period", h.StartPeriod}} {
		if o.d != 0 {
			fmt.Fprintf(&b, " --%s=%s", o.name, o.d)
		}
	}
	if h.Retries != 0 {
		fmt.Fprintf(&b, " --retries=%d", h.Retries)
	}
	switch {
	case h.IsHTTP():
		fmt.Fprintf(&b, " GET http://localhost:%d%s", h.Port, h.Path)
	case len(h.Test) > 0 && h.Test[0] == "NONE":
		b.WriteString(" NONE")
	case len(h.Test) > 1 && h.Test[0] == "CMD-SHELL":
		b.WriteString(" CMD " + h.Test[1])
	case len(h.Test) > 1 && h.Test[0] == "CMD":
		data, _ := json.Marshal(h.Test[1:])
		b.WriteString(" CMD " + string(data))
	}
	return b.String()
}

// TCPPorts are the exposed TCP ports as numbers.
func (c *Config) TCPPorts() []int {
	var out []int
	for _, p := range c.ExposedPorts {
		if n, proto, _ := strings.Cut(p, "/"); proto == "tcp" || proto == "" {
			if v, err := strconv.Atoi(n); err == nil {
				out = append(out, v)
			}
		}
	}
	return out
}

// History is one step of how the image was made, as `docker history` shows
// it, with how a glassbox build made it.
type History struct {
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	Comment   string    `json:"comment,omitempty"`
	// EmptyLayer is true for steps that only change the configuration
	// (ENV, EXPOSE, CMD, WORKDIR of an existing directory, …).
	EmptyLayer bool `json:"empty_layer,omitempty"`
	// Layer is the diffID of the layer the step made ("" when EmptyLayer)
	// and Size its bytes of content.
	Layer string `json:"layer,omitempty"`
	Size  int64  `json:"size"`
	// Build says how a glassbox build made the step (nil for steps of
	// loaded or built-in images).
	Build *StepRecord `json:"build,omitempty"`
}

// StepRecord is what a build kept about one of its steps: its cache key
// and whether the cache answered it, and if not, why not.
type StepRecord struct {
	CacheKey string        `json:"cache_key"`
	Cached   bool          `json:"cached"`
	Why      string        `json:"why,omitempty"` // the cache miss, e.g. "app.py changed (sha256:ab12… → sha256:cd34…)"
	Duration time.Duration `json:"duration"`
}

// healthLabel carries an HTTP health check in the OCI configuration, which
// has no such kind (docker ignores the label).
const healthLabel = "org.glassbox.healthcheck.http"

type httpCheck struct {
	Path string `json:"path"`
	Port int    `json:"port"`
}

// toConfigFile is the OCI configuration of an image whose layers have
// these diffIDs.
func toConfigFile(c Config, history []History, diffIDs []string, created time.Time) (*v1.ConfigFile, error) {
	cf := &v1.ConfigFile{
		Architecture: runtime.GOARCH, OS: "linux",
		Created: v1.Time{Time: created.UTC()},
		RootFS:  v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{}},
		Config: v1.Config{
			Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir,
			User: c.User, Shell: c.Shell, StopSignal: c.StopSignal,
		},
	}
	for _, d := range diffIDs {
		h, err := v1.NewHash(d)
		if err != nil {
			return nil, fmt.Errorf("layer %q: %w", d, err)
		}
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, h)
	}
	if len(c.ExposedPorts) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range c.ExposedPorts {
			cf.Config.ExposedPorts[p] = struct{}{}
		}
	}
	if len(c.Labels) > 0 {
		cf.Config.Labels = maps.Clone(c.Labels)
	}
	if hc := c.Healthcheck; hc != nil {
		if hc.IsHTTP() {
			data, _ := json.Marshal(httpCheck{Path: hc.Path, Port: hc.Port})
			if cf.Config.Labels == nil {
				cf.Config.Labels = map[string]string{}
			}
			cf.Config.Labels[healthLabel] = string(data)
		}
		test := hc.Test
		if hc.IsHTTP() {
			test = []string{"NONE"}
		}
		cf.Config.Healthcheck = &v1.HealthConfig{
			Test: test, Interval: hc.Interval, Timeout: hc.Timeout,
			StartPeriod: hc.StartPeriod, Retries: hc.Retries,
		}
	}
	for _, h := range history {
		cf.History = append(cf.History, v1.History{
			Created: v1.Time{Time: h.Created.UTC()}, CreatedBy: h.CreatedBy,
			Comment: h.Comment, EmptyLayer: h.EmptyLayer,
		})
	}
	return cf, nil
}

// fromConfigFile is glassbox's view of an OCI configuration: the config,
// the history (with each layer step's diffID) and the layers' diffIDs.
func fromConfigFile(cf *v1.ConfigFile) (Config, []History, []string) {
	c := Config{
		Env: cf.Config.Env, Entrypoint: cf.Config.Entrypoint, Cmd: cf.Config.Cmd,
		WorkingDir: cf.Config.WorkingDir, User: cf.Config.User, Shell: cf.Config.Shell,
		StopSignal: cf.Config.StopSignal,
	}
	for p := range cf.Config.ExposedPorts {
		c.ExposedPorts = append(c.ExposedPorts, p)
	}
	slices.Sort(c.ExposedPorts)
	labels := maps.Clone(cf.Config.Labels)
	if hc := cf.Config.Healthcheck; hc != nil {
		c.Healthcheck = &Healthcheck{Test: hc.Test, Interval: hc.Interval, Timeout: hc.Timeout, StartPeriod: hc.StartPeriod, Retries: hc.Retries}
		var h httpCheck
		if raw, ok := labels[healthLabel]; ok && json.Unmarshal([]byte(raw), &h) == nil && h.Path != "" {
			c.Healthcheck.Path, c.Healthcheck.Port, c.Healthcheck.Test = h.Path, h.Port, nil
			delete(labels, healthLabel)
		}
	}
	if len(labels) > 0 {
		c.Labels = labels
	}
	var diffIDs []string
	for _, d := range cf.RootFS.DiffIDs {
		diffIDs = append(diffIDs, d.String())
	}
	var history []History
	layer := 0
	for _, h := range cf.History {
		e := History{CreatedBy: h.CreatedBy, Created: h.Created.Time, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
		if !h.EmptyLayer && layer < len(diffIDs) {
			e.Layer = diffIDs[layer]
			layer++
		}
		history = append(history, e)
	}
	return c, history, diffIDs
}
