//go:build cgo

// bubbletea's package init asks the terminal for its background colour
// (lipgloss.HasDarkBackground, through termenv) in every process that links
// it, whatever the command: on a terminal that never answers (a serial
// console, some emulators and recorders) `glassbox version` would wait 5 s
// for the answer. Nothing written in Go runs before that init, so this
// constructor, which runs before the Go runtime, hides TERM from it: termenv
// asks nothing when TERM says "dumb". Go reads its environment from the
// array the kernel passed, which libc's environ still is at this point, so
// the entry is swapped in place; main puts the real value back
// (Restore) before anything else, and only the live UI asks the
// terminal, once, as it starts (uiRenderer).

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char *gb_hidden_term; // the "TERM=…" entry the kernel passed, or NULL

// gb_term_hidden returns the TERM value hidden from the package inits, or
// NULL when nothing was hidden.
const char *gb_term_hidden(void) { return gb_hidden_term ? gb_hidden_term + 5 : NULL; }

__attribute__((constructor)) static void gb_quiet_term(void) {
	// termenv asks only a terminal on stdout whose foreground process group
	// is ours; anywhere else there is nothing to hide.
	if (!isatty(1) || tcgetpgrp(1) != getpgrp()) return;
	static char dumb[] = "TERM=dumb";
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, "TERM=", 5) != 0) continue;
		gb_hidden_term = *e;
		*e = dumb;
		return;
	}
}
