//go:build cgo

// `glassbox sandbox-exec ID`: a process steps into a running sandbox, as
// `glassbox exec` and a HEALTHCHECK CMD need. Like the init it runs from
// the ELF constructor, before the Go runtime: setns(2) into a mount or user
// namespace refuses a multi-threaded caller, and the Go runtime starts
// threads at once. The protocol is the table in sandbox/exec.go.
//
// The joining process stays outside the sandbox's pid namespace — setns
// into a pid namespace only decides where its children are born — so it
// forks, and the child is the one inside: a process whose parent the
// sandbox cannot see (PPID 0 in there). The child enters the sandbox's
// cgroup before anything else, then takes the sandbox's user, terminal,
// working directory, capabilities and seccomp filter, and execs.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harden.h"
#include "tty.h"
#include "wire.h"

#define PIDFD 4 // a pidfd of the sandbox's init, opened by the parent; closed when the kernel has none

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

struct nsfd {
	const char *kind;
	int fd;
};

// The exit codes of a process that never ran, as docker gives them.
enum { CANNOT_EXEC = 126, NOT_FOUND = 127 };

// starttime is field 22 of /proc/PID/stat: with the PID it names one
// process for the life of the system.
static unsigned long long starttime(int pid) {
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')'); // the command name may hold spaces
	for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

// init_alive says whether the process the namespaces were opened from is
// still the sandbox's init. A pidfd stays bound to its process, so once it
// answers, every /proc/PID/ns file opened before belongs to that process,
// never to one that reused the PID; without pidfds, the start time says.
static int init_alive(int pid, unsigned long long started) {
	if (fcntl(PIDFD, F_GETFD) >= 0) return syscall(SYS_pidfd_send_signal, PIDFD, 0, NULL, 0) == 0;
	return started != 0 && starttime(pid) == started;
}

static const char *env_path(char **envp) {
	for (char **e = envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5)) return *e + 5;
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

// exec_command execs argv[0], searched in the PATH of envp when it holds
// no slash, as execvpe(3) does but with the sandbox's PATH rather than
// ours. It returns only on failure: 127 when no such file exists, 126 when
// one exists but cannot be executed, with docker's words in msg.
static int exec_command(char **argv, char **envp, char *msg, size_t size) {
	const char *name = argv[0];
	if (strchr(name, '/')) {
		execve(name, argv, envp);
		int code = errno == ENOENT || errno == ENOTDIR ? NOT_FOUND : CANNOT_EXEC;
		const char *why = code == NOT_FOUND ? "no such file or directory" : errno == EACCES ? "permission denied" : strerror(errno);
		snprintf(msg, size, "exec: \"%s\": %s", name, why);
		return code;
	}
	int denied = 0, err = 0;
	const char *p = env_path(envp);
	char path[4096];
	while (*p) {
		const char *end = strchrnul(p, ':');
		size_t n = (size_t)(end - p);
		if (n > 0 && n + strlen(name) + 2 < sizeof path) {
			snprintf(path, sizeof path, "%.*s/%s", (int)n, p, name);
			execve(path, argv, envp);
			if (errno == EACCES) denied = 1;
			else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP) err = errno;
		}
		p = *end ? end + 1 : end;
	}
	if (err) {
		snprintf(msg, size, "exec: \"%s\": %s", name, strerror(err));
		return CANNOT_EXEC;
	}
	if (denied) {
		snprintf(msg, size, "exec: \"%s\": permission denied", name);
		return CANNOT_EXEC;
	}
	snprintf(msg, size, "exec: \"%s\": executable file not found in $PATH", name);
	return NOT_FOUND;
}

struct child {
	int *cgroups; // cgroup.procs files to write, unless born in the cgroup
	size_t ncgroups;
	int cgroupns;
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	gid_t *groups;
	int tty, detach;
	unsigned short rows, cols;
	const char *cwd;
	uint64_t caps;
	int last_cap;
	struct sock_fprog filter;
	char **argv, **envp;
};

// child_main runs in the new process, born in the sandbox's pid (and time)
// namespace. On failure it writes "CODE message" to errfd and exits.
static void child_main(struct child *c, int errfd) __attribute__((noreturn));

