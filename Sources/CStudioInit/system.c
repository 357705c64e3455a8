#define _GNU_SOURCE
#include "CStudioInit.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void fill_forwardable(sigset_t *set);

// The mask the process was started with, kept by the first studio_block_all_signals (main.swift
// calls it before anything else): the init's child gets it back, as tini's does.
static sigset_t caller_signal_mask;
static int caller_signal_mask_saved;

// Faults stay unblocked (as tini leaves them): the kernel resets a blocked fault signal to its
// default action, so a handler that logs it (studio_log_fatal_signals) would never run.
int studio_block_all_signals(void) {
    sigset_t all, previous;
    fill_forwardable(&all);
    if (pthread_sigmask(SIG_SETMASK, &all, &previous) != 0) return -1;
    if (!caller_signal_mask_saved) {
        caller_signal_mask = previous;
        caller_signal_mask_saved = 1;
    }
    return 0;
}

const sigset_t *studio_caller_signal_mask(void) {
    return caller_signal_mask_saved ? &caller_signal_mask : NULL;
}

// Whether the process started with SIGCHLD ignored (studio_take_sigchld changed it to SIG_DFL).
static int caller_ignored_sigchld;

// SIG_IGN on SIGCHLD (inherited across exec) makes the kernel reap our children itself: waitpid
// would never see the command's exit status. The init needs the default for itself.
int studio_take_sigchld(void) {
    struct sigaction current;
    if (sigaction(SIGCHLD, NULL, &current) < 0) return -1;
    if (current.sa_handler != SIG_IGN) return 0;
    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    if (sigaction(SIGCHLD, &default_action, NULL) < 0) return -1;
    caller_ignored_sigchld = 1;
    return 0;
}

int studio_caller_ignored_sigchld(void) { return caller_ignored_sigchld; }

// The signals this process has given a handler (every C function that installs one notes it here):
// a child that still shares our memory resets exactly these, not all 64 (see spawn.c).
static sigset_t handled_signals;

void studio_note_handler(int signal_number) { sigaddset(&handled_signals, signal_number); }

const sigset_t *studio_handled_signals(void) { return &handled_signals; }

int studio_unblock_all_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    return pthread_sigmask(SIG_SETMASK, &none, NULL) == 0 ? 0 : -1;
}

int studio_close_fds_from(int lowest) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0U) == 0) return 0;
#endif
    DIR *directory = opendir("/proc/self/fd");
    if (directory == NULL) return -1;
    int own = dirfd(directory);
    // Collect first: closing while iterating the directory of our own fds is not portable.
    int to_close[1024];
    int count;
    do {
        count = 0;
        struct dirent *entry;
        rewinddir(directory);
        while ((entry = readdir(directory)) != NULL && count < 1024) {
            char *end;
            long fd = strtol(entry->d_name, &end, 10);
            if (*end != '\0' || entry->d_name[0] == '\0' || fd < lowest || fd == own) continue;
            to_close[count++] = (int)fd;
        }
        for (int i = 0; i < count; i++) close(to_close[i]);
    } while (count == 1024);
    closedir(directory);
    return 0;
}

int studio_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int studio_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0); }

int studio_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

static void fill_forwardable(sigset_t *set) {
    sigfillset(set);
    int synchronous[] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS };
    for (unsigned i = 0; i < sizeof synchronous / sizeof synchronous[0]; i++) sigdelset(set, synchronous[i]);
}

int studio_signalfd_all(void) {
    sigset_t set;
    fill_forwardable(&set);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int studio_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t got;
    do { got = read(fd, &info, sizeof info); } while (got < 0 && errno == EINTR);
    if (got < 0) return errno == EAGAIN ? 0 : -1;
    if (got != (ssize_t)sizeof info) { errno = EIO; return -1; }
    return (int)info.ssi_signo;
}

int studio_wait_signal(long timeout_ms) {
    sigset_t all;
    sigfillset(&all);
    siginfo_t info;
    int result;
    if (timeout_ms < 0) {
        do { result = sigwaitinfo(&all, &info); } while (result < 0 && errno == EINTR);
        return result;
    }
    struct timespec timeout = { .tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000L };
    do { result = sigtimedwait(&all, &info, &timeout); } while (result < 0 && errno == EINTR);
    if (result < 0 && errno == EAGAIN) return 0;
    return result;
}

int studio_isatty(int fd) { return isatty(fd); }

extern char **environ;
char *const *studio_environment(void) { return environ; }

long long studio_monotonic_milliseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static volatile int sigchld_wake_fd = -1;

static void sigchld_wakeup(int signal_number) {
    (void)signal_number;
    int saved = errno;
    unsigned long long one = 1;
    if (sigchld_wake_fd >= 0) (void)!write(sigchld_wake_fd, &one, sizeof one);
    errno = saved;
}

int studio_install_sigchld_wakeup(int wake_fd) {
    sigchld_wake_fd = wake_fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = sigchld_wakeup;
    action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&action.sa_mask);
    studio_note_handler(SIGCHLD); // before: a child spawned from now on must reset it
    return sigaction(SIGCHLD, &action, NULL);
}

#include <sys/eventfd.h>
int studio_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

#include <sys/ioctl.h>
#include <termios.h>

int studio_terminal_session_mode(int *must_release) {
    *must_release = 0;
    if (!isatty(STDIN_FILENO)) return STUDIO_SESSION_PROCESS_GROUP;
    pid_t terminal_session = tcgetsid(STDIN_FILENO); // fails unless it is our controlling terminal
    if (terminal_session < 0) return STUDIO_SESSION_NEW_SESSION_WITH_TTY; // nobody's, or another session's
    if (terminal_session == getpid() && getsid(0) == getpid()) {
        *must_release = 1; // a container's PID 1 with -t: hand the terminal over to a new session
        return STUDIO_SESSION_NEW_SESSION_WITH_TTY;
    }
    return STUDIO_SESSION_FOREGROUND_GROUP; // e.g. started from an interactive shell: join its job control
}

int studio_release_controlling_tty(void) {
    if (ioctl(STDIN_FILENO, TIOCNOTTY) < 0) return -1;
    // The kernel sent SIGHUP and SIGCONT to the foreground group (ours, all signals blocked): take them.
    sigset_t hangup;
    sigemptyset(&hangup);
    sigaddset(&hangup, SIGHUP);
    sigaddset(&hangup, SIGCONT);
    struct timespec zero = { 0, 0 };
    while (sigtimedwait(&hangup, NULL, &zero) > 0) {}
    return 0;
}
