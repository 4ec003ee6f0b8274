#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H
/* Linux calls Swift cannot make itself: syscall() is C-variadic. */
#include <poll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* A file descriptor that becomes readable when the process exits (Linux 5.3); -1 with errno when it cannot be had. */
static inline int clinux_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Blocks until the process behind `pidfd` exits (1), `timeout_ms` passes (0), or an error (-1). */
static inline int clinux_wait_readable(int fd, int timeout_ms) {
    struct pollfd entry = {.fd = fd, .events = POLLIN, .revents = 0};
    int ready = poll(&entry, 1, timeout_ms);
    return ready < 0 ? -1 : (ready > 0 ? 1 : 0);
}
#endif