static void child_main(struct child *c, int errfd) {
	char msg[600];
	int code = CANNOT_EXEC;
	const char *e = NULL;
	// Into the sandbox's cgroup first: from here on every page and every
	// process counts against its limits. Writing "0" moves the writer.
	for (size_t i = 0; i < c->ncgroups && !e; i++)
		if (write(c->cgroups[i], "0", 1) != 1) e = "enter the sandbox's cgroup";
	// Then its cgroup namespace, whose root is that cgroup; joined after the
	// move, since a cgroup namespace may hide where the move starts from.
	if (!e && c->cgroupns >= 0 && setns(c->cgroupns, CLONE_NEWCGROUP) < 0) e = "join the cgroup namespace";
	if (!e) e = gb_set_user(c->uid, c->gid, c->ngroups, c->groups, 0);
	if (e) {
		snprintf(msg, sizeof msg, "%s: %s", e, strerror(errno));
		goto fail;
	}
	if (c->tty) {
		int t = gb_pty_open(c->rows, c->cols, msg, sizeof msg);
		if (t < 0) goto fail;
		if ((e = gb_pty_take(t)) != NULL) {
			snprintf(msg, sizeof msg, "%s: %s", e, strerror(errno));
			goto fail;
		}
	}
	if (chdir(c->cwd) < 0) {
		snprintf(msg, sizeof msg, "chdir to cwd (\"%s\") set for the process failed: %s", c->cwd, strerror(errno));
		goto fail;
	}
	if (!(e = gb_cloexec_fds_from(3)) && !(e = gb_drop_caps(c->caps, c->last_cap))) {
		// Dies with the joining process, unless it is to outlive it (-d).
		// Set last: a change of user clears it.
		if (!c->detach && (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != 0)) _exit(CANNOT_EXEC);
		e = gb_install_filter(&c->filter);
	}
	if (e) {
		snprintf(msg, sizeof msg, "%s: %s", e, strerror(errno));
		goto fail;
	}
	code = exec_command(c->argv, c->envp, msg, sizeof msg);
fail:;
	char line[700];
	int n = snprintf(line, sizeof line, "%d %s", code, msg);
	if (write(errfd, line, (size_t)n) < 0) {}
	_exit(code);
}

// wait_child serves as the exec'd process's parent: it passes signals on,
// and reports its end as {"kind":"exit",…} and with its own exit status.
static void wait_child(pid_t pid, sigset_t *set) __attribute__((noreturn));

