#define _GNU_SOURCE
#include "CStudioInit.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sched.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

enum { PATH_BUFFER = 4096 };

// Everything below runs in the forked child: only async-signal-safe calls, no malloc.

// The child runs in the parent's memory (CLONE_VM|CLONE_VFORK, as posix_spawn does): no page-table
// copy, no copy-on-write faults. The parent stays suspended until the child execs or exits, so a
// failure is reported by writing into the parent's result and exiting.
static void report_and_exit(struct studio_spawn_result *result, int stage, int error) {
    result->stage = stage;
    result->error = error;
    _exit(127);
}

static const char *find_path_variable(char *const *envp) {
    for (char *const *entry = envp; entry && *entry; entry++) {
        if (strncmp(*entry, "PATH=", 5) == 0) return *entry + 5;
    }
    return "/bin:/usr/bin"; // glibc's execvp default
}

// execvpe semantics, but PATH comes from envp (the child's environment), not from ours.
static int exec_with_path_search(char *const *argv, char *const *envp) {
    const char *file = argv[0];
    if (file == NULL || file[0] == '\0') return ENOENT;
    if (strchr(file, '/') != NULL) {
        execve(file, argv, envp);
        return errno;
    }
    size_t file_length = strlen(file);
    const char *path = find_path_variable(envp);
    int saw_eacces = 0;
    int last_error = ENOENT;
    for (const char *start = path;; ) {
        const char *end = strchr(start, ':');
        size_t dir_length = end ? (size_t)(end - start) : strlen(start);
        char candidate[PATH_BUFFER];
        if (dir_length + 1 + file_length + 1 <= sizeof candidate) {
            size_t length = 0;
            if (dir_length == 0) { candidate[length++] = '.'; } // an empty entry means the cwd
            else { memcpy(candidate, start, dir_length); length = dir_length; }
            candidate[length++] = '/';
            memcpy(candidate + length, file, file_length + 1);
            execve(candidate, argv, envp);
            switch (errno) {
            case EACCES: saw_eacces = 1; break;
            case ENOENT: case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT: break;
            default: return errno; // ENOEXEC, E2BIG, ELOOP…: the file exists but cannot run
            }
        } else {
            last_error = ENAMETOOLONG;
        }
        if (end == NULL) break;
        start = end + 1;
    }
    return saw_eacces ? EACCES : last_error;
}

static int move_fd(int from, int to) {
    if (from < 0 || from == to) {
        if (from == to && from >= 0) {
            int flags = fcntl(to, F_GETFD);
            if (flags < 0 || fcntl(to, F_SETFD, flags & ~FD_CLOEXEC) < 0) return -1;
        }
        return 0;
    }
    int result;
    do { result = dup2(from, to); } while (result < 0 && errno == EINTR);
    return result < 0 ? -1 : 0;
}

// The kernel's struct sigaction, for rt_sigaction itself: glibc refuses sigaction on its reserved
// signals (32, 33), yet an SIG_IGN on them is inherited across exec like any other.
struct kernel_sigaction { void *handler; unsigned long flags; void *restorer; unsigned long mask; };

static int raw_sigaction(int signal_number, const struct kernel_sigaction *action, struct kernel_sigaction *old) {
#if defined(__x86_64__) || defined(__aarch64__)
    return (int)syscall(SYS_rt_sigaction, signal_number, action, old, sizeof action->mask);
#else
    (void)signal_number; (void)action; (void)old;
    errno = ENOSYS;
    return -1;
#endif
}

// The supervisor's jobs: default dispositions for every signal (SIG_IGN survives exec), empty mask.
static int reset_signals(void) {
    struct sigaction default_action;
    memset(&default_action, 0, sizeof default_action);
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    struct kernel_sigaction raw_default = { .handler = (void *)SIG_DFL };
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        if (signal_number == SIGKILL || signal_number == SIGSTOP) continue;
        if (sigaction(signal_number, &default_action, NULL) < 0) (void)raw_sigaction(signal_number, &raw_default, NULL);
    }
    sigset_t empty;
    sigemptyset(&empty);
    return sigprocmask(SIG_SETMASK, &empty, NULL);
}

