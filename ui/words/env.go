package words

import (
	"strings"

	"glassbox/sandbox/state"
)

// EnvVar is one variable of a workload's environment and where it came
// from.
type EnvVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// From says who set it: "image ENV", "-e", "-e (image ENV: VALUE)"
	// where -e overrode the image's value, "glassbox (the hostname)", "glassbox (a default PATH)", or
	// "" when the record cannot tell (another engine's container).
	From string `json:"from"`
	// Overrides is set when -e replaced the image's value.
	Overrides bool `json:"overrides,omitempty"`
}

// Env is the workload's environment, each variable with its origin. live
// is what the process holds (its /proc/PID/environ); when it is empty (the
// process is gone, or could not be read) the record's merged Env stands in.
// sb's ImageEnv tells the image's defaults from what -e set.
func Env(live []string, sb *state.Sandbox) []EnvVar {
	vars := live
	if len(vars) == 0 && sb != nil {
		vars = sb.Env
	}
	var image, merged map[string]string
	if sb != nil && sb.Engine == "" {
		image, merged = envMap(sb.ImageEnv), envMap(sb.Env)
	}
	out := make([]EnvVar, 0, len(vars))
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		e := EnvVar{Key: k, Value: v}
		if sb != nil && sb.Engine == "" {
			e.From, e.Overrides = envOrigin(k, v, image, merged, sb.ImageEnv != nil)
		}
		out = append(out, e)
	}
	return out
}

// envOrigin says where one variable came from; known is false for a
// record made before the image's ENV was recorded.
func envOrigin(k, v string, image, merged map[string]string, known bool) (string, bool) {
	iv, inImage := image[k]
	_, inRun := merged[k]
	switch {
	case inImage && iv == v:
		return "image ENV", false
	case inImage && inRun:
		return "-e (image ENV: " + iv + ")", true
	case inRun && known:
		return "-e", false
	case inRun:
		return "glassbox run", false
	case k == "HOSTNAME":
		return "glassbox (the hostname)", false
	case k == "PATH":
		return "glassbox (a default PATH)", false
	}
	return "set inside (not in the record)", false
}

func envMap(kvs []string) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
