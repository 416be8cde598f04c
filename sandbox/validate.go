package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
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

// The checks below are plain loops, not regexps: package-level regexps
// are compiled at every start of the binary — the calculator's too.

// isID: 12 lower-case hex digits.
func isID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isName: a letter or digit, then letters, digits, '_', '.', '-'; at most
// 63 characters (docker's rule).
func isName(s string) bool {
	if len(s) == 0 || len(s) > 63 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// isHostLabel: letters, digits and inner hyphens, 1 to 63 of them (RFC 1123).
func isHostLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

// NewID returns a fresh sandbox id: 12 random hex digits.
func NewID() (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate a sandbox id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Validate checks the configuration and the host before anything is
// created, and fills in defaults (ID, Name, Hostname, Network, WorkDir).
// Each error names the problem.
func (c *Config) Validate() error {
	if err := c.validateInput(); err != nil {
		return err
	}
	return CheckHost(c.UserNS)
}

// validateInput checks what the user gave; it needs no privileges.
func (c *Config) validateInput() error {
	if c.ID == "" {
		id, err := NewID()
		if err != nil {
			return err
		}
		c.ID = id
	} else if !isID(c.ID) {
		return fmt.Errorf("invalid sandbox id %q: want 12 hex digits", c.ID)
	}
	if c.Name != "" && !isName(c.Name) {
		return fmt.Errorf("invalid name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit, at most 63 characters", c.Name)
	}
	if c.Hostname == "" {
		c.Hostname = c.ID
	}
	if err := checkHostname(c.Hostname); err != nil {
		return err
	}
	for _, kv := range c.Env {
		if err := CheckEnv(kv); err != nil {
			return err
		}
	}
	if len(c.Args) == 0 || c.Args[0] == "" {
		return errors.New("no command to run: the image has none and none was given")
	}
	if c.WorkDir == "" {
		c.WorkDir = "/"
	}
	if !filepath.IsAbs(c.WorkDir) {
		return fmt.Errorf("invalid working directory %q: must be an absolute path", c.WorkDir)
	}
	if err := c.Resources.Validate(); err != nil {
		return err
	}
	switch c.Network {
	case "":
		c.Network = NetworkNone
	case NetworkNone, NetworkHost:
	case NetworkBridge:
		if c.Hooks.OnCreated == nil {
			return errors.New("network bridge needs an attach hook (Hooks.OnCreated)")
		}
	default:
		return fmt.Errorf("unknown network mode %q: use none or host", c.Network)
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
	if !nsinit.Available() {
		return errors.New("this glassbox was built without cgo, which its sandbox init needs; rebuild with CGO_ENABLED=1")
	}
	return nil
}

// CheckEnv checks one -e/--env entry: KEY=VALUE with a non-empty key
// without '=', spaces or NUL.
func CheckEnv(kv string) error {
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
	all, err := store.List()
	if err != nil {
		return err
	}
	for _, sb := range all {
		if sb.ID != id && (sb.Name == name || sb.ID == name) {
			return fmt.Errorf("the name %q is already in use by sandbox %s; remove it or choose another name", name, sb.ID)
		}
	}
	return nil
}
