#pragma once
// The parts of the init that must be C: what runs between fork and exec, and variadic syscalls.
#include <sys/types.h>
#include <signal.h>

/// How the child is placed in sessions and process groups.
enum studio_session_mode {
    /// setpgid(0, 0): its own process group in the init's session.
    STUDIO_SESSION_PROCESS_GROUP = 0,
    /// setsid(), and when stdin is a TTY it becomes the child's controlling terminal (TIOCSCTTY).
    STUDIO_SESSION_NEW_SESSION_WITH_TTY = 1,
    /// setpgid(0, 0) and tcsetpgrp(stdin): the foreground group of the caller's own terminal session.
    STUDIO_SESSION_FOREGROUND_GROUP = 2,
};

/// Where a spawn failed. The child shares the parent's memory until it execs (CLONE_VM|CLONE_VFORK),
/// so it writes the stage and errno straight into the parent's `studio_spawn_result`: no pipe.
enum studio_spawn_stage {
    STUDIO_STAGE_NONE = 0,
    STUDIO_STAGE_FORK = 1,
    STUDIO_STAGE_SETUP = 2,   // dup2, setpgid/setsid, sigaction, sigprocmask
    STUDIO_STAGE_CHDIR = 3,
    STUDIO_STAGE_EXEC = 4,
};

/// One spawn. Every pointer stays owned by the caller.
struct studio_spawn_request {
    char *const *argv;        // NULL-terminated; argv[0] is looked up in PATH (from envp) unless it contains '/'
    char *const *envp;        // NULL-terminated environment for the child
    const char *working_directory; // NULL: inherit
    int stdin_fd, stdout_fd, stderr_fd; // -1: inherit
    int session_mode;         // enum studio_session_mode
    /// 0: a clean slate (every disposition SIG_DFL, empty mask). 1: what the process was started
    /// with (`studio_caller_signal_mask`, every inherited SIG_IGN kept), as tini gives its child.
    int keep_caller_signals;
};

/// The outcome of one spawn: pid > 0 on success; else stage and error say what failed.
struct studio_spawn_result {
    pid_t pid;
    int stage;   // enum studio_spawn_stage (STUDIO_STAGE_NONE on success)
    int error;   // errno of the failing step
};

/// Forks, prepares the child (session, tty, signals, fds, cwd) and execs it with PATH search.
/// Returns only after the exec succeeded or failed, so the result is exact. A child whose exec
/// failed has already called _exit(127) and must still be reaped by the caller.
struct studio_spawn_result studio_spawn(const struct studio_spawn_request *request);

/// Blocks every signal in the calling thread (and so in every thread created after it). The first
/// call remembers the mask it replaced: see `studio_caller_signal_mask`.
int studio_block_all_signals(void);
/// The signal mask the process started with (saved by the first `studio_block_all_signals`), or
/// NULL before that call.
const sigset_t *studio_caller_signal_mask(void);
/// If SIGCHLD is ignored (a caller's SIG_IGN survives exec, and with it the kernel reaps our
/// children before waitpid sees them), sets it to SIG_DFL and remembers that the caller ignored it.
/// 0 on success, -1 on error.
int studio_take_sigchld(void);
/// Whether `studio_take_sigchld` found SIGCHLD ignored: a child given the caller's signal state
/// (`keep_caller_signals`) gets SIG_IGN back.
int studio_caller_ignored_sigchld(void);
/// Records that this process gives `signal_number` a handler. Every C function that installs one calls
/// it first: a spawned child, which shares our memory until it execs, resets exactly these.
void studio_note_handler(int signal_number);
/// The signals noted by `studio_note_handler`.
const sigset_t *studio_handled_signals(void);
/// Unblocks every signal in the calling thread.
int studio_unblock_all_signals(void);
/// Closes every fd >= lowest (close_range, falling back to /proc/self/fd).
int studio_close_fds_from(int lowest);
/// prctl(PR_SET_CHILD_SUBREAPER, 1).
int studio_set_child_subreaper(void);
/// prctl(PR_SET_PDEATHSIG, signal).
int studio_set_parent_death_signal(int signal);
/// pidfd_open(pid, 0), or -1 with errno.
int studio_pidfd_open(pid_t pid);
/// signalfd for every signal except the synchronous ones; non-blocking, CLOEXEC.
int studio_signalfd_all(void);
/// Reads one signal number from a signalfd: > 0 a signal, 0 nothing pending, -1 error.
int studio_signalfd_read(int fd);
/// sigtimedwait on all signals: returns the signal, 0 on timeout (timeout_ms < 0 waits forever), -1 on error.
int studio_wait_signal(long timeout_ms);
/// Whether fd refers to a terminal.
int studio_isatty(int fd);
/// The process environment (`environ`).
char *const *studio_environment(void);
/// Milliseconds on CLOCK_MONOTONIC.
long long studio_monotonic_milliseconds(void);
/// Installs a SIGCHLD handler that writes to `wake_fd` (an eventfd): a fallback wake-up for
/// processes whose threads do not all block SIGCHLD (with a fully blocked process it never runs,
/// and the signalfd sees SIGCHLD instead).
int studio_install_sigchld_wakeup(int wake_fd);
/// A non-blocking CLOEXEC eventfd, for waking a poll loop.
int studio_eventfd(void);
/// How the init should hand stdin's terminal to its child: 0 no terminal; 1 new session (after
/// `studio_release_controlling_tty` when we own it as session leader); 2 foreground group.
int studio_terminal_session_mode(int *must_release);
/// TIOCNOTTY as session leader, then swallows the SIGHUP/SIGCONT the kernel sends for it.
int studio_release_controlling_tty(void);
/// Unmaps the resident pages of the executable's read-only segments (MADV_DONTNEED): code that a
/// finished phase of work touched; any page used again is mapped back from the page cache.
/// Never touches writable memory. 0 on success, -1 on error.
int studio_release_code_pages(void);
/// As `studio_release_code_pages`, and also the pages of the writable segments (.data, .data.rel.ro,
/// Swift's writable .rodata) that were only read: present file pages per /proc/self/pagemap, not
/// the anonymous copies of written ones. Only for a single-threaded process: a write by another
/// thread between the pagemap read and the madvise would be lost. Without /proc, code pages only.
int studio_release_clean_executable_pages(void);
/// `studio_release_clean_executable_pages`, then `studio_wait_signal(timeout_ms)`: the init's first
/// idle wait. One C function, so that little code runs (and is faulted back in) between the release
/// and the wait; scripts/startup-order.sh places this path's functions together.
int studio_wait_signal_after_releasing_pages(long timeout_ms);
/// Makes a fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT) write one line naming the
/// signal to stderr before the process dies of it: "<prefix>: died of signal SIGILL (…)".
int studio_log_fatal_signals(const char *prefix);
/// Hands the heap's free pages back to the system (malloc_trim): glibc keeps freed chunks in its
/// arenas, so a long-running process would otherwise hold its busiest moment's heap for good.
int studio_release_free_heap(void);
/// Caps glibc's malloc arenas (M_ARENA_MAX): each thread that allocates may otherwise get an arena
/// of its own, and what stays allocated in each keeps its pages resident.
int studio_limit_heap_arenas(int count);
