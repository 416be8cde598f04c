//go:build cgo

#define _GNU_SOURCE
#include "harden.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

// Descriptors a process had open without close-on-exec survive execve: a
// caller's `exec 77</root` would hand a sandbox a directory outside its
// root, from which openat(77, "..") walks the host (runc's CVE-2024-21626
// was this through a leaked cgroup directory). close_range (Linux 5.9;
// CLOSE_RANGE_CLOEXEC 5.11) does it in one call; before that, walk
// /proc/self/fd; without /proc, try every number below RLIMIT_NOFILE.

typedef int (*fd_action)(int fd);

static int close_one(int fd) { return close(fd) < 0 && errno != EBADF ? -1 : 0; }

static int cloexec_one(int fd) {
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0) return errno == EBADF ? 0 : -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static int each_fd_from(int first, fd_action act) {
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		int self = dirfd(d), rc = 0;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
			int fd = atoi(e->d_name);
			if (fd >= first && fd != self && act(fd) < 0) rc = -1;
		}
		closedir(d);
		return rc;
	}
	struct rlimit rl;
	long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 65536;
	if (max > 1 << 20) max = 1 << 20;
	for (long fd = first; fd < max; fd++)
		if (act((int)fd) < 0) return -1;
	return 0;
}

// gb_close_fds_from closes every descriptor from first up.
const char *gb_close_fds_from(int first) {
	if (syscall(__NR_close_range, first, ~0U, 0) == 0) return NULL;
	return each_fd_from(first, close_one) < 0 ? "close inherited descriptors" : NULL;
}

// gb_cloexec_fds_from marks every descriptor from first up close-on-exec:
// they vanish at the coming execve, while those still needed until then
// (the start socket, the exec-error pipe) keep working.
const char *gb_cloexec_fds_from(int first) {
	if (syscall(__NR_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return NULL;
	return each_fd_from(first, cloexec_one) < 0 ? "mark descriptors close-on-exec" : NULL;
}

// own_stdio gives the user its standard streams where they are the
// sandbox's own — pipes and sockets glassbox made, the sandbox's terminal
// (own_tty) — as runc does, so that a program that opens /dev/stdout or
// /proc/self/fd/1 anew may. A file or terminal of the host (a foreground
// run's) keeps its owner; /dev/null too.
static const char *own_stdio(uid_t uid, int own_tty) {
	for (int fd = 0; fd <= 2; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0) continue;
		int ours = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || (own_tty && S_ISCHR(st.st_mode) && isatty(fd));
		if (!ours || st.st_uid == uid) continue;
		// EPERM, EINVAL: the owner or the user is not mapped in the
		// sandbox's user namespace; the stream stays as it is (runc too).
		if (fchown(fd, uid, (gid_t)-1) < 0 && errno != EPERM && errno != EINVAL)
			return "give the user its standard streams";
	}
	return NULL;
}

// gb_set_user switches to uid, gid and the supplementary groups, after the
// steps that need root and before gb_drop_caps. The permitted capabilities
// survive the change of uid (PR_SET_KEEPCAPS) and the effective set is
// raised to them again, so that gb_drop_caps can still shrink the bounding
// set (CAP_SETPCAP) and then set effective = permitted = the sandbox's set.
// What a user other than root keeps past execve is then the kernel's rule,
// as under docker and runc: its file has no capabilities and the
// inheritable and ambient sets are empty, so the new permitted and
// effective sets are empty; the bounding set stays the sandbox's. Root
// gets the kept set back at execve.
const char *gb_set_user(uid_t uid, gid_t gid, size_t ngroups, const gid_t *groups, int own_tty) {
	const char *e = own_stdio(uid, own_tty);
	if (e) return e;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return "keep capabilities";
	if (setgroups(ngroups, groups) < 0) return "set the supplementary groups";
	if (setresgid(gid, gid, gid) < 0) return "set the group id";
	if (setresuid(uid, uid, uid) < 0) return "set the user id";
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return "stop keeping capabilities";
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &hdr, d) < 0) return "read capabilities";
	for (int i = 0; i < 2; i++) d[i].effective = d[i].permitted;
	if (syscall(SYS_capset, &hdr, d) < 0) return "raise capabilities";
	return NULL;
}

// gb_drop_caps keeps only the capabilities in keep in the bounding,
// permitted and effective sets, empties the inheritable and ambient sets,
// and sets no_new_privs, so no setuid binary or file capability gives any
// back. An empty inheritable set is docker's (since 20.10.14): a program
// whose file carries inheritable bits gains nothing from it at execve. Root
// still gets the kept set back at execve (the kernel gives uid 0 its
// bounding set); any other user gets none, as under docker.
const char *gb_drop_caps(uint64_t keep, int last_cap) {
	for (int c = 0; c <= last_cap; c++)
		if (!(keep >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) return "drop from the bounding set";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return "clear ambient capabilities";
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	if (last_cap < 63) keep &= (1ULL << (last_cap + 1)) - 1; // capset refuses bits the kernel lacks
	for (int i = 0; i < 2; i++)
		d[i].effective = d[i].permitted = (uint32_t)(keep >> (32 * i));
	if (syscall(SYS_capset, &hdr, d) < 0) return "set capabilities";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return "set no_new_privs";
	return NULL;
}

// gb_last_cap is the highest capability this kernel knows; read it from
// the host's /proc, before a pivot.
int gb_last_cap(void) {
	char buf[16] = {0};
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) return 40;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 ? atoi(buf) : 40;
}

static int hexval(char c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

// gb_decode_filter reads the seccomp program the parent compiled (package
// seccomp): its instructions' bytes in hex. An empty string is no filter.
const char *gb_decode_filter(const char *hex, struct sock_fprog *prog) {
	size_t n = strlen(hex);
	prog->len = 0;
	prog->filter = NULL;
	if (n == 0) return NULL;
	if (n % (2 * sizeof(struct sock_filter)) != 0 || n / (2 * sizeof(struct sock_filter)) > BPF_MAXINSNS)
		return "seccomp filter: bad length";
	unsigned char *b = malloc(n / 2);
	if (!b) return "seccomp filter: out of memory";
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) return "seccomp filter: not hex";
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	prog->len = (unsigned short)(n / (2 * sizeof(struct sock_filter)));
	prog->filter = (struct sock_filter *)b;
	return NULL;
}

// gb_install_filter installs the filter on the calling thread (the only
// one). It needs no_new_privs, or CAP_SYS_ADMIN, which is gone by then:
// call it after gb_drop_caps, as the very last step before execve, so the
// filter judges only the workload's own calls (and that execve).
const char *gb_install_filter(const struct sock_fprog *prog) {
	if (prog->len == 0) return NULL;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) == 0) return NULL;
	if (errno == ENOSYS && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0) == 0) return NULL;
	return "install the seccomp filter";
}
