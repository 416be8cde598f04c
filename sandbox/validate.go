package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"glassbox/sandbox/cgroup"
	"glassbox/sandbox/nsinit"
	"glassbox/sandbox/state"
)

// ErrNotRoot is returned by Validate when glassbox does not run as root.
var ErrNotRoot = errors.New("glassbox needs root to create namespaces and cgroups; try sudo")

// isHostLabel: letters, digits and inner hyphens, 1 to 63 of them (RFC 1123).
// A plain loop, not a regexp: package-level regexps are compiled at every
// start of the binary — the calculator's too.
func isHostLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') && c != '-' {
			return false
		}
	}
	return true
}

// Validate checks the configuration and the host before anything is
// created, and fills in defaults (ID, Hostname, Network, WorkDir): it is
// ValidateInput, ValidateImage and CheckHost, for a caller that has the
// image's layers already. Start needs a validated configuration. Each error
// names the problem.
func (c *Config) Validate() error {
	if err := c.ValidateInput(); err != nil {
		return err
	}
	if err := c.ValidateImage(); err != nil {
		return err
	}
	return CheckHost(c.UserNS)
}

// ValidateInput checks what the user gave — everything but the image's part
// (Layers, and the command and working directory when the image supplies
// them) — and fills in ID, Hostname and Network. It needs no privileges and
// reads nothing.
func (c *Config) ValidateInput() error {
	if c.ID == "" {
		id, err := state.NewID()
		if err != nil {
			return err
		}
		c.ID = id
	} else if !state.IsID(c.ID) {
		return fmt.Errorf("invalid sandbox id %q: want 12 hex digits", c.ID)
	}
	if c.Name != "" {
		if err := state.CheckName(c.Name); err != nil {
			return err
		}
	}
	if c.Hostname == "" {
		c.Hostname = c.ID
	}
	if err := checkHostname(c.Hostname); err != nil {
		return err
	}
	for _, kv := range c.Env {
		if err := checkEnv(kv); err != nil {
			return err
		}
	}
	if c.WorkDir != "" && !filepath.IsAbs(c.WorkDir) {
		return fmt.Errorf("invalid working directory %q: must be an absolute path", c.WorkDir)
	}
	if err := checkUserSpec(c.User); err != nil {
		return err
	}
	if err := c.Resources.Validate(); err != nil {
		return err
	}
	sec, err := c.Security.resolve()
	if err != nil {
		return err
	}
	c.Security.Resolved = sec
	switch c.Network {
	case "":
		c.Network = NetworkNone
	case NetworkNone, NetworkHost, NetworkBridge:
	default:
		return fmt.Errorf("unknown network mode %q: use bridge, none or host", c.Network)
	}
	return nil
}

// ValidateImage checks the image's part once the layers, the command and
// the environment are in place: the layers exist and the command is found
// in them. It fills in WorkDir ("/").
func (c *Config) ValidateImage() error {
	if len(c.Args) == 0 || c.Args[0] == "" {
		return errors.New("no command to run: the image has none and none was given")
	}
	if c.WorkDir == "" {
		c.WorkDir = "/"
	}
	if len(c.Layers) == 0 {
		return fmt.Errorf("image %q has no layers", c.Image)
	}
	for _, l := range c.Layers {
		if fi, err := os.Stat(l.Dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("layer %s of image %q: directory %s is missing; rebuild the image", l.Digest, c.Image, l.Dir)
		}
	}
	if _, err := resolveCommand(c.Layers, c.Args[0], workloadEnv(c.Env, c.Hostname)); err != nil {
		return err
	}
	// An unknown user is refused here, before anything exists, in docker's
	// words; Start resolves it again over the writable layer too.
	u, err := lookupUser(layerReader(c.Layers), c.User)
	if err != nil {
		return err
	}
	if c.UserNS {
		if err := u.checkUserNS(c.User); err != nil {
			return err
		}
	}
	if !nsinit.Available() {
		return errors.New("this glassbox was built without cgo, which its sandbox init needs; rebuild with CGO_ENABLED=1")
	}
	return nil
}

// checkEnv checks one -e/--env entry: KEY=VALUE with a non-empty key
// without '=', spaces or NUL.
func checkEnv(kv string) error {
	key, _, ok := strings.Cut(kv, "=")
	switch {
	case !ok:
		return fmt.Errorf("invalid environment variable %q: want KEY=VALUE", kv)
	case key == "":
		return fmt.Errorf("invalid environment variable %q: empty name", kv)
	case strings.ContainsAny(key, " \t\n\x00"), strings.ContainsRune(kv, 0):
		return fmt.Errorf("invalid environment variable %q: the name has spaces or NUL", kv)
	}
	return nil
}

func checkHostname(h string) error {
	if len(h) > 64 {
		return fmt.Errorf("invalid hostname %q: longer than 64 characters", h)
	}
	for _, label := range strings.Split(h, ".") {
		if !isHostLabel(label) {
			return fmt.Errorf("invalid hostname %q: use letters, digits and inner '-' in dot-separated labels", h)
		}
	}
	return nil
}

// CheckHost fails when this host or user cannot run a sandbox.
func CheckHost(userns bool) error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	fs, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return fmt.Errorf("read /proc/filesystems: %w", err)
	}
	if !bytes.Contains(fs, []byte("\toverlay\n")) {
		return errors.New("this kernel has no overlayfs (not in /proc/filesystems); load it with `modprobe overlay`")
	}
	if err := cgroup.Check(); err != nil {
		return err
	}
	if userns {
		if _, err := os.Stat("/proc/self/ns/user"); err != nil {
			return errors.New("--userns: this kernel has no user namespaces")
		}
	}
	return nil
}

// checkName refuses a name another recorded sandbox already has (a record
// of the same id is the caller's own reservation).
func checkName(store *state.Store, id, name string) error {
	names, err := store.Names()
	if err != nil {
		return err
	}
	for n, other := range names {
		if other != id && (n == name || other == name) {
			return fmt.Errorf("the name %q is already in use by sandbox %s; remove it or choose another name", name, other)
		}
	}
	return nil
}

// checkUserSpec checks the form of a USER[:GROUP] (-u, the image's USER);
// ValidateImage looks the names up.
func checkUserSpec(spec string) error {
	if spec == "" {
		return nil
	}
	user, group, hasGroup := strings.Cut(spec, ":")
	if user == "" || hasGroup && group == "" || strings.ContainsAny(spec, " \t\n\x00/") || strings.Count(spec, ":") > 1 {
		return fmt.Errorf("invalid user %q: give USER or USER:GROUP, names or numeric ids", spec)
	}
	return nil
}
