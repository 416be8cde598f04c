//go:build cgo

#define _GNU_SOURCE
#include "wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void gb_reply(const char *line) {
	size_t n = strlen(line), off = 0;
	while (off < n) {
		ssize_t w = write(SOCK, line + off, n - off);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) return;
		off += (size_t)w;
	}
}

static void gb_vfail(int code, const char *fmt, va_list ap) __attribute__((noreturn));

static void gb_vfail(int code, const char *fmt, va_list ap) {
	char msg[1024], line[2200];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t j = 0;
	j += snprintf(line, sizeof line, "{\"kind\":\"error\",\"code\":%d,\"error\":\"", code);
	for (size_t i = 0; msg[i] && j < sizeof line - 8; i++) {
		unsigned char c = (unsigned char)msg[i];
		if (c == '"' || c == '\\') { line[j++] = '\\'; line[j++] = (char)c; }
		else if (c < 0x20) line[j++] = ' ';
		else line[j++] = (char)c;
	}
	snprintf(line + j, sizeof line - j, "\"}\n");
	gb_reply(line);
	_exit(code);
}

void gb_fail(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	gb_vfail(1, fmt, ap);
}

void gb_fail_code(int code, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	gb_vfail(code, fmt, ap);
}

int gb_read_full(int fd, char *buf, size_t n) {
	size_t off = 0;
	while (off < n) {
		ssize_t r = read(fd, buf + off, n - off);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		off += (size_t)r;
	}
	return 0;
}

static char *gb_cur, *gb_end;

void gb_read_spec(void) {
	char hdr[11] = {0};
	if (gb_read_full(SOCK, hdr, 10) < 0) gb_fail("read the sandbox spec: %s", strerror(errno));
	size_t len = (size_t)strtoul(hdr, NULL, 10);
	char *buf = malloc(len + 1);
	if (!buf || gb_read_full(SOCK, buf, len) < 0) gb_fail("read the sandbox spec (%zu bytes)", len);
	gb_cur = buf, gb_end = buf + len;
}

char *gb_next(void) {
	if (gb_cur >= gb_end) gb_fail("sandbox spec: truncated");
	char *s = gb_cur;
	char *nul = memchr(gb_cur, 0, (size_t)(gb_end - gb_cur));
	if (!nul) gb_fail("sandbox spec: unterminated field");
	gb_cur = nul + 1;
	return s;
}

unsigned long long gb_num(void) { return strtoull(gb_next(), NULL, 10); }
