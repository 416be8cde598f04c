package sandbox

import (
	"fmt"
	"os"
	"path"
	"strings"

	"glassbox/sandbox/state"
)

// resolveCommand finds the workload's executable in the image's layers, as
// it will appear in the merged root, before anything is created — so a
// missing command is an error that leaves nothing behind. A command with
// a slash is taken as it is; otherwise each directory of the workload's
// PATH is searched, each in every layer, top-most first.
func resolveCommand(layers []state.Layer, name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if !path.IsAbs(name) {
			return name, nil // relative to the working directory: the init's exec tells
		}
		if _, ok := findInLayers(layers, name); !ok {
			return "", fmt.Errorf("command %s: no such file in the image", name)
		}
		return name, nil
	}
	search := strings.TrimPrefix(DefaultPath, "PATH=")
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			search = v
		}
	}
	for _, dir := range strings.Split(search, ":") {
		if !path.IsAbs(dir) {
			continue
		}
		p := path.Join(dir, name)
		if _, ok := findInLayers(layers, p); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("command %q not found in the image's PATH (%s)", name, search)
}

// findInLayers says which layer holds the path inside the sandbox.
func findInLayers(layers []state.Layer, inside string) (string, bool) {
	for _, l := range layers {
		p := l.Dir + inside
		if fi, err := os.Lstat(p); err == nil && (fi.Mode()&os.ModeSymlink != 0 || fi.Mode()&0o111 != 0) {
			return p, true
		}
	}
	return "", false
}
