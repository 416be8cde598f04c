//go:build cgo

#define _GNU_SOURCE
#include "tty.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

// send_fd passes fd to the parent with one line of JSON (SCM_RIGHTS).
static int send_fd(int fd, const char *line) {
	struct iovec iov = {.iov_base = (void *)line, .iov_len = strlen(line)};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n;
	do { n = sendmsg(SOCK, &mh, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
	return n == (ssize_t)iov.iov_len ? 0 : -1;
}

int gb_pty_open(unsigned short rows, unsigned short cols, char *msg, size_t size) {
	// /dev/ptmx is the sandbox's symlink to pts/ptmx: its own instance.
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0) {
		snprintf(msg, size, "open the sandbox's /dev/ptmx: %s", strerror(errno));
		return -1;
	}
	int unlock = 0, t = -1;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0) {
		snprintf(msg, size, "unlock the pty: %s", strerror(errno));
		goto fail;
	}
	// TIOCGPTPEER opens the peer through the master itself (Linux 4.13):
	// no path lookup that a process of the sandbox could redirect.
	t = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t < 0) {
		unsigned int n = 0;
		char path[64];
		if (ioctl(m, TIOCGPTN, &n) < 0) {
			snprintf(msg, size, "name the pty: %s", strerror(errno));
			goto fail;
		}
		snprintf(path, sizeof path, "/dev/pts/%u", n);
		if ((t = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
			snprintf(msg, size, "open %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	if (rows && cols) {
		struct winsize ws = {.ws_row = rows, .ws_col = cols};
		ioctl(t, TIOCSWINSZ, &ws);
	}
	if (send_fd(m, "{\"kind\":\"pty\"}\n") < 0) {
		snprintf(msg, size, "pass the pty to glassbox: %s", strerror(errno));
		goto fail;
	}
	close(m);
	return t;
fail:
	if (t >= 0) close(t);
	close(m);
	return -1;
}

const char *gb_pty_take(int tty) {
	// A process that leads its group already (the init, started in a
	// session of its own) cannot setsid again: it leads that session.
	if (setsid() < 0 && getsid(0) != getpid()) return "start a session";
	if (ioctl(tty, TIOCSCTTY, 0) < 0) return "take the controlling terminal";
	for (int fd = 0; fd < 3; fd++)
		if (dup2(tty, fd) < 0) return "make the terminal stdin, stdout and stderr";
	if (tty > 2) close(tty);
	return NULL;
}
