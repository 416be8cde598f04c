package build

// What the planned instructions do to the image's configuration: a
// HEALTHCHECK's flags, ENV's list, a copy of the configuration for each
// step, and the part of it a step's cache key covers.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"glassbox/sandbox/build/dockerfile"
	"glassbox/sandbox/image"
)

// healthcheck reads a HEALTHCHECK: NONE, or CMD with its flags
// (--interval, --timeout, --start-period, --retries).
func healthcheck(in *dockerfile.Instruction) (*image.Healthcheck, error) {
	hc := &image.Healthcheck{}
	for _, f := range in.Flags {
		if f.Name == "retries" {
			n, err := strconv.Atoi(f.Value)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("--retries=%s: must be a whole number above 0", f.Value)
			}
			hc.Retries = n
			continue
		}
		d, err := time.ParseDuration(f.Value)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("--%s=%s: a duration like 30s or 1m30s", f.Name, f.Value)
		}
		switch f.Name {
		case "interval":
			hc.Interval = d
		case "timeout":
			hc.Timeout = d
		case "start-period":
			hc.StartPeriod = d
		}
	}
	kind, rest, _ := strings.Cut(strings.TrimSpace(in.Args), " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToUpper(kind) {
	case "NONE":
		if rest != "" || len(in.Flags) > 0 {
			return nil, fmt.Errorf("NONE takes no options or arguments")
		}
		hc.Test = []string{"NONE"}
	case "CMD":
		if rest == "" {
			return nil, fmt.Errorf("CMD needs a command")
		}
		if in.IsJSON {
			hc.Test = append([]string{"CMD"}, in.JSON...)
		} else {
			hc.Test = []string{"CMD-SHELL", rest}
		}
	default:
		return nil, fmt.Errorf("HEALTHCHECK takes CMD … or NONE, not %q", kind)
	}
	return hc, nil
}

func setEnv(env []string, k, v string) []string {
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
	return append(out, k+"="+v)
}

func hasEnv(env []string, k string) bool {
	return slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
}

func cloneConfig(c image.Config) image.Config {
	c.Env = slices.Clone(c.Env)
	c.Cmd = slices.Clone(c.Cmd)
	c.Entrypoint = slices.Clone(c.Entrypoint)
	c.ExposedPorts = slices.Clone(c.ExposedPorts)
	if c.Labels != nil {
		l := map[string]string{}
		for k, v := range c.Labels {
			l[k] = v
		}
		c.Labels = l
	}
	if c.Healthcheck != nil {
		h := *c.Healthcheck
		c.Healthcheck = &h
	}
	return c
}

// configKey is the configuration in effect, as a step's cache key covers it.
func configKey(c image.Config) string {
	data, _ := json.Marshal(struct {
		Env     []string `json:"env"`
		WorkDir string   `json:"workdir"`
		User    string   `json:"user"`
		Shell   []string `json:"shell"`
	}{c.Env, c.WorkingDir, c.User, c.Shell})
	return string(data)
}
