// The last steps before a process of the sandbox execs its program: shed
// the descriptors it must not carry in, take its user, drop capabilities, set
// no_new_privs, install the seccomp filter. The init calls them for the
// workload; an exec into a running sandbox calls the same ones. Each
// returns NULL or a message naming what failed (errno is left set).

#ifndef GLASSBOX_HARDEN_H
#define GLASSBOX_HARDEN_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

const char *gb_close_fds_from(int first);
const char *gb_cloexec_fds_from(int first);
const char *gb_set_user(uid_t uid, gid_t gid, size_t ngroups, const gid_t *groups, int own_tty);
const char *gb_drop_caps(uint64_t keep, int last_cap);
int gb_last_cap(void);
const char *gb_decode_filter(const char *hex, struct sock_fprog *prog);
const char *gb_install_filter(const struct sock_fprog *prog);

#endif
