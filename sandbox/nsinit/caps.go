package nsinit

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// DefaultCaps is the capability set a workload keeps: the usual container
// default (docker's, runc's). CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_MODULE,
// CAP_SYS_PTRACE, … are gone, so the workload cannot mount, remount, load
// modules or reconfigure the network. The init drops the others from every
// set (bounding, effective, permitted, inheritable; ambient cleared) with
// prctl and capset and sets no_new_privs, in the workload's process just
// before exec (init.c).
var DefaultCaps = []uint{
	unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_FSETID, unix.CAP_FOWNER,
	unix.CAP_MKNOD, unix.CAP_NET_RAW, unix.CAP_SETGID, unix.CAP_SETUID,
	unix.CAP_SETFCAP, unix.CAP_SETPCAP, unix.CAP_NET_BIND_SERVICE,
	unix.CAP_SYS_CHROOT, unix.CAP_KILL, unix.CAP_AUDIT_WRITE,
}

// CapMask is a set of capabilities as a bit mask (bit n = capability n).
func CapMask(caps []uint) uint64 {
	var m uint64
	for _, c := range caps {
		m |= 1 << c
	}
	return m
}

// AllCaps is every capability glassbox knows; the init keeps only those
// this kernel has.
func AllCaps() uint64 { return 1<<len(state.CapNames) - 1 }

// Capabilities resolves --cap-add and --cap-drop the way docker does: ALL
// in the adds means every capability but the drops; ALL in the drops means
// only the adds; otherwise the default set, less the drops, plus the adds
// (a capability both added and dropped is kept). Names are docker's, with
// or without CAP_, in any case.
func Capabilities(add, drop []string) (uint64, error) {
	adds, addAll, err := capMask(add, "--cap-add")
	if err != nil {
		return 0, err
	}
	drops, dropAll, err := capMask(drop, "--cap-drop")
	if err != nil {
		return 0, err
	}
	switch {
	case addAll:
		return AllCaps() &^ drops, nil
	case dropAll:
		return adds, nil
	}
	return CapMask(DefaultCaps)&^drops | adds, nil
}

func capMask(names []string, flag string) (mask uint64, all bool, err error) {
	for _, n := range names {
		if strings.EqualFold(n, "ALL") {
			all = true
			continue
		}
		bit, ok := state.CapBit(n)
		if !ok {
			return 0, false, fmt.Errorf("%s %s: no such capability (names as in capabilities(7), e.g. NET_ADMIN or CAP_NET_ADMIN, or ALL)", flag, n)
		}
		mask |= 1 << bit
	}
	return mask, all, nil
}

// CapList names the capabilities of a mask, lowest bit first.
func CapList(mask uint64) []string {
	var out []string
	for bit, name := range state.CapNames {
		if mask&(1<<bit) != 0 {
			out = append(out, name)
		}
	}
	return out
}
