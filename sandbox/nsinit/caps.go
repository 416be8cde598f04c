package nsinit

import "golang.org/x/sys/unix"

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
