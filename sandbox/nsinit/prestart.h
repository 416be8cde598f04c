// A detached run's supervisor, started before the CLI's Go runtime
// (prestart.c).

#ifndef GLASSBOX_PRESTART_H
#define GLASSBOX_PRESTART_H

// Set by gb_prestart when it started one: the CLI's end of its socket
// (close-on-exec) and its PID; -1 and 0 otherwise.
extern int gb_prestart_fd;
extern int gb_prestart_pid;

int gb_detached_run(int argc, char **argv);
void gb_prestart(int argc, char **argv, char **envp);

#endif
