package union

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/inspect/union/uniontest"
)

// Root can set both kinds of overlay attribute; each marks a directory
// opaque.
func TestOpaqueByEitherAttribute(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("trusted.* attributes need root; user.overlay.opaque is covered by every fixture without it")
	}
	top := uniontest.Layer(t, "d /cache\nf /cache/b 5")
	if err := unix.Setxattr(top+"/cache", "user.overlay.opaque", []byte("y"), 0); errors.Is(err, unix.EOPNOTSUPP) {
		t.Skip("this file system keeps no user.* attributes (tmpfs before Linux 6.6): user.overlay.opaque cannot occur on it")
	} else if err != nil {
		t.Fatal(err)
	}
	st := &Stack{Layers: []Layer{{Dir: uniontest.Layer(t, "f /cache/a 10")}, {Dir: top}}}
	im, err := Read(st)
	if err != nil {
		t.Fatal(err)
	}
	if pr, err := im.Which("/cache/a", 1); err != nil || pr.Removed == nil || pr.Removed.How != ByOpaque {
		t.Errorf("/cache/a under a user.overlay.opaque directory: %+v %v", pr, err)
	}
}
