package main

import (
	"bytes"
	"strings"
	"testing"

	"glassbox/ui/words"
)

// What a user who typed something wrong reads: one line, the verb named,
// what is wrong in plain words, and what to do. Each is refused before
// anything runs.
func TestCommandLineMessages(t *testing.T) {
	tests := []struct {
		args string
		want string
	}{
		{"stop -t abc calc", "glassbox: stop -t abc: not a number (-t is the seconds to wait after SIGTERM before SIGKILL)\n"},
		{"stop -t", "glassbox: stop -t needs a value: the seconds to wait after SIGTERM before SIGKILL\n"},
		{"stop --time=1e999 calc", "glassbox: stop -t 1e999: out of range (-t is the seconds to wait after SIGTERM before SIGKILL)\n"},
		{"ps --bogus", "glassbox: ps has no flag --bogus (glassbox ps --help lists its flags)\n"},
		{"ps -z", "glassbox: ps has no flag -z (glassbox ps --help lists its flags)\n"},
		{"run --cpus x", "glassbox: run --cpus x: not a number of cores (0.5 = half a core)\n"},
		{"run --memory 256 calculator", "glassbox: run -m 256: 256 is 256 bytes, below the minimum of 6MiB: did you mean 256m (256 MiB)?\n"},
		{"run -m 1000", "glassbox: run -m 1000: 1000 is 1000 bytes, below the minimum of 6MiB: did you mean 1000m (1000 MiB)?\n"},
		// Too few or too many arguments: the verb's usage, as docker says it.
		{"rm", "glassbox: rm needs at least 1 argument: glassbox rm [-f] NAME... [flags]\n"},
		{"logs a b", "glassbox: logs takes 1 argument, not 2: glassbox logs [-f] [--tail N] [-t] NAME [flags]\n"},
		{"ps x", "glassbox: ps takes no arguments, yet was given \"x\": glassbox ps [flags]\n"},
		// The verb is looked at before the flags: a typo is an unknown
		// command, not an unknown flag of glassbox itself.
		{"stpo -t 5 calc", "glassbox: unknown command \"stpo\"; did you mean stop? (glassbox --help lists the commands)\n"},
		{"--root /tmp/x stpo", "glassbox: unknown command \"stpo\"; did you mean stop? (glassbox --help lists the commands)\n"},
		{"logz calc", "glassbox: unknown command \"logz\"; did you mean load or logs? (glassbox --help lists the commands)\n"},
		{"image lss busybox", "glassbox: unknown command \"image lss\"; did you mean ls? (glassbox image --help lists the commands)\n"},
		// docker's verbs glassbox lacks say what it has instead.
		{"pull nginx", "glassbox: unknown command \"pull\": docker has it, glassbox does not — glassbox has no registry: images are built in (calculator, busybox), built (glassbox build -t NAME DIR) or loaded from a docker save archive (glassbox load -i FILE.tar)\n"},
		{"attach calc", "glassbox: unknown command \"attach\": docker has it, glassbox does not — glassbox logs -f NAME follows a detached sandbox's output; glassbox exec -it NAME sh opens a shell inside it\n"},
		{"stats", "glassbox: unknown command \"stats\": docker has it, glassbox does not — glassbox top shows memory and CPU against the limits, live (glassbox top --once NAME for one plain frame)\n"},
		{"cp calc:/etc/passwd .", "glassbox: unknown command \"cp\": docker has it, glassbox does not — glassbox exec NAME cat FILE reads a file inside; glassbox export NAME writes its whole root filesystem as a tar\n"},
	}
	for _, tc := range tests {
		t.Run(tc.args, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := executeTo(strings.Fields(tc.args), &stderr); code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if stderr.String() != tc.want {
				t.Errorf("glassbox %s says\n  %q\nwant\n  %q", tc.args, stderr.String(), tc.want)
			}
		})
	}
}

// Every docker verb glassbox answers for is one it really lacks.
func TestDockerOnlyVerbsAreNotGlassboxs(t *testing.T) {
	root := newRootCmd()
	for _, v := range words.DockerOnlyVerbs() {
		for _, c := range root.Commands() {
			if c.Name() == v || c.HasAlias(v) {
				t.Errorf("%q is a glassbox verb, yet words says glassbox lacks it", v)
			}
		}
	}
}
