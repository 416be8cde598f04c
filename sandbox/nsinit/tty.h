// A terminal for a process of the sandbox, from the sandbox's own devpts
// instance: the process sees /dev/pts/0, /dev/pts/1, … as inside any
// container, and the host's ptys stay out of sight.

#ifndef GLASSBOX_TTY_H
#define GLASSBOX_TTY_H

#include <stddef.h>

// gb_pty_open opens a pty in the devpts mounted at /dev/pts of the mount
// namespace the caller is in, sizes it, and sends its master side to the
// parent over the socket ({"kind":"pty"} with the descriptor attached). It
// returns the terminal side's descriptor, or -1 with a message in msg.
int gb_pty_open(unsigned short rows, unsigned short cols, char *msg, size_t size);

// gb_pty_take makes tty the controlling terminal of a new session led by
// the caller, and its standard input, output and error. It returns NULL or
// what failed (errno set).
const char *gb_pty_take(int tty);

#endif
