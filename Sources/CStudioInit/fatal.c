#define _GNU_SOURCE
#include "CStudioInit.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

// A worker that dies of a fault (a bug: a Swift trap is SIGILL or SIGTRAP) says so in its log
// before it goes, so an operator sees why the container ended. The handler runs once
// (SA_RESETHAND) on its own stack (a stack overflow is a fault too) and only calls write(2) and
// raise(3), so the default action ends the process with the usual 128+N status.

static char fatal_prefix[64] = "studio";
static char fatal_stack[32768];

static const char *fault_name(int signal) {
    switch (signal) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGABRT: return "SIGABRT";
    default: return "a fault";
    }
}

static void write_text(const char *text) { (void)!write(STDERR_FILENO, text, strlen(text)); }

static void log_fatal_signal(int signal) {
    write_text(fatal_prefix);
    write_text(": died of signal ");
    write_text(fault_name(signal));
    write_text(" (a bug in studio: please report it with this log; the message in hand returns to its queue when its lease runs out)\n");
    // Sent by kill(2) rather than raised by a fault, returning would carry on: die of it now.
    // (As PID 1 the kernel drops this one; a real fault then recurs and is fatal.)
    raise(signal);
}

int studio_log_fatal_signals(const char *prefix) {
    strncpy(fatal_prefix, prefix, sizeof fatal_prefix - 1);
    stack_t stack = { .ss_sp = fatal_stack, .ss_size = sizeof fatal_stack, .ss_flags = 0 };
    if (sigaltstack(&stack, NULL) < 0) return -1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = log_fatal_signal;
    action.sa_flags = SA_RESETHAND | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    int faults[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGABRT };
    for (unsigned i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        studio_note_handler(faults[i]);
        if (sigaction(faults[i], &action, NULL) < 0) return -1;
    }
    return 0;
}
