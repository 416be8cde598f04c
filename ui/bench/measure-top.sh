#!/bin/sh
# measure-top.sh — what `glassbox top` itself costs: its CPU (% of one core)
# and its memory (RSS), at the default 1 s interval, watching N real
# calculator sandboxes, over SECS seconds. Needs root and tmux.
#
#   sudo GLASSBOX_BIN=./glassbox ui/bench/measure-top.sh        # N=5 SECS=60
#
# It starts its sandboxes under a temporary GLASSBOX_ROOT and removes them,
# the tmux server and the root when it ends, on every path.
set -eu
BIN=${GLASSBOX_BIN:-glassbox}
N=${N:-5}
SECS=${SECS:-60}
INTERVAL=${INTERVAL:-1s}
ROOT=$(mktemp -d /tmp/glassbox-measure-XXXXXX)
# The tmux server's socket lives in the root, so that it goes with it: a
# server killed by name leaves its socket file behind in /tmp/tmux-UID.
SOCK=$ROOT/tmux.sock
export GLASSBOX_ROOT=$ROOT

cleanup() {
	tmux -S "$SOCK" kill-server 2>/dev/null || true
	i=1
	while [ "$i" -le "$N" ]; do
		"$BIN" rm -f "measure$i" >/dev/null 2>&1 || true
		i=$((i + 1))
	done
	rm -rf "$ROOT"
}
trap cleanup EXIT INT TERM

# RSS counts the pages of the binary this process has mapped, and a page
# fault maps the cached pages around it too, as many as the page cache holds
# together: the same binary, copied, measures 1.5 MiB apart depending on how
# its pages came into the cache (written by the linker, read by an exec…).
# Drop them first (written back, then posix_fadvise DONTNEED: a fresh
# build's pages are still dirty and would stay), so that every run reads the
# binary in the same way and runs of two binaries compare.
sync "$(command -v "$BIN")"
dd if="$(command -v "$BIN")" iflag=nocache count=0 status=none

i=1
while [ "$i" -le "$N" ]; do
	"$BIN" run -d --name "measure$i" -p "127.0.0.1:$((18100 + i)):8000" --memory 256m --cpus 0.5 >/dev/null
	i=$((i + 1))
done

tmux -S "$SOCK" new-session -d -x 160 -y 50 "TERM=xterm-256color exec $BIN top --interval $INTERVAL"
PID=$(tmux -S "$SOCK" list-panes -F '#{pane_pid}')
sleep 5 # the first frames and the Inspectors' opens are not the steady state

# CPU time in ns from the scheduler's own accounting of every thread
# (/proc/PID/task/*/schedstat, first field): the clock ticks of
# /proc/PID/stat count in 10 ms steps, coarser than what is measured here.
cpu_ns() { cat /proc/"$PID"/task/*/schedstat | awk '{s += $1} END {printf "%d", s}'; }
T0=$(cpu_ns)
sleep "$SECS"
T1=$(cpu_ns)
RSS=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")
ANON=$(awk '/^RssAnon/ {print $2}' "/proc/$PID/status")
FILE=$(awk '/^RssFile/ {print $2}' "/proc/$PID/status")
SCREEN=$(tmux -S "$SOCK" capture-pane -p | grep -c 'measure' || true)

awk -v t0="$T0" -v t1="$T1" -v s="$SECS" -v n="$N" -v iv="$INTERVAL" -v rss="$RSS" -v hwm="$HWM" -v anon="$ANON" -v file="$FILE" 'BEGIN {
	printf "glassbox top, %d sandboxes, interval %s, over %d s:\n", n, iv, s
	printf "  CPU  %.2f%% of one core (%.1f ms of CPU time)\n", (t1 - t0) / 1e9 / s * 100, (t1 - t0) / 1e6
	printf "  RSS  %.1f MiB now (%.1f anonymous, %.1f file-backed: the binary, libc), %.1f MiB peak\n", rss / 1024, anon / 1024, file / 1024, hwm / 1024
}'
[ "$SCREEN" -gt 0 ] || echo "warning: the sandboxes' names were not on screen" >&2
