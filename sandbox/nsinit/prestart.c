// The supervisor of `glassbox run -d`, started from the ELF constructor,
// before the CLI's own Go runtime. Each glassbox process spends about 3 ms
// between its exec and main (the dynamic loader, the Go runtime, the
// package inits of a large binary); the supervisor's start-up used to
// begin only once the CLI's own had ended, so a detached start paid it
// twice in a row. Started here, the two overlap. The CLI's Go side adopts
// it (lifecycle.Engine.prestart, through PrestartedSupervisor) or, should
// it have no use for it, lets it go: EOF on its socket ends it with nothing
// done, as for a supervisor the Go side starts itself.

#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harden.h"
#include "prestart.h"

int gb_prestart_fd = -1;
int gb_prestart_pid = 0;

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

// gb_prestart starts the supervisor when argv is a detached run: in a
// session of its own, in /, with /dev/null as its stdio (it must not hold
// the caller's pipes or terminal: its log comes with the handoff) and its
// end of the socket as fd 3 (lifecycle.ReadyFD). Nothing else of the
// caller's reaches it. Anything that fails leaves the start to the Go side.
void gb_prestart(int argc, char **argv, char **envp) {
	if (!gb_detached_run(argc, argv)) return;
	// A closed standard stream would be given to the socket below, and
	// the CLI would write its output there.
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0) return;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0) goto closed;
	// No Go runtime yet, a single thread: fork is safe here.
	pid_t pid = fork();
	if (pid == 0) {
		if (setsid() < 0 || chdir("/") < 0) _exit(127);
		for (int fd = 0; fd <= 2; fd++)
			if (dup2(null, fd) < 0) _exit(127);
		if (sv[1] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(sv[1], 3) < 0) _exit(127);
		if (gb_close_fds_from(4)) _exit(127);
		char *args[] = {"glassbox", "supervise", NULL};
		execve("/proc/self/exe", args, envp);
		_exit(127);
	}
	close(null);
	if (pid < 0) goto closed;
	close(sv[1]);
	gb_prestart_fd = sv[0];
	gb_prestart_pid = pid;
	return;
closed:
	close(sv[0]);
	close(sv[1]);
}
