//go:build cgo

// The sandbox's init, in C, run from an ELF constructor of the glassbox
// binary re-executed as "glassbox sandbox-init init|noinit": it does all its
// work before the Go runtime starts, and never lets it start. A Go runtime
// costs a dozen milliseconds of page faults per process on small VMs, and
// its threads would take PIDs 2, 3, … of the new pid namespace, so the
// workload could not be PID 2. The parent (package sandbox, in Go) computes
// everything — the root filesystem as a list of steps (package rootfs), the
// resolved command, the capabilities — and this file only carries it out.
// The protocol is the table in sandbox/start.go.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harden.h"
#include "prestart.h"
#include "tty.h"
#include "wire.h"

void gb_exec_main(void) __attribute__((noreturn)); // exec.c

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define NSDE (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static void gb_mkdir_p(const char *path, mode_t mode) {
	char buf[4096];
	if (strlen(path) >= sizeof buf) gb_fail("mkdir %s: path too long", path);
	strcpy(buf, path);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;
			*p = 0;
			if (mkdir(buf, mode) < 0 && errno != EEXIST) gb_fail("mkdir %s: %s", buf, strerror(errno));
			*p = c;
			if (c == 0) break;
		}
	}
}

static const char *gb_opt(const char *s) { return *s ? s : NULL; }

static void gb_touch(const char *path) {
	struct stat st;
	if (lstat(path, &st) == 0) return;
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) { *slash = 0; gb_mkdir_p(dir, 0755); }
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) gb_fail("create %s: %s", path, strerror(errno));
	close(fd);
}

static void gb_loopback_up(void) {
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) gb_fail("bring lo up: %s", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) gb_fail("bring lo up: %s", strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) gb_fail("bring lo up: %s", strerror(errno));
	close(fd);
}

