package sandbox

import (
	"fmt"
	"path"
	"strings"

	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
)

// resolveCommand finds the workload's executable in the image's layers, as
// it will appear in the merged root, before anything is created — so a
// missing command is an error that leaves nothing behind. A command with
// a slash is taken as it is; otherwise each directory of the workload's
// PATH is searched. The layers are merged as overlayfs merges them
// (image.Resolve): a command an upper layer deleted is not there, and
// symlinks resolve inside the root.
func resolveCommand(layers []state.Layer, name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if !path.IsAbs(name) {
			return name, nil // relative to the working directory: the init's exec tells
		}
		if !isExecutable(layers, name) {
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
		if p := path.Join(dir, name); isExecutable(layers, p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("command %q not found in the image's PATH (%s)", name, search)
}

// isExecutable: the merged root has a regular file with an execute bit at
// inside, through any symlinks.
func isExecutable(layers []state.Layer, inside string) bool {
	_, fi, ok := image.Resolve(layers, inside)
	return ok && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
