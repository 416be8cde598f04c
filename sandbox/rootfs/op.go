package rootfs

import (
	"slices"
	"strconv"
)

// OpKind is one kind of step of a plan. The init (nsinit/init.c) knows
// each by the same name.
type OpKind string

const (
	// OpMount mounts Src on Dst (mount(2) with FSType, Flags, Data),
	// creating Dst as a directory first when Mkdir is set.
	OpMount OpKind = "mount"
	// OpMkdir creates Dst and its parents with Mode.
	OpMkdir OpKind = "mkdir"
	// OpMknod creates the device node Dst (Mode, Dev) and sets its mode.
	OpMknod OpKind = "mknod"
	// OpSymlink makes Dst a symlink to Src.
	OpSymlink OpKind = "symlink"
	// OpTouch creates Dst as an empty file (and its parents) if it is missing.
	OpTouch OpKind = "touch"
	// OpMask hides Dst when it exists: a directory under an empty read-only
	// tmpfs, a file under Src (the sandbox's /dev/null).
	OpMask OpKind = "mask"
	// OpReadOnly makes Dst, when it exists, a read-only bind of itself.
	OpReadOnly OpKind = "readonly"
	// OpLoopbackUp brings lo up (a new network namespace has it down).
	OpLoopbackUp OpKind = "loup"
	// OpHostname sets the UTS namespace's hostname to Data.
	OpHostname OpKind = "hostname"
	// OpWaitGo waits for the parent's go byte (hooks done).
	OpWaitGo OpKind = "waitgo"
	// OpPivot makes Dst the root (pivot_root(".", ".") from inside it,
	// then a detached unmount of the old root stacked on top) and enters it.
	OpPivot OpKind = "pivot"
)

// Op is one step of a plan.
type Op struct {
	Kind   OpKind
	Src    string
	Dst    string
	FSType string
	Data   string
	Flags  uintptr
	Mode   uint32
	Dev    uint64
	Mkdir  bool
}

// Encode appends the op in the init's wire format: nine NUL-terminated
// fields (kind, src, dst, fstype, data, flags, mode, dev, mkdir).
func (o Op) Encode(b []byte) []byte {
	mk := "0"
	if o.Mkdir {
		mk = "1"
	}
	for _, f := range []string{string(o.Kind), o.Src, o.Dst, o.FSType, o.Data,
		strconv.FormatUint(uint64(o.Flags), 10), strconv.FormatUint(uint64(o.Mode), 10),
		strconv.FormatUint(o.Dev, 10), mk} {
		b = append(append(b, f...), 0)
	}
	return b
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
