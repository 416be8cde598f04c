// The front of `glassbox run -d`, split off in the ELF constructor, before
// any Go runtime. A detached start used to run the binary twice — the CLI,
// then a supervisor it started — and each glassbox process spends
// milliseconds between its exec and main (the dynamic loader, the Go
// runtime, the package inits of a large binary; tens of them where page
// faults are dear, as in a guest whose page tables its host shadows). Now
// one process does both: the constructor forks, the child goes on into Go
// as the CLI, hosts the sandbox's supervisor itself (lifecycle/hosted.go)
// and stays as that supervisor; the parent, the process the caller waits
// for, never starts Go. It waits on a pipe for the child's exit status —
// written once the sandbox runs and the child has let go of the caller's
// stdio — or, at EOF (a refused request, a crash), for the child's own.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prestart.h"

int gb_front_fd = -1;

// The flags of `glassbox run` (cmd/glassbox/run.go) and the persistent
// --root that take a value. A flag missing here that takes one would make
// its value look like the image; TestPrestartAgreesWithTheCLI compares
// this with the CLI's own parse.
static const char *const long_with_value[] = {
	"name", "hostname", "env", "workdir", "user", "memory", "cpus", "pids-limit", "network",
	"cap-add", "cap-drop", "security-opt", "publish", "restart", "stop-timeout", "log-opt", "root", NULL,
};
static const char short_with_value[] = "ewump";

static int long_takes_value(const char *name, size_t n) {
	for (const char *const *f = long_with_value; *f; f++)
		if (strlen(*f) == n && strncmp(*f, name, n) == 0) return 1;
	return 0;
}

// A boolean flag's value, as Go's strconv.ParseBool reads it; anything it
// would refuse makes the command fail anyway.
static int parse_bool(const char *v) {
	static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False", NULL};
	for (const char *const *n = no; *n; n++)
		if (strcmp(*n, v) == 0) return 0;
	return 1;
}

// gb_detached_run says whether argv is `glassbox [--root R] run … -d … IMAGE`:
// the flags of run stop at the image (the command follows it, flags and
// all), as the CLI parses them.
int gb_detached_run(int argc, char **argv) {
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--root") == 0) i++;
		else if (strncmp(argv[i], "--root=", 7) != 0) return 0;
	}
	if (i >= argc || strcmp(argv[i], "run") != 0) return 0;
	int detach = 0;
	for (i++; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0) break;
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t n = eq ? (size_t)(eq - name) : strlen(name);
			if (n == 6 && strncmp(name, "detach", 6) == 0) detach = eq ? parse_bool(eq + 1) : 1;
			else if (!eq && long_takes_value(name, n)) i++;
			continue;
		}
		for (const char *c = a + 1; *c && *c != '='; c++) { // "-i=false": the rest is i's value
			if (*c == 'd') {
				if (c[1] == '=') {
					detach = parse_bool(c + 2);
					break;
				}
				detach = 1;
			} else if (strchr(short_with_value, *c)) {
				if (c[1] == '\0') i++; // the value is the next argument
				break;                 // or the rest of this one
			}
		}
	}
	return detach;
}

// gb_front is the parent's whole life: the child's status is its own.
// Signals keep their default actions: Ctrl-C ends the front, and the
// child, in a session of its own, carries the start through as a
// supervisor does once it has the sandbox (docker's daemon, likewise, goes
// on with a `docker run -d` whose client was interrupted).
static void gb_front(pid_t child, int fd) __attribute__((noreturn));
static void gb_front(pid_t child, int fd) {
	unsigned char status;
	ssize_t n;
	do n = read(fd, &status, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1) _exit(status);
	int ws;
	while (waitpid(child, &ws, 0) < 0)
		if (errno != EINTR) _exit(125);
	if (WIFSIGNALED(ws)) _exit(128 + WTERMSIG(ws));
	_exit(WEXITSTATUS(ws));
}

// gb_prestart splits a detached run into its front (this process, which
// never returns from here) and the child that goes on as the CLI, in a
// session of its own (no signal from the caller's terminal reaches the
// supervisor it becomes), with gb_front_fd its end of the pipe
// (close-on-exec). Anything that fails leaves the whole run to one
// process, which then starts its supervisor as `glassbox supervise`.
void gb_prestart(int argc, char **argv) {
	if (!gb_detached_run(argc, argv)) return;
	// A closed standard stream would be given to the pipe below, and the
	// CLI would write its output there.
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0) return;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) return;
	// No Go runtime yet, a single thread: fork is safe here.
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		setsid(); // a new child leads no group: it cannot fail
		gb_front_fd = p[1];
		return;
	}
	close(p[1]);
	gb_front(pid, p[0]);
}
