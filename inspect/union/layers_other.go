//go:build !linux

package union

import (
	"fmt"
	"os"
	"runtime"
)

// Layers are overlayfs directories: reading them is for Linux, where they
// are. Elsewhere (a replay on a laptop) the types still describe them.
var errNotLinux = fmt.Errorf("reading image layers needs Linux (this is %s)", runtime.GOOS)

func readLayers([]Layer) ([]*Entry, []LayerStats, error) { return nil, nil, errNotLinux }

func readLayer(Layer, chan struct{}) (*Entry, LayerStats, error) {
	return nil, LayerStats{}, errNotLinux
}

func openBeneath(dir, rel string) (*os.File, error) { return nil, errNotLinux }
