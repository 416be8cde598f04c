package engines

import (
	"os"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

// TestMain removes the glassbox binary the root tests built.
func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }
