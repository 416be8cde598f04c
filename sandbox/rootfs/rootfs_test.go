package rootfs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func spec() *Spec {
	return &Spec{
		Lower: []string{"/l/top", "/l/base"}, Upper: "/c/upper", Work: "/c/work", Target: "/c/rootfs",
		EtcFiles: map[string]string{"/etc/hostname": "/c/etc/hostname", "/etc/hosts": "/c/etc/hosts"},
		Cgroups:  []CgroupMount{{Name: "memory", FSType: "cgroup", Options: "memory"}},
		Hostname: "box", NewNet: true,
	}
}

func TestPlanOrder(t *testing.T) {
	ops, err := Plan(spec())
	if err != nil {
		t.Fatal(err)
	}
	if ops[0].Kind != OpMount || ops[0].Dst != "/" || ops[0].Flags != unix.MS_REC|unix.MS_PRIVATE {
		t.Errorf("first step %+v, want / made private", ops[0])
	}
	if ops[1].FSType != "overlay" || ops[1].Data != "lowerdir=/l/top:/l/base,upperdir=/c/upper,workdir=/c/work,redirect_dir=off,metacopy=off" {
		t.Errorf("second step %+v, want the overlay with the layers top-most first", ops[1])
	}
	n := len(ops)
	if ops[n-1].Kind != OpPivot || ops[n-1].Dst != "/c/rootfs" || ops[n-2].Kind != OpWaitGo {
		t.Errorf("last steps %+v %+v, want wait for go, then pivot", ops[n-2], ops[n-1])
	}
	idx := func(kind OpKind, dst string) int {
		return slices.IndexFunc(ops, func(o Op) bool { return o.Kind == kind && o.Dst == dst })
	}
	for _, want := range []struct {
		kind OpKind
		dst  string
	}{
		{OpMount, "/c/rootfs/proc"}, {OpMount, "/c/rootfs/dev"}, {OpMount, "/c/rootfs/dev/null"},
		{OpMount, "/c/rootfs/dev/pts"}, {OpSymlink, "/c/rootfs/dev/ptmx"}, {OpMount, "/c/rootfs/sys"},
		{OpMount, "/c/rootfs/sys/fs/cgroup/memory"}, {OpMount, "/c/rootfs/tmp"},
		{OpMount, "/c/rootfs/etc/hostname"}, {OpMask, "/c/rootfs/proc/kcore"},
		{OpReadOnly, "/c/rootfs/proc/sys"}, {OpLoopbackUp, ""},
	} {
		if idx(want.kind, want.dst) < 0 {
			t.Errorf("no %s step for %q", want.kind, want.dst)
		}
	}
	// Masks cover what /proc and /sys mounted: they come after them.
	if idx(OpMask, "/c/rootfs/proc/kcore") < idx(OpMount, "/c/rootfs/proc") {
		t.Error("a mask before the /proc it covers")
	}
	// Every filesystem the workload can write to is nodev: a node it
	// makes with CAP_MKNOD opens nothing. /dev's nodes are bind mounts.
	for _, o := range ops {
		writable := o.Kind == OpMount && o.Flags&(unix.MS_RDONLY|unix.MS_BIND) == 0 && o.Dst != "/" && o.FSType != "proc" && o.FSType != "devpts"
		if writable && o.Flags&unix.MS_NODEV == 0 {
			t.Errorf("%s on %s is writable and allows devices", o.FSType, o.Dst)
		}
		if o.Kind == OpMknod {
			t.Errorf("a mknod step: %+v; /dev's nodes are bind mounts of the host's", o)
		}
	}
	if dn := ops[idx(OpMount, "/c/rootfs/dev/null")]; dn.Src != "/dev/null" || dn.Flags != unix.MS_BIND {
		t.Errorf("/dev/null: %+v, want a bind of the host's", dn)
	}
	if cg := ops[idx(OpMount, "/c/rootfs/sys/fs/cgroup/memory")]; cg.Flags&unix.MS_RDONLY == 0 || cg.Data != "memory" {
		t.Errorf("cgroup mount %+v, want read-only with the hierarchy's options", cg)
	}
}

func TestPlanUserNS(t *testing.T) {
	s := spec()
	s.UserNS = true
	ops, err := Plan(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(ops[1].Data, ",userxattr") {
		t.Errorf("overlay options %q lack userxattr", ops[1].Data)
	}
	for _, o := range ops {
		if o.Kind == OpMknod {
			t.Errorf("mknod in a user namespace: %+v", o)
		}
	}
}

func TestPlanRefusesBadDirs(t *testing.T) {
	for _, lower := range [][]string{nil, {"/a:b"}, {"/a,b"}} {
		s := spec()
		s.Lower = lower
		if _, err := Plan(s); err == nil {
			t.Errorf("Plan with lower %q: no error", lower)
		}
	}
}

func TestHostCgroupMounts(t *testing.T) {
	mi := filepath.Join(t.TempDir(), "mountinfo")
	os.WriteFile(mi, []byte(`25 1 0:22 / / rw - ext4 /dev/vda rw
30 25 0:26 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755
33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct
34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:10 - cgroup cgroup rw,memory
35 30 0:31 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw
`), 0o644)
	got, err := HostCgroupMounts(mi, []string{
		"/sys/fs/cgroup/cpu,cpuacct/glassbox/x", "/sys/fs/cgroup/memory/glassbox/x", "/sys/fs/cgroup/cpu,cpuacct/glassbox/x",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []CgroupMount{{Name: "cpu,cpuacct", FSType: "cgroup", Options: "cpu,cpuacct"}, {Name: "memory", FSType: "cgroup", Options: "memory"}}
	if !slices.Equal(got, want) {
		t.Errorf("v1: %+v, want %+v", got, want)
	}
	got, err = HostCgroupMounts(mi, []string{"/sys/fs/cgroup/unified/glassbox/x"})
	if err != nil || len(got) != 1 || got[0].FSType != "cgroup2" || got[0].Name != "" {
		t.Errorf("v2: %+v %v", got, err)
	}
	if _, err := HostCgroupMounts(mi, []string{"/elsewhere/x"}); err == nil {
		t.Error("a directory outside every hierarchy: no error")
	}
}

// A throwaway writable layer is mounted volatile; without the flag the
// overlay keeps the kernel's sync at unmount (a build step's upper
// directory becomes an image layer).
func TestPlanVolatile(t *testing.T) {
	for _, volatile := range []bool{false, true} {
		s := spec()
		s.Volatile = volatile
		ops, err := Plan(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.HasSuffix(ops[1].Data, ",volatile"); ops[1].FSType != "overlay" || got != volatile {
			t.Errorf("Volatile %v: overlay options %q", volatile, ops[1].Data)
		}
	}
}
