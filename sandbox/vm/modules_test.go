package vm

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeModules lays out a module tree as Debian's kernel has it for the
// virtio network card, with modules.dep as depmod writes it.
func fakeModules(t *testing.T, builtin string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"virtio_ring":           "kernel/drivers/virtio/virtio_ring.ko",
		"virtio":                "kernel/drivers/virtio/virtio.ko",
		"virtio_pci_modern_dev": "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
		"virtio_pci_legacy_dev": "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
		"virtio_pci":            "kernel/drivers/virtio/virtio_pci.ko",
		"failover":              "kernel/net/core/failover.ko",
		"net_failover":          "kernel/drivers/net/net_failover.ko",
		"virtio_net":            "kernel/drivers/net/virtio_net.ko",
	}
	for _, f := range files {
		writeFile(t, filepath.Join(dir, f), "module")
	}
	dep := strings.Join([]string{
		"kernel/drivers/virtio/virtio_ring.ko:",
		"kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko",
		"kernel/drivers/virtio/virtio_pci_modern_dev.ko:",
		"kernel/drivers/virtio/virtio_pci_legacy_dev.ko:",
		"kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio.ko",
		"kernel/net/core/failover.ko:",
		"kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko",
		"kernel/drivers/net/virtio_net.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko",
	}, "\n") + "\n"
	writeFile(t, filepath.Join(dir, "modules.dep"), dep)
	writeFile(t, filepath.Join(dir, "modules.builtin"), builtin)
	return dir
}

// dependenciesFirst checks that each module of order comes after
// everything the tree says it needs.
func dependenciesFirst(t *testing.T, tree *moduleTree, order []string) {
	t.Helper()
	pos := map[string]int{}
	for i, f := range order {
		pos[moduleName(f)] = i
	}
	for _, f := range order {
		deps, err := tree.dependsOf(moduleName(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range deps {
			if pos[d] >= pos[moduleName(f)] {
				t.Errorf("%s loads before its dependency %s: %v", f, d, order)
			}
		}
	}
}

func TestResolveOrdersDependenciesFirst(t *testing.T) {
	dir := fakeModules(t, "kernel/drivers/block/loop.ko\n")
	tree, err := readModuleTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	order, err := tree.resolve(netModules)
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 8 {
		t.Fatalf("resolved %d modules, want all 8: %v", len(order), order)
	}
	dependenciesFirst(t, tree, order)
}

func TestResolveSkipsBuiltins(t *testing.T) {
	dir := fakeModules(t, "kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\nkernel/drivers/virtio/virtio_pci.ko\n")
	tree, err := readModuleTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	order, err := tree.resolve(netModules)
	if err != nil {
		t.Fatal(err)
	}
	want := "kernel/net/core/failover.ko kernel/drivers/net/net_failover.ko kernel/drivers/net/virtio_net.ko"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("with virtio built in: %s, want %s", got, want)
	}
}

func TestResolveMissingModule(t *testing.T) {
	dir := fakeModules(t, "")
	os.Remove(filepath.Join(dir, "kernel/net/core/failover.ko"))
	tree, err := readModuleTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tree.resolve(netModules)
	if !errors.Is(err, errNoModule) || !strings.Contains(err.Error(), "failover (needed by net_failover)") {
		t.Errorf("missing failover.ko: %v", err)
	}
}

// TestResolveFromModinfo reads dependencies from the modules themselves
// (no modules.dep), on the kernel the comparison boots, when it is there.
func TestResolveFromModinfo(t *testing.T) {
	k := cachedKernel(KernelCache)
	if k == nil || k.Modules == "" {
		t.Skip("no kernel in " + KernelCache + " to read real modules from (.ci/kernel fetches one)")
	}
	tree, err := readModuleTree(k.Modules)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tree.resolve(netModules)
	if err != nil {
		t.Fatal(err)
	}
	tree.deps = nil // as if there were no modules.dep
	got, err := tree.resolve(netModules)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)); !slices.Equal(g, w) {
		t.Errorf(".modinfo gives %v, modules.dep %v", g, w)
	}
	dependenciesFirst(t, tree, got)
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/drivers/net/virtio_net.ko":    "virtio_net",
		"virtio-net.ko.xz":                    "virtio_net",
		"kernel/fs/9p/9p.ko.zst":              "9p",
		"kernel/drivers/net/net_failover.ko":  "net_failover",
		"kernel/drivers/virtio/virtio_pci.ko": "virtio_pci",
	} {
		if got := moduleName(in); got != want {
			t.Errorf("moduleName(%q) = %q, want %q", in, got, want)
		}
	}
}
