package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"glassbox/sandbox/nsinit"
)

// A value each flag of `glassbox run` (and the persistent --root) accepts.
// A new flag needs one here: the test below fails until it has one, and
// with it the constructor's list of flags that take a value is checked.
var runFlagSamples = map[string]string{
	"name": "web", "hostname": "box", "env": "A=1", "workdir": "/app", "user": "nobody",
	"memory": "256m", "cpus": "0.5", "pids-limit": "10", "network": "none",
	"cap-add": "NET_ADMIN", "cap-drop": "ALL", "security-opt": "no-new-privileges",
	"publish": "8080:8000", "restart": "always", "stop-timeout": "3s", "log-opt": "max-size=1m",
	"root": "/tmp/gbroot",
}

// The binary's constructor splits `glassbox run -d` into a front and the
// process that goes on as CLI and supervisor, before the Go runtime
// (prestart.c), so it reads the command line itself. It must see a
// detached run exactly where the CLI does: one it misses is merely slower,
// but one it sees wrongly would run a foreground workload in a session of
// its own, out of reach of the terminal's Ctrl-C.
func TestPrestartAgreesWithTheCLI(t *testing.T) {
	if !nsinit.Available() {
		t.Skip("built without cgo: no constructor, no prestart")
	}
	run, _, err := newRootCmdFor([]string{"run"}).Find([]string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]string
	add := func(args ...string) { lines = append(lines, args) }
	flags := []*pflag.Flag{}
	run.Flags().VisitAll(func(f *pflag.Flag) { flags = append(flags, f) })
	run.InheritedFlags().VisitAll(func(f *pflag.Flag) { flags = append(flags, f) })
	for _, f := range flags {
		boolean := f.NoOptDefVal != ""
		v, known := runFlagSamples[f.Name]
		if !boolean && !known {
			t.Errorf("flag --%s takes a value: give it a sample in runFlagSamples (and, in sandbox/nsinit/prestart.c, in long_with_value%s)", f.Name, map[bool]string{true: " and short_with_value", false: ""}[f.Shorthand != ""])
			continue
		}
		forms := [][]string{{"--" + f.Name}}
		if !boolean {
			forms = [][]string{{"--" + f.Name, v}, {"--" + f.Name + "=" + v}, {"--" + f.Name, "-d"}}
		}
		if f.Shorthand != "" {
			s := f.Shorthand
			if boolean {
				forms = append(forms, []string{"-" + s}, []string{"-" + s + "d"}, []string{"-d" + s}, []string{"-" + s + "=false"})
			} else {
				forms = append(forms, []string{"-" + s, v}, []string{"-" + s + v}, []string{"-d" + s, v}, []string{"-" + s, "-d"}, []string{"-d" + s + v})
			}
		}
		for _, form := range forms {
			add(append(append([]string{"run"}, form...), "calculator")...)
			add(append(append([]string{"run"}, form...), "-d", "calculator")...)
			add(append(append([]string{"run", "-d"}, form...), "calculator", "-d")...)
			add(append(append([]string{"run", "--detach=false"}, form...), "calculator")...)
		}
	}
	add("run", "calculator", "-d")
	add("run", "--", "-d")
	add("run", "-d", "--", "calculator")
	add("--root", "/tmp/gbroot", "run", "-d", "calculator")
	add("--root=/tmp/gbroot", "run", "--detach", "calculator")
	add("run", "--detach=0", "calculator")
	add("run", "-d", "--detach=f", "calculator")
	add("run", "-d=false", "-d", "calculator")
	add("ps", "-d")
	add("-d", "run", "calculator")
	add("run")
	add("run", "-d")

	checked := 0
	for _, args := range lines {
		flags := parsedRun(t, args)
		got := nsinit.DetachedRun(args)
		if flags == nil {
			// A line the CLI refuses: a prestart is wasted, nothing worse.
			continue
		}
		checked++
		if want := flags["detach"] == "true"; got != want {
			t.Errorf("glassbox %s: the constructor says detached=%v, the CLI %v", strings.Join(args, " "), got, want)
		}
	}
	if checked < len(lines)/2 {
		t.Errorf("only %d of %d command lines parsed: the samples no longer fit the flags", checked, len(lines))
	}
	if !slices.ContainsFunc(lines, func(a []string) bool { return nsinit.DetachedRun(a) }) {
		t.Error("no line was seen as a detached run")
	}
}