// gb_op carries out one step of the plan (rootfs.Op).
static void gb_op(void) {
	const char *kind = gb_next(), *src = gb_next(), *dst = gb_next(), *fstype = gb_next(), *data = gb_next();
	unsigned long flags = (unsigned long)gb_num();
	mode_t mode = (mode_t)gb_num();
	dev_t dev = (dev_t)gb_num();
	int mk = gb_next()[0] == '1';
	struct stat st;

	if (!strcmp(kind, "mount")) {
		if (mk) gb_mkdir_p(dst, 0755);
		if (mount(gb_opt(src), dst, gb_opt(fstype), flags, gb_opt(data)) < 0)
			gb_fail("mount %s on %s (%s): %s", fstype[0] ? fstype : src, dst, data, strerror(errno));
	} else if (!strcmp(kind, "mkdir")) {
		gb_mkdir_p(dst, mode);
	} else if (!strcmp(kind, "mknod")) {
		if (mknod(dst, mode, dev) < 0) gb_fail("mknod %s: %s", dst, strerror(errno));
		if (chmod(dst, mode & 07777) < 0) gb_fail("chmod %s: %s", dst, strerror(errno));
	} else if (!strcmp(kind, "symlink")) {
		if (symlink(src, dst) < 0) gb_fail("symlink %s: %s", dst, strerror(errno));
	} else if (!strcmp(kind, "touch")) {
		gb_touch(dst);
	} else if (!strcmp(kind, "mask")) {
		if (stat(dst, &st) < 0) return; // this kernel has no such file
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", dst, "tmpfs", MS_RDONLY | NSDE, "size=0")
		                            : mount(src, dst, NULL, MS_BIND, NULL);
		if (r < 0) gb_fail("mask %s: %s", dst, strerror(errno));
	} else if (!strcmp(kind, "readonly")) {
		if (stat(dst, &st) < 0) return;
		// A bind ignores MS_RDONLY on its first call: bind, then remount.
		if (mount(dst, dst, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    mount(dst, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | NSDE, NULL) < 0)
			gb_fail("make %s read-only: %s", dst, strerror(errno));
	} else if (!strcmp(kind, "loup")) {
		gb_loopback_up();
	} else if (!strcmp(kind, "hostname")) {
		if (sethostname(data, strlen(data)) < 0) gb_fail("set hostname %s: %s", data, strerror(errno));
	} else if (!strcmp(kind, "waitgo")) {
		char g = 0;
		if (gb_read_full(SOCK, &g, 1) < 0 || g != 'g') gb_fail("wait for the parent's go: %s", strerror(errno));
	} else if (!strcmp(kind, "pivot")) {
		// pivot_root(".", ".") stacks the old root on the new one at "/";
		// the old root is private, so its detach cannot reach the host.
		if (chdir(dst) < 0) gb_fail("chdir %s: %s", dst, strerror(errno));
		if (syscall(SYS_pivot_root, ".", ".") < 0) gb_fail("pivot_root %s: %s", dst, strerror(errno));
		if (umount2(".", MNT_DETACH) < 0) gb_fail("detach the old root: %s", strerror(errno));
		if (chdir("/") < 0) gb_fail("chdir /: %s", strerror(errno));
	} else {
		gb_fail("sandbox spec: unknown step %s", kind);
	}
}

// who the workload runs as
struct gb_user {
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	gid_t *groups;
	int own_tty; // its stdio is the sandbox's terminal
};

// gb_exec_workload is the end of every path into the workload: nothing
// but stdin, stdout and stderr crosses the exec, the working directory is
// entered (as root, as runc does: a directory the user may not search is
// still where it starts), the user is taken, the capabilities shrink to
// caps with no_new_privs set, and the seccomp filter goes on last. It
// returns only on failure, with the message in msg.
static void gb_exec_workload(const char *path, char **argv, char **envp, const char *cwd,
                             const struct gb_user *u, uint64_t caps, int last_cap,
                             const struct sock_fprog *filter, char *msg, size_t size) {
	const char *e = gb_cloexec_fds_from(3);
	if (e) {
		snprintf(msg, size, "%s: %s", e, strerror(errno));
		return;
	}
	if (chdir(cwd) < 0) {
		snprintf(msg, size, "working directory %s: %s", cwd, strerror(errno));
		return;
	}
	e = gb_set_user(u->uid, u->gid, u->ngroups, u->groups, u->own_tty);
	if (!e) e = gb_drop_caps(caps, last_cap);
	if (e) {
		snprintf(msg, size, "%s: %s", e, strerror(errno));
		return;
	}
	if ((e = gb_install_filter(filter)) != NULL) {
		snprintf(msg, size, "%s: %s", e, strerror(errno));
		return;
	}
	execve(path, argv, envp);
	snprintf(msg, size, "exec %s: %s", argv[0], strerror(errno));
}

// gb_init_main reads the plan and the command, carries them out, and then
// either execs the workload (noinit) or forks it as PID 2 and serves as its
// init until it ends. It never returns.
static void gb_init_main(int init_mode) {
	gb_read_spec();

	int last = gb_last_cap(); // the host's /proc, before the pivot
	unsigned long long nops = gb_num();
	for (unsigned long long i = 0; i < nops; i++) gb_op();

	char *path = gb_next(), *cwd = gb_next();
	uint64_t caps = gb_num();
	struct sock_fprog filter;
	const char *ferr = gb_decode_filter(gb_next(), &filter);
	if (ferr) gb_fail("%s", ferr);
	size_t argc = (size_t)gb_num();
	char **argv = calloc(argc + 1, sizeof *argv);
	for (size_t i = 0; i < argc; i++) argv[i] = gb_next();
	size_t envc = (size_t)gb_num();
	char **envp = calloc(envc + 1, sizeof *envp);
	for (size_t i = 0; i < envc; i++) envp[i] = gb_next();
	int want_tty = (int)gb_num();
	unsigned short rows = (unsigned short)gb_num(), cols = (unsigned short)gb_num();
	struct gb_user user = {0};
	user.uid = (uid_t)gb_num();
	user.gid = (gid_t)gb_num();
	user.ngroups = (size_t)gb_num();
	user.groups = calloc(user.ngroups + 1, sizeof(gid_t));
	for (size_t i = 0; i < user.ngroups; i++) user.groups[i] = (gid_t)gb_num();

	char msg[512];
	// run -t: a terminal of the sandbox's own devpts (the root is in place).
	int tty = -1;
	if (want_tty && (tty = gb_pty_open(rows, cols, msg, sizeof msg)) < 0) gb_fail("%s", msg);
	user.own_tty = tty >= 0;
	if (!init_mode) {
		// The workload becomes PID 1; the socket closes on exec (CLOEXEC):
		// that end-of-file is the parent's "started".
		const char *e = tty >= 0 ? gb_pty_take(tty) : NULL;
		if (e) gb_fail("%s: %s", e, strerror(errno));
		gb_exec_workload(path, argv, envp, cwd, &user, caps, last, &filter, msg, sizeof msg);
		gb_fail("%s", msg);
	}

	// Signals are taken synchronously (sigwaitinfo) from here on; the
	// workload gets the default dispositions and an empty mask back.
	sigset_t set, old;
	sigemptyset(&set);
	int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) sigaddset(&set, fwd[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);

	int errp[2];
	if (pipe2(errp, O_CLOEXEC) < 0) gb_fail("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) gb_fail("fork the workload: %s", strerror(errno));
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		const char *e = tty >= 0 ? gb_pty_take(tty) : NULL;
		if (e) snprintf(msg, sizeof msg, "%s: %s", e, strerror(errno));
		else gb_exec_workload(path, argv, envp, cwd, &user, caps, last, &filter, msg, sizeof msg);
		if (write(errp[1], msg, strlen(msg)) < 0) {}
		_exit(127);
	}
	close(errp[1]);
	// Only the workload holds the terminal: when it and its children have
	// closed it, glassbox reads the end of its output.
	if (tty >= 0) close(tty);
	memset(msg, 0, sizeof msg);
	ssize_t n;
	do { n = read(errp[0], msg, sizeof msg - 1); } while (n < 0 && errno == EINTR);
	if (n > 0) gb_fail("%s", msg); // the workload could not exec
	close(errp[0]);
	// From here the init only waits for signals, passes them on and reaps:
	// it keeps CAP_KILL (the workload may run as another user) and sheds
	// the rest, bounding set included, with no_new_privs, so it can no
	// longer move itself into other namespaces (inspect then reads one of
	// its namespace links instead of nine). With fewer capabilities than
	// the workload, the init would be the workload's to ptrace — and with
	// it the socket to the supervisor — were it still dumpable: a
	// non-dumpable process needs CAP_SYS_PTRACE over it, which no sandbox
	// process has by default.
	const char *e = gb_drop_caps(1ULL << CAP_KILL, last);
	if (!e && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) e = "make the init undumpable";
	if (e) {
		kill(pid, SIGKILL);
		gb_fail("init: %s: %s", e, strerror(errno));
	}

	char line[128];
	snprintf(line, sizeof line, "{\"kind\":\"started\",\"pid\":%d}\n", pid);
	gb_reply(line);

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig < 0) continue;
		if (sig != SIGCHLD) {
			kill(pid, sig);
			continue;
		}
		// Reap every child: orphans re-parented to PID 1 too (signals of
		// several exits may have merged into one SIGCHLD).
		int status;
		pid_t w;
		while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
			if (w != pid) continue;
			int code = 0, signo = 0;
			if (WIFSIGNALED(status)) signo = WTERMSIG(status), code = 128 + signo;
			else code = WEXITSTATUS(status);
			snprintf(line, sizeof line, "{\"kind\":\"exit\",\"code\":%d,\"signal\":%d,\"pid\":%d}\n", code, signo, pid);
			gb_reply(line);
			_exit(code); // the kernel kills what is left in the pid namespace
		}
	}
}