static void wait_child(pid_t pid, sigset_t *set) {
	char line[128];
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(set, &si);
		if (sig < 0) continue;
		if (sig != SIGCHLD) {
			kill(pid, sig);
			continue;
		}
		int status;
		pid_t w;
		while ((w = waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR) {}
		if (w != pid) continue;
		int code = 0, signo = 0;
		if (WIFSIGNALED(status)) signo = WTERMSIG(status), code = 128 + signo;
		else code = WEXITSTATUS(status);
		snprintf(line, sizeof line, "{\"kind\":\"exit\",\"code\":%d,\"signal\":%d,\"pid\":%d}\n", code, signo, pid);
		gb_reply(line);
		_exit(code);
	}
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

struct gb_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

// fork_into forks a child born in the cgroup cgfd (clone3's
// CLONE_INTO_CGROUP, Linux 5.7, cgroup v2): no migration, whose lock waits
// for an RCU grace period, and nothing for the child to write. Without it,
// a plain fork, and the child writes itself into c->cgroups.
static pid_t fork_into(int cgfd, struct child *c) {
	if (cgfd >= 0) {
		struct gb_clone_args a;
		memset(&a, 0, sizeof a);
		a.flags = CLONE_INTO_CGROUP;
		a.exit_signal = SIGCHLD;
		a.cgroup = (uint64_t)cgfd;
		pid_t pid = (pid_t)syscall(SYS_clone3, &a, sizeof a);
		if (pid == 0) c->ncgroups = 0; // born there
		if (pid >= 0) return pid;
		if (errno != ENOSYS && errno != E2BIG && errno != EINVAL && errno != EOPNOTSUPP) return -1;
	}
	return fork();
}

// gb_exec_main reads the spec (sandbox.execSpec), joins, forks the process
// and waits for it. It never returns.
void gb_exec_main(void) {
	// Only stdio, the socket and the pidfd come from the parent.
	if (gb_close_fds_from(PIDFD + 1)) _exit(CANNOT_EXEC);
	if (fcntl(SOCK, F_SETFD, FD_CLOEXEC) < 0) _exit(CANNOT_EXEC);
	fcntl(PIDFD, F_SETFD, FD_CLOEXEC);
	gb_read_spec();

	int pid = (int)gb_num();
	unsigned long long started = gb_num();
	struct child c;
	memset(&c, 0, sizeof c);
	c.cgroupns = -1;
	c.tty = (int)gb_num();
	c.detach = (int)gb_num();
	c.rows = (unsigned short)gb_num();
	c.cols = (unsigned short)gb_num();

	// Every namespace is opened before any is joined: from the mount
	// namespace on, /proc is the sandbox's.
	size_t nns = (size_t)gb_num();
	struct nsfd *ns = calloc(nns + 1, sizeof *ns);
	for (size_t i = 0; i < nns; i++) {
		char path[128];
		ns[i].kind = gb_next();
		snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, ns[i].kind);
		if ((ns[i].fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			gb_fail("the sandbox is not running (its init, pid %d, is gone: %s)", pid, strerror(errno));
		if (!strcmp(ns[i].kind, "cgroup")) c.cgroupns = ns[i].fd;
	}
	c.ncgroups = (size_t)gb_num();
	c.cgroups = calloc(c.ncgroups + 1, sizeof(int));
	for (size_t i = 0; i < c.ncgroups; i++) {
		const char *path = gb_next();
		if ((c.cgroups[i] = open(path, O_WRONLY | O_CLOEXEC)) < 0)
			gb_fail("the sandbox is not running (open %s: %s)", path, strerror(errno));
	}
	const char *cg2 = gb_next();
	int cg2fd = *cg2 ? open(cg2, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (!init_alive(pid, started)) gb_fail("the sandbox is not running (its init, pid %d, has exited)", pid);

	c.uid = (uid_t)gb_num();
	c.gid = (gid_t)gb_num();
	c.ngroups = (size_t)gb_num();
	c.groups = calloc(c.ngroups + 1, sizeof(gid_t));
	for (size_t i = 0; i < c.ngroups; i++) c.groups[i] = (gid_t)gb_num();
	c.caps = gb_num();
	const char *ferr = gb_decode_filter(gb_next(), &c.filter);
	if (ferr) gb_fail("%s", ferr);
	c.cwd = gb_next();
	size_t argc = (size_t)gb_num();
	c.argv = calloc(argc + 1, sizeof(char *));
	for (size_t i = 0; i < argc; i++) c.argv[i] = gb_next();
	size_t envc = (size_t)gb_num();
	c.envp = calloc(envc + 1, sizeof(char *));
	for (size_t i = 0; i < envc; i++) c.envp[i] = gb_next();
	c.last_cap = gb_last_cap(); // the host's /proc, before the mount namespace

	// The parent orders them: user first (it grants the capabilities the
	// others need there), mount last. The cgroup namespace waits for the
	// child (child_main).
	for (size_t i = 0; i < nns; i++) {
		if (ns[i].fd == c.cgroupns) continue;
		if (setns(ns[i].fd, 0) < 0) gb_fail("join the sandbox's %s namespace: %s", ns[i].kind, strerror(errno));
		close(ns[i].fd);
	}

	sigset_t set, old;
	sigemptyset(&set);
	int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD};
	for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) sigaddset(&set, fwd[i]);
	sigprocmask(SIG_BLOCK, &set, &old);

	int errp[2];
	if (pipe2(errp, O_CLOEXEC) < 0) gb_fail("pipe: %s", strerror(errno));
	pid_t child = fork_into(cg2fd, &c);
	if (child < 0) {
		// A pid namespace whose init has exited takes no more processes.
		if (errno == ENOMEM) gb_fail("the sandbox is not running (its pid namespace has ended)");
		gb_fail("fork into the sandbox: %s", strerror(errno));
	}
	if (child == 0) {
		close(errp[0]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		child_main(&c, errp[1]);
	}
	close(errp[1]);
	for (size_t i = 0; i < c.ncgroups; i++) close(c.cgroups[i]);
	if (c.cgroupns >= 0) close(c.cgroupns);
	if (cg2fd >= 0) close(cg2fd);

	char msg[700] = {0};
	ssize_t n;
	do { n = read(errp[0], msg, sizeof msg - 1); } while (n < 0 && errno == EINTR);
	close(errp[0]);
	if (n > 0) {
		int st;
		waitpid(child, &st, 0);
		char *text = strchr(msg, ' ');
		gb_fail_code(atoi(msg), "%s", text ? text + 1 : msg);
	}
	char line[128];
	snprintf(line, sizeof line, "{\"kind\":\"started\",\"pid\":%d}\n", child);
	gb_reply(line);
	if (c.detach) _exit(0); // the sandbox's init adopts it
	wait_child(child, &set);
}
