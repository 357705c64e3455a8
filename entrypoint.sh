#!/bin/sh
# entrypoint.sh: a container ENTRYPOINT for `studio` that reads its settings from environment variables.
#
#   docker run -e STUDIO_QUEUE=my_queue -e STUDIO_SINGLE_RUN=1 my-image
#     runs: studio remote-worker --queue my_queue --single-run
#   docker run my-image remote-worker --queue my_queue --lease 600
#     runs: studio remote-worker --queue my_queue --lease 600   (arguments pass through; variables are ignored)
#   docker run my-image --queue my_queue
#     runs: studio remote-worker --queue my_queue               (arguments that start with a flag mean remote-worker)
#
# Variables (all optional except STUDIO_QUEUE when no arguments are given):
#   STUDIO_QUEUE       queue name                        --queue
#   STUDIO_SINGLE_RUN  1/true/yes to stop after one job  --single-run
#   STUDIO_TIMEOUT     seconds to wait for work, -1 = forever   --timeout
#   STUDIO_CONFIG      path of a config file             --config
#   STUDIO_GRACE       seconds between SIGTERM and SIGKILL for the experiment   --grace
#   STUDIO_LEASE       seconds of queue lease            --lease
#   STUDIO_PIP         missing|never                     --pip
#   STUDIO_LOG_FORMAT  text|json                         --log-format
#   STUDIO_VERBOSE     1/true/yes for verbose logs       -v
#   STUDIO_BIN         the studio executable (default /studio)
#
# The script ends in `exec`, so studio replaces the shell and stays PID 1: it receives the SIGTERM that
# `docker stop` and Kubernetes send, and it reaps orphaned processes. POSIX sh only (dash, busybox ash).
set -eu

me=entrypoint.sh
STUDIO_BIN=${STUDIO_BIN:-/studio}

if ! command -v "$STUDIO_BIN" >/dev/null 2>&1; then
    echo "$me: studio executable '$STUDIO_BIN' not found; copy it into the image (COPY --from=studioml/studio /studio /studio) or set STUDIO_BIN" >&2
    exit 127
fi

if [ "$#" -gt 0 ]; then
    case $1 in
        -*) exec "$STUDIO_BIN" remote-worker "$@" ;;
        *) exec "$STUDIO_BIN" "$@" ;;
    esac
fi

# Prints 1 for a true-ish value, 0 for a false-ish or empty one; anything else is a usage error (exit 64),
# because silently ignoring STUDIO_SINGLE_RUN=ture would run a pod for ever.
flag_value() {
    case $2 in
        1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss] | [Oo][Nn]) echo 1 ;;
        '' | 0 | [Ff][Aa][Ll][Ss][Ee] | [Nn][Oo] | [Oo][Ff][Ff]) echo 0 ;;
        *)
            echo "$me: $1 must be 1, true or yes (or 0, false, no); got '$2'" >&2
            exit 64
            ;;
    esac
}

if [ -z "${STUDIO_QUEUE:-}" ]; then
    echo "$me: STUDIO_QUEUE is not set; set it to the queue to work (e.g. -e STUDIO_QUEUE=my_queue) or pass a command line (e.g. remote-worker --queue my_queue)" >&2
    exit 64
fi

# Build the command line in "$@": the only array POSIX sh has, and the only way to keep values with spaces whole.
single_run=$(flag_value STUDIO_SINGLE_RUN "${STUDIO_SINGLE_RUN:-}")
verbose=$(flag_value STUDIO_VERBOSE "${STUDIO_VERBOSE:-}")

set -- remote-worker --queue "$STUDIO_QUEUE"
if [ "$single_run" = 1 ]; then set -- "$@" --single-run; fi
if [ -n "${STUDIO_TIMEOUT:-}" ]; then set -- "$@" --timeout "$STUDIO_TIMEOUT"; fi
if [ -n "${STUDIO_CONFIG:-}" ]; then set -- "$@" --config "$STUDIO_CONFIG"; fi
if [ -n "${STUDIO_GRACE:-}" ]; then set -- "$@" --grace "$STUDIO_GRACE"; fi
if [ -n "${STUDIO_LEASE:-}" ]; then set -- "$@" --lease "$STUDIO_LEASE"; fi
if [ -n "${STUDIO_PIP:-}" ]; then set -- "$@" --pip "$STUDIO_PIP"; fi
if [ -n "${STUDIO_LOG_FORMAT:-}" ]; then set -- "$@" --log-format "$STUDIO_LOG_FORMAT"; fi
if [ "$verbose" = 1 ]; then set -- "$@" -v; fi

exec "$STUDIO_BIN" "$@"