// The init's command (tini's contract): it starts as it would without an init, with the mask the
// init was started with and every SIG_IGN it inherited. Exec itself sets handled signals back to
// SIG_DFL and keeps SIG_IGN, so only our own handlers need resetting, here and not at exec: this child
// still shares our memory, and once unblocked none of them may run. They are the ones noted by
// studio_note_handler (no handler is inherited across exec, so the init has no others): a few system
// calls instead of a query of all 64 signals (62 system calls fewer in every start).
static int restore_caller_signals(void) {
    struct kernel_sigaction raw_default = { .handler = (void *)SIG_DFL };
    const sigset_t *handled = studio_handled_signals();
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        if (signal_number == SIGKILL || signal_number == SIGSTOP || !sigismember(handled, signal_number)) continue;
        if (raw_sigaction(signal_number, &raw_default, NULL) < 0) (void)signal(signal_number, SIG_DFL);
    }
    // The one SIG_IGN the init did not keep for itself (studio_take_sigchld) goes back too.
    if (studio_caller_ignored_sigchld()) {
        struct kernel_sigaction ignore = { .handler = (void *)SIG_IGN };
        if (raw_sigaction(SIGCHLD, &ignore, NULL) < 0) return -1;
    }
    const sigset_t *caller_mask = studio_caller_signal_mask();
    sigset_t empty;
    sigemptyset(&empty);
    return sigprocmask(SIG_SETMASK, caller_mask ? caller_mask : &empty, NULL);
}

static void child_after_fork(const struct studio_spawn_request *request, struct studio_spawn_result *result) {
    // stdio first, so the TTY check below looks at the child's real stdin. A source fd that is
    // itself 0..2 could be overwritten by an earlier dup2; move such sources out of the way first.
    int sources[3] = { request->stdin_fd, request->stdout_fd, request->stderr_fd };
    for (int i = 0; i < 3; i++) {
        if (sources[i] >= 0 && sources[i] <= 2 && sources[i] != i) {
            int copy = fcntl(sources[i], F_DUPFD_CLOEXEC, 3);
            if (copy < 0) report_and_exit(result, STUDIO_STAGE_SETUP, errno);
            sources[i] = copy;
        }
    }
    for (int i = 0; i < 3; i++) {
        if (move_fd(sources[i], i) < 0) report_and_exit(result, STUDIO_STAGE_SETUP, errno);
    }

    // Session and terminal, while every signal is still blocked (inherited from the init), so a
    // SIGTTOU from tcsetpgrp cannot stop us.
    if (request->session_mode == STUDIO_SESSION_NEW_SESSION_WITH_TTY && isatty(STDIN_FILENO)) {
        if (setsid() < 0) report_and_exit(result, STUDIO_STAGE_SETUP, errno);
        // Never steal (TIOCSCTTY 1): if another session still holds the terminal, run without one.
        if (ioctl(STDIN_FILENO, TIOCSCTTY, 0) == 0) (void)tcsetpgrp(STDIN_FILENO, getpid());
    } else if (request->session_mode == STUDIO_SESSION_FOREGROUND_GROUP && isatty(STDIN_FILENO)) {
        if (setpgid(0, 0) < 0) report_and_exit(result, STUDIO_STAGE_SETUP, errno);
        (void)tcsetpgrp(STDIN_FILENO, getpid()); // SIGTTOU is still blocked here
    } else {
        if (setpgid(0, 0) < 0) report_and_exit(result, STUDIO_STAGE_SETUP, errno);
    }

    int signals_set = request->keep_caller_signals ? restore_caller_signals() : reset_signals();
    if (signals_set < 0) report_and_exit(result, STUDIO_STAGE_SETUP, errno);

    if (request->working_directory && chdir(request->working_directory) < 0) {
        report_and_exit(result, STUDIO_STAGE_CHDIR, errno);
    }
    report_and_exit(result, STUDIO_STAGE_EXEC, exec_with_path_search(request->argv, request->envp));
}

struct child_arguments {
    const struct studio_spawn_request *request;
    struct studio_spawn_result *result;
};

static int child_entry(void *raw) {
    struct child_arguments *arguments = raw;
    child_after_fork(arguments->request, arguments->result);
    return 127; // not reached
}

enum { CHILD_STACK_SIZE = 256 * 1024 };

struct studio_spawn_result studio_spawn(const struct studio_spawn_request *request) {
    struct studio_spawn_result result = { .pid = -1, .stage = STUDIO_STAGE_NONE, .error = 0 };
    void *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        result.stage = STUDIO_STAGE_FORK;
        result.error = errno;
        return result;
    }
    // No handler of ours may run in the child while it shares our memory: block everything until
    // it has reset its dispositions (it starts with this mask and sets its own before exec).
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    struct child_arguments arguments = { request, &result };
    int saved_errno = errno;
    pid_t pid = clone(child_entry, (char *)stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &arguments);
    int clone_error = errno;
    errno = saved_errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    munmap(stack, CHILD_STACK_SIZE);
    if (pid < 0) {
        result.stage = STUDIO_STAGE_FORK;
        result.error = clone_error;
        return result;
    }
    result.pid = pid; // stage/error were filled in by the child if its exec failed
    return result;
}
