#!/bin/sh
# Captures the v1 fixture from a real host (run as root on a v1 or hybrid
# machine): the top files of each hierarchy glassbox uses (v1/root/<ctrl>/)
# and the files of a fresh cgroup (v1/child/<ctrl>/), which the unit tests
# copy into each new directory the way cgroupfs fills it. Lists of host PIDs
# are emptied; write-only files become empty files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
id=glassbox-capture-$$
for c in memory cpu cpuacct pids freezer; do
	src=/sys/fs/cgroup/$c
	mkdir "$src/$id"
	for kind in root child; do
		dir=$src
		[ "$kind" = child ] && dir=$src/$id
		out=$here/v1/$kind/$c
		rm -rf "$out" && mkdir -p "$out"
		for f in "$dir"/*; do
			[ -f "$f" ] || continue
			name=$(basename "$f")
			case $name in
			cgroup.procs | tasks) : >"$out/$name" ;;
			*) cat "$f" >"$out/$name" 2>/dev/null || : >"$out/$name" ;;
			esac
		done
	done
	rmdir "$src/$id"
done
