//go:build cgo

package nsinit

/*
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

// Filled by gb_early, read by Go.
static int gb_done, gb_stage, gb_child, gb_errno;
static const char *gb_err;

static void gb_fail(const char *what) { gb_err = what; gb_errno = errno; }

// gb_fork_timens forks a child into a new time namespace, leaving the
// caller's own namespaces as they are: clone3 with CLONE_NEWTIME (only
// clone3 takes the flag). unshare(CLONE_NEWTIME) then fork() would leave the
// init with a time namespace for children that differs from its own, and
// kernels before 6.x (6.1, Debian 12's, among them) refuse every thread to
// such a process (clone with CLONE_VM or CLONE_THREAD: EINVAL): the init's
// Go runtime aborted at its first pthread_create ("runtime/cgo:
// pthread_create failed: Invalid argument").
static pid_t gb_fork_timens(void) {
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} args;
	memset(&args, 0, sizeof args);
	args.flags = CLONE_NEWTIME;
	args.exit_signal = SIGCHLD;
	return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

// gb_early runs before the Go runtime, while the process still has exactly
// one thread. It is the only moment a Go program can fork a child that gets
// the next PID of a new pid namespace: once the runtime runs, its threads
// take PIDs 2, 3, … (a thread's id comes from the same PID space).
//
// As a sandbox's init ("glassbox sandbox-init init|noinit") it waits for the
// parent's byte on fd 3 (the process is in its cgroup), then unshares the
// cgroup namespace, so that its root is the sandbox's cgroup, for the whole
// process (one thread); in init mode it forks the workload's process, PID 2,
// into a new time namespace where the kernel has them. The two keep talking
// over a socketpair at PeerFD in each.
__attribute__((constructor)) static void gb_early(int argc, char **argv) {
	if (argc < 3 || strcmp(argv[1], "sandbox-init") != 0) return;
	gb_done = 1;
	gb_stage = 1;
	char b;
	ssize_t n;
	do { n = read(3, &b, 1); } while (n < 0 && errno == EINTR);
	if (n != 1) { gb_fail("wait for the parent's cgroup byte"); return; }
	if (unshare(CLONE_NEWCGROUP) < 0) { gb_fail("unshare the cgroup namespace"); return; }
	if (strcmp(argv[2], "init") != 0) return;
	struct stat st;
	int timens = stat("/proc/self/ns/time", &st) == 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) { gb_fail("socketpair"); return; }
	pid_t pid = timens ? gb_fork_timens() : fork();
	if (pid < 0) {
		gb_fail(timens ? "fork the workload's process into a new time namespace" : "fork the workload's process");
		return;
	}
	// Each keeps its end at fd 4 (socketpair may have returned 4 itself).
	int mine = pid == 0 ? sv[1] : sv[0], other = pid == 0 ? sv[0] : sv[1];
	close(other);
	if (mine != 4) {
		dup2(mine, 4);
		close(mine);
	}
	if (pid == 0) {
		gb_stage = 2;
		close(3); // the parent's socket is the init's alone
	} else {
		gb_child = pid;
	}
}

static int gb_get_done(void) { return gb_done; }
static int gb_get_stage(void) { return gb_stage; }
static int gb_get_child(void) { return gb_child; }
static int gb_get_errno(void) { return gb_errno; }
static const char *gb_get_err(void) { return gb_err; }
*/
import "C"

import (
	"fmt"
	"syscall"
)

// early reports what gb_early did before the Go runtime started.
func early() earlyResult {
	r := earlyResult{
		done:  C.gb_get_done() != 0,
		stage: int(C.gb_get_stage()),
		child: int(C.gb_get_child()),
	}
	if msg := C.gb_get_err(); msg != nil {
		r.err = fmt.Errorf("%s: %w", C.GoString(msg), syscall.Errno(C.gb_get_errno()))
	}
	return r
}