// gb_early runs before the Go runtime, as a constructor. As
// `glassbox sandbox-exec` it steps into a running sandbox (exec.c). As a sandbox's
// init it waits for the parent's 'c' (the process is in its cgroup), then
// unshares the cgroup namespace, so its root is the sandbox's cgroup, and
// in init mode the time namespace (which applies to children: the
// workload), and becomes the init. Otherwise it returns at once, having
// split off the front if this is `glassbox run -d` (prestart.c).
__attribute__((constructor)) static void gb_early(int argc, char **argv, char **envp) {
	if (argc >= 2 && strcmp(argv[1], "sandbox-exec") == 0) gb_exec_main();
	if (argc < 3 || strcmp(argv[1], "sandbox-init") != 0) {
		gb_prestart(argc, argv);
		return;
	}
	int init_mode = strcmp(argv[2], "init") == 0;
	// The parent passes stdio and the socket; anything else came from its
	// caller and has no business here.
	if (gb_close_fds_from(SOCK + 1)) _exit(121);
	if (fcntl(SOCK, F_SETFD, FD_CLOEXEC) < 0) _exit(121); // no parent socket
	char c = 0;
	if (gb_read_full(SOCK, &c, 1) < 0 || c != 'c') gb_fail("wait for the parent's cgroup byte");
	if (unshare(CLONE_NEWCGROUP) < 0) gb_fail("unshare the cgroup namespace: %s", strerror(errno));
	struct stat st;
	if (init_mode && stat("/proc/self/ns/time", &st) == 0 && unshare(CLONE_NEWTIME) < 0)
		gb_fail("unshare the time namespace: %s", strerror(errno));
	gb_init_main(init_mode);
}
