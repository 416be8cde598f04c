package words

import (
	"testing"
	"time"
)

// The live view's and the command line's new sentences, each as a user
// reads it.
func TestProjectorWords(t *testing.T) {
	at := time.Date(2026, 11, 28, 15, 4, 5, 0, time.UTC)
	for _, c := range []struct{ got, want string }{
		{StopEnded("SIGKILL", 10*time.Second, 10200*time.Millisecond), "stopped: no exit within the grace period (10s), so SIGKILL ended it after 10.2 s (exit 137)"},
		{StopEnded("SIGTERM", 10*time.Second, 300*time.Millisecond), "stopped: it exited on SIGTERM after 0.3 s, within the grace period (10s)"},
		{StopEnded("nothing (it had already exited)", 10*time.Second, 0), "stopped, ended by nothing (it had already exited)"},
		{IgnoresTERM(3 * time.Second), "the calculator now ignores SIGTERM: s sends it, waits out the grace period (3s), then SIGKILL"},
		{NoAnswerAfterOOM("stress memory", "calc"), "stress memory got no answer: the OOM killer ended calc's workload mid-request (exit 137)"},
		{RunStarted(at), "the run started 15:04:05"},
		{RunStarted(time.Time{}), "an earlier run"},
		{Seconds(105.64), "105.6 s"},
		{Seconds(1), "1 s"},
		{LogViewTitle(8, false, true, false), "its stdout and stderr, followed live · 8 /health polls by the supervisor hidden (H shows them)"},
		{LogViewTitle(1, false, false, false), "its stdout and stderr, scrolled back (G follows again) · 1 /health poll by the supervisor hidden (H shows them)"},
		{LogViewTitle(0, true, true, false), "its stdout and stderr, followed live · the supervisor's /health polls shown (H hides them)"},
		{LogViewTitle(8, false, true, true), "followed live · 8 /health polls by the supervisor hidden (H shows them)"},
		{InitNote(2), "The app is PID 2, not 1: glassbox's init is PID 1 (it reaps zombies and passes signals on) and starts it, so the calculator's /info says process_id 2 where the course's example, run without an init, says 1; glassbox run --init=false makes the app PID 1."},
		{PortTaken(8000, PortHolder{Sandbox: "alpha"}) + PortInstead(41234), `port 8000 is taken by glassbox sandbox "alpha": publishing the calculator on port 41234 instead (--port N picks one)`},
		{PortTaken(8000, PortHolder{PID: 4242, Command: "python3"}) + PortGiveAnother(), "port 8000 is taken by PID 4242 (python3): give another with --port N"},
		{PortTaken(8000, PortHolder{}), "port 8000 is taken by another program"},
		{UnexposedPort("calculator", 9000, 9000, []int{8000}), "warning: -p 9000:9000 publishes port 9000 inside, but calculator listens on 8000: nothing will answer (did you mean -p 9000:8000?)"},
		{NeedsRoot("ps"), "ps needs root: glassbox creates and reads namespaces, cgroups, mounts and the sandboxes' records (/run/glassbox); try sudo glassbox ps"},
		{NeedsRoot(""), "glassbox needs root: glassbox creates and reads namespaces, cgroups, mounts and the sandboxes' records (/run/glassbox); try sudo glassbox"},
		{MemoryWithoutUnit("256", "6MiB"), "256 is 256 bytes, below the minimum of 6MiB: did you mean 256m (256 MiB)?"},
		{UnknownVerb("", "stpo", []string{"stop"}), `unknown command "stpo"; did you mean stop? (glassbox --help lists the commands)`},
		{UnknownVerb("image", "pull", nil), `unknown command "image pull" (glassbox image --help lists the commands)`},
	} {
		if c.got != c.want {
			t.Errorf("got\n  %q\nwant\n  %q", c.got, c.want)
		}
	}
}

// Flag errors: the parser's words turned into the verb's, for each shape
// the parser has.
func TestFlagError(t *testing.T) {
	usage := func(long, short string) string {
		if long == "time" || long == "" && short == "t" {
			return "seconds to wait after SIGTERM before SIGKILL"
		}
		return ""
	}
	for _, c := range []struct{ msg, want string }{
		{`invalid argument "abc" for "-t, --time" flag: strconv.ParseFloat: parsing "abc": invalid syntax`,
			"stop -t abc: not a number (-t is the seconds to wait after SIGTERM before SIGKILL)"},
		{`invalid argument "9e999" for "--time" flag: strconv.ParseFloat: parsing "9e999": value out of range`,
			"stop --time 9e999: out of range (--time is the seconds to wait after SIGTERM before SIGKILL)"},
		{`invalid argument "x" for "--cpus" flag: not a number of cores (0.5 = half a core)`, "stop --cpus x: not a number of cores (0.5 = half a core)"},
		{`flag needs an argument: 't' in -t`, "stop -t needs a value: the seconds to wait after SIGTERM before SIGKILL"},
		{`flag needs an argument: --time`, "stop --time needs a value: the seconds to wait after SIGTERM before SIGKILL"},
		{`unknown flag: --bogus`, "stop has no flag --bogus (glassbox stop --help lists its flags)"},
		{`unknown shorthand flag: 'z' in -z`, "stop has no flag -z (glassbox stop --help lists its flags)"},
		{`something else`, "stop: something else"},
	} {
		if got := FlagError("stop", c.msg, usage); got != c.want {
			t.Errorf("FlagError(%q)\n  = %q\nwant %q", c.msg, got, c.want)
		}
	}
}

// The parser's complaints about arguments, each shape worded with the
// verb's usage; anything else is left to the caller.
func TestArgsError(t *testing.T) {
	for _, c := range []struct{ msg, want string }{
		{"requires at least 1 arg(s), only received 0", "start needs at least 1 argument: glassbox start NAME..."},
		{"requires at least 2 arg(s), only received 1", "start needs at least 2 arguments: glassbox start NAME..."},
		{"accepts 1 arg(s), received 2", "start takes 1 argument, not 2: glassbox start NAME..."},
		{"accepts at most 1 arg(s), received 3", "start takes at most 1 argument, not 3: glassbox start NAME..."},
		{"accepts between 1 and 2 arg(s), received 0", "start takes 1 to 2 arguments, not 0: glassbox start NAME..."},
		{`unknown command "x" for "glassbox start"`, `start takes no arguments, yet was given "x": glassbox start NAME...`},
	} {
		if got, ok := ArgsError("start", "start NAME...", c.msg); !ok || got != c.want {
			t.Errorf("ArgsError(%q)\n  = %q, %v\nwant %q", c.msg, got, ok, c.want)
		}
	}
	if got, ok := ArgsError("start", "start NAME...", "no such sandbox: x"); ok {
		t.Errorf("another error was worded as an argument count: %q", got)
	}
}
