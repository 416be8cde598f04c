package sandbox_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"glassbox/sandbox"
	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/state"
)

// layerWith makes a layer directory holding an executable at each path.
func layerWith(t *testing.T, paths ...string) state.Layer {
	dir := t.TempDir()
	for _, p := range paths {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return state.Layer{Digest: "test", Dir: dir}
}

// TestValidateInput: each bad configuration is refused with its reason,
// before the host checks (so this runs without root too).
func TestValidateInput(t *testing.T) {
	layer := layerWith(t, "app/calculator", "bin/sh")
	good := func() *sandbox.Config {
		return &sandbox.Config{Image: "test", Layers: []state.Layer{layer}, Args: []string{"/app/calculator"}}
	}
	cases := []struct {
		name string
		edit func(*sandbox.Config)
		want string
	}{
		{"bad id", func(c *sandbox.Config) { c.ID = "xyz" }, "invalid sandbox id"},
		{"bad name", func(c *sandbox.Config) { c.Name = "-x" }, "invalid name"},
		{"bad hostname", func(c *sandbox.Config) { c.Hostname = "a_b" }, "invalid hostname"},
		{"long hostname", func(c *sandbox.Config) { c.Hostname = strings.Repeat("a", 65) }, "longer than 64"},
		{"env without =", func(c *sandbox.Config) { c.Env = []string{"FOO"} }, "want KEY=VALUE"},
		{"env empty key", func(c *sandbox.Config) { c.Env = []string{"=1"} }, "empty name"},
		{"env space", func(c *sandbox.Config) { c.Env = []string{"A B=1"} }, "spaces"},
		{"no command", func(c *sandbox.Config) { c.Args = nil }, "no command"},
		{"relative workdir", func(c *sandbox.Config) { c.WorkDir = "app" }, "absolute"},
		{"memory too low", func(c *sandbox.Config) { c.Resources.MemoryBytes = 1 << 20 }, "below the minimum"},
		{"negative memory", func(c *sandbox.Config) { c.Resources.MemoryBytes = -1 }, "negative"},
		{"too many cpus", func(c *sandbox.Config) { c.Resources.CPUQuotaUS, c.Resources.CPUPeriodUS = cgroup.CPUs(1000) }, "more than the"},
		{"unknown network", func(c *sandbox.Config) { c.Network = "wifi" }, "unknown network mode"},
		{"no layers", func(c *sandbox.Config) { c.Layers = nil }, "no layers"},
		{"missing layer", func(c *sandbox.Config) { c.Layers = []state.Layer{{Dir: "/nonexistent/glassbox"}} }, "is missing"},
		{"missing command", func(c *sandbox.Config) { c.Args = []string{"/app/nope"} }, "no such file in the image"},
		{"command not in PATH", func(c *sandbox.Config) { c.Args = []string{"nope"} }, "not found in the image's PATH"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := good()
			c.edit(cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, c.want)
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		cfg := good()
		cfg.Args = []string{"sh"} // found in the default PATH
		err := cfg.Validate()
		if err != nil && !strings.Contains(err.Error(), "needs root") && os.Geteuid() != 0 {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(cfg.ID) || cfg.Hostname != cfg.ID ||
			cfg.Network != sandbox.NetworkNone || cfg.WorkDir != "/" {
			t.Errorf("defaults: id %q hostname %q network %q workdir %q", cfg.ID, cfg.Hostname, cfg.Network, cfg.WorkDir)
		}
	})
}

// TestStartNeedsValidation: Start does not check the user's input again, so
// it refuses a configuration that never went through Validate, and a bridge
// sandbox without the hook that attaches it.
func TestStartNeedsValidation(t *testing.T) {
	layer := layerWith(t, "bin/true")
	cfg := &sandbox.Config{Image: "test", Layers: []state.Layer{layer}, Args: []string{"/bin/true"}}
	if _, err := sandbox.Start(cfg, sandbox.Stdio{}); err == nil || !strings.Contains(err.Error(), "not validated") {
		t.Errorf("Start of an unvalidated config = %v, want a refusal", err)
	}
	if err := cfg.ValidateInput(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.ValidateImage(); err != nil {
		t.Fatal(err)
	}
	cfg.Network = sandbox.NetworkBridge
	if _, err := sandbox.Start(cfg, sandbox.Stdio{}); err == nil || !strings.Contains(err.Error(), "attach hook") {
		t.Errorf("Start of a bridge sandbox without a hook = %v, want a refusal", err)
	}
}

func TestValidateNeedsRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root: the not-root message is tested by TestRunNeedsRoot")
	}
	cfg := &sandbox.Config{Image: "test", Layers: []state.Layer{layerWith(t, "bin/true")}, Args: []string{"/bin/true"}}
	if err := cfg.Validate(); err != sandbox.ErrNotRoot {
		t.Errorf("Validate() as %d = %v, want %v", os.Geteuid(), err, sandbox.ErrNotRoot)
	}
}

func TestMergeEnv(t *testing.T) {
	got := sandbox.MergeEnv([]string{"A=1", "B=2"}, []string{"B=3", "C=4", "A="})
	want := []string{"A=", "B=3", "C=4"}
	if !slices.Equal(got, want) {
		t.Errorf("MergeEnv = %v, want %v", got, want)
	}
}
