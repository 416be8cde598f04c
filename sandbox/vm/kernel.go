package vm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// KernelCache is where a kernel fetched without installing it waits to be
// booted, one directory per version (.ci/kernel fills it the way CI's
// cgroup v2 VM does: apt-get download of the kernel that Debian's
// linux-image-amd64 depends on, unpacked, never installed):
//
//	<kver>-<package version>/vmlinux    the uncompressed kernel (PVH entry:
//	                                    no decompression at emulation speed)
//	<kver>-<package version>/modules/   its /lib/modules/<kver>, with modules.dep
//	<kver>-<package version>/release    <kver>, what uname -r will say
//	<kver>-<package version>/.complete  written last
const KernelCache = "/var/cache/glassbox/kernel"

// Kernel is a kernel image to boot and what goes with it.
type Kernel struct {
	Image string `json:"image"` // the file qemu boots
	Size  int64  `json:"size"`  // its size in bytes
	// Release is what uname -r will say inside, when the file's name or
	// its cache directory tells; "" when only booting it will tell.
	Release string `json:"release,omitempty"`
	// Modules is its /lib/modules/<release> tree; "" when it has none
	// (drivers built in).
	Modules string `json:"modules,omitempty"`
	// Origin says, for people, where it was found.
	Origin string `json:"origin"`
}

// NoKernelError says that no kernel image could be found, what was looked
// at, and what to install.
type NoKernelError struct{ Tried []string }

func (e *NoKernelError) Error() string {
	return "no kernel image to boot the VM: looked at " + strings.Join(e.Tried, ", ") +
		". Install one: apt-get install linux-image-amd64 (it lands in /boot), or fetch one without installing it" +
		" into " + KernelCache + " with .ci/kernel from glassbox's source tree, or name an image with --kernel FILE"
}

// FindKernel finds the kernel to boot: the one named (explicit), else the
// host's own image (/boot/vmlinuz-$(uname -r)) where it is readable, else
// the newest one in KernelCache, else the newest /boot/vmlinuz-*.
func FindKernel(explicit string) (*Kernel, error) {
	if explicit != "" {
		return namedKernel(explicit, "/lib/modules")
	}
	return kernelPlaces{boot: "/boot", modules: "/lib/modules", cache: KernelCache, release: hostRelease()}.find()
}

// kernelPlaces are where FindKernel looks (tests point them elsewhere).
type kernelPlaces struct {
	boot, modules, cache string
	release              string // the running kernel's uname -r
}

func (p kernelPlaces) find() (*Kernel, error) {
	own := filepath.Join(p.boot, "vmlinuz-"+p.release)
	tried := []string{own}
	if readable(own) {
		return bootKernel(own, p.modules, "the host's own kernel image")
	}
	if k := cachedKernel(p.cache); k != nil {
		return k, nil
	}
	tried = append(tried, p.cache)
	others, _ := filepath.Glob(filepath.Join(p.boot, "vmlinuz-*"))
	sort.Slice(others, func(i, j int) bool { return modTime(others[i]) > modTime(others[j]) })
	for _, o := range others {
		if readable(o) {
			return bootKernel(o, p.modules, "a kernel installed in "+p.boot+" (not the running one)")
		}
	}
	tried = append(tried, filepath.Join(p.boot, "vmlinuz-*"))
	return nil, &NoKernelError{Tried: tried}
}

// namedKernel is --kernel FILE: a file in /boot-style naming gets its
// modules from /lib/modules, one in a cache directory from beside it.
func namedKernel(path, modules string) (*Kernel, error) {
	if !readable(path) {
		return nil, fmt.Errorf("--kernel %s: cannot read it", path)
	}
	if k := cacheEntry(filepath.Dir(path)); k != nil && filepath.Clean(k.Image) == filepath.Clean(path) {
		return k, nil
	}
	return bootKernel(path, modules, "named with --kernel")
}

// bootKernel describes an image named vmlinuz-<release> (or vmlinux-…),
// with its modules in <modules>/<release> when they are there.
func bootKernel(path, modules, origin string) (*Kernel, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	k := &Kernel{Image: path, Size: fi.Size(), Origin: origin}
	base := filepath.Base(path)
	for _, p := range []string{"vmlinuz-", "vmlinux-"} {
		if strings.HasPrefix(base, p) {
			k.Release = strings.TrimPrefix(base, p)
		}
	}
	if k.Release != "" {
		if d := filepath.Join(modules, k.Release); isDir(d) {
			k.Modules = d
		}
	}
	return k, nil
}

// cachedKernel returns the newest complete entry of cache.
func cachedKernel(cache string) *Kernel {
	dirs, _ := filepath.Glob(filepath.Join(cache, "*", ".complete"))
	sort.Slice(dirs, func(i, j int) bool { return modTime(dirs[i]) > modTime(dirs[j]) })
	for _, c := range dirs {
		if k := cacheEntry(filepath.Dir(c)); k != nil {
			return k
		}
	}
	return nil
}

func cacheEntry(dir string) *Kernel {
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
		return nil
	}
	img := filepath.Join(dir, "vmlinux")
	fi, err := os.Stat(img)
	if err != nil || !readable(img) {
		return nil
	}
	k := &Kernel{Image: img, Size: fi.Size(), Origin: "a Debian kernel fetched into " + filepath.Dir(dir) + " (not installed)"}
	if b, err := os.ReadFile(filepath.Join(dir, "release")); err == nil {
		k.Release = strings.TrimSpace(string(b))
	}
	if d := filepath.Join(dir, "modules"); isDir(d) {
		k.Modules = d
	}
	return k
}

// hostRelease is uname -r.
func hostRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func readable(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [1]byte
	_, err = f.Read(b[:])
	return err == nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func modTime(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.ModTime().UnixNano()
}

var errNoModule = errors.New("no such module")
