// The child's end of the wire between glassbox (Go) and the C code that
// runs before the Go runtime — the sandbox's init (init.c) and a process
// stepping into a running sandbox (exec.c): JSON lines out on the socket,
// a spec of NUL-terminated fields in.

#ifndef GLASSBOX_WIRE_H
#define GLASSBOX_WIRE_H

#include <stddef.h>

#define SOCK 3 // the parent's socket (ExtraFiles[0])

// gb_reply writes one line of JSON to the parent; the socket may be gone.
void gb_reply(const char *line);
// gb_fail reports {"kind":"error","error":"…"} and exits 1.
void gb_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
// gb_fail_code is gb_fail with an exit code the parent passes on (126, 127).
void gb_fail_code(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
int gb_read_full(int fd, char *buf, size_t n);
// gb_read_spec reads the spec (ten digits of length, then the fields) from
// the socket; gb_next and gb_num then return its fields in order.
void gb_read_spec(void);
char *gb_next(void);
unsigned long long gb_num(void);

#endif
