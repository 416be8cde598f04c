// The front of a detached run, split off before the Go runtime
// (prestart.c).

#ifndef GLASSBOX_PRESTART_H
#define GLASSBOX_PRESTART_H

// In the child that goes on as the CLI of `glassbox run -d`: its end of the
// pipe its front waits on (close-on-exec); -1 in every other process.
extern int gb_front_fd;

int gb_detached_run(int argc, char **argv);
void gb_prestart(int argc, char **argv);

#endif
