package words

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// The command line's own messages: what went wrong before a verb could
// start, and what to do instead.

// NeedsRoot is the one wording of "this needs root", whichever verb met
// it: run (namespaces, cgroups, mounts), or ps, inspect, logs (the
// sandboxes' records under /run/glassbox are root's).
func NeedsRoot(verb string) string {
	cmd, what := "glassbox", "glassbox"
	if verb != "" && verb != "glassbox" {
		cmd, what = "glassbox "+verb, verb
	}
	// The program's name starts every error line already: the verb alone
	// says which command met it.
	return what + " needs root: glassbox creates and reads namespaces, cgroups, mounts and the sandboxes' records (/run/glassbox); try sudo " + cmd
}

// dockerOnly are docker's verbs that glassbox does not have, each with
// what glassbox offers instead.
var dockerOnly = map[string]string{
	"pull":      "glassbox has no registry: images are built in (calculator, busybox), built (glassbox build -t NAME DIR) or loaded from a docker save archive (glassbox load -i FILE.tar)",
	"push":      "glassbox has no registry: glassbox save -o FILE.tar NAME writes an archive that docker load reads",
	"search":    "glassbox has no registry: glassbox images lists the images it has",
	"login":     "glassbox has no registry to log in to",
	"logout":    "glassbox has no registry to log in to",
	"attach":    "glassbox logs -f NAME follows a detached sandbox's output; glassbox exec -it NAME sh opens a shell inside it",
	"cp":        "glassbox exec NAME cat FILE reads a file inside; glassbox export NAME writes its whole root filesystem as a tar",
	"port":      "glassbox ps shows each sandbox's published ports (PORTS), glassbox inspect NAME how each is carried",
	"stats":     "glassbox top shows memory and CPU against the limits, live (glassbox top --once NAME for one plain frame)",
	"create":    "glassbox run -d starts a sandbox; there is no created-but-not-started step",
	"wait":      "glassbox run (without -d) waits for the workload and returns its exit status",
	"rename":    "a sandbox keeps its name: glassbox run --name NEW starts another",
	"update":    "a sandbox's limits are fixed when it starts: glassbox run --memory/--cpus/--pids-limit",
	"network":   "glassbox has one bridge, glassbox0 (10.123.0.0/24; GLASSBOX_SUBNET moves it); run --network none or host for the others",
	"volume":    "glassbox has no volumes: a sandbox's writes go to its upper layer (glassbox diff NAME lists them)",
	"compose":   "glassbox runs one sandbox at a time: glassbox run -d for each",
	"system":    "glassbox prune removes what crashed sandboxes left; glassbox image prune the unused images",
	"info":      "glassbox version says which glassbox this is; glassbox inspect NAME the kernel and cgroup mode a sandbox runs on",
	"container": "glassbox's verbs act on sandboxes directly: glassbox ps, run, stop, rm, inspect, logs, exec",
	"builder":   "glassbox build builds; glassbox image prune removes the layers no image uses",
	"trust":     "glassbox does not sign images: glassbox history NAME shows how an image was made",
	"plugin":    "glassbox has no plugins",
	"manifest":  "glassbox images are single-platform: glassbox images lists them",
	"stack":     "glassbox runs one sandbox at a time: glassbox run -d for each",
	"swarm":     "glassbox runs on one machine",
	"service":   "glassbox runs on one machine: glassbox run -d --restart on-failure keeps a sandbox running",
	"context":   "glassbox drives the sandboxes of this machine (GLASSBOX_ROOT or --root picks another state root)",
}

// UnknownVerb says that a verb (or "image VERB") does not exist, with glassbox's nearest
// verbs and, for a docker verb glassbox lacks, what it offers instead.
// group is "" for glassbox's own verbs, or the group's ("image").
func UnknownVerb(group, verb string, suggestions []string) string {
	cmd := strings.TrimSpace("glassbox " + group)
	s := fmt.Sprintf("unknown command %q", strings.TrimSpace(group+" "+verb))
	if alt, ok := dockerOnly[verb]; ok && group == "" {
		return s + ": docker has it, glassbox does not — " + alt
	}
	if len(suggestions) > 0 {
		s += "; did you mean " + strings.Join(suggestions, " or ") + "?"
	}
	return s + " (" + cmd + " --help lists the commands)"
}

// DockerAlternative is what glassbox offers for a docker verb it lacks.
func DockerAlternative(verb string) (string, bool) {
	alt, ok := dockerOnly[verb]
	return alt, ok
}

// The flag parser's messages, compiled the first time one is worded: a
// regexp compiled at package init would cost every start of the binary
// (the supervisor's, the calculator's) for a message most never print.
var flagShapes = sync.OnceValue(func() *flagMessages {
	return &flagMessages{
		invalidArg: regexp.MustCompile(`^invalid argument "(.*)" for "(?:-(\w), )?--([\w-]+)" flag: (.*)$`),
		parseError: regexp.MustCompile(`^strconv\.Parse\w+: parsing ".*": (.*)$`),
		needsArg:   regexp.MustCompile(`^flag needs an argument: (?:'(\w)' in -\w|--([\w-]+))$`),
		unknownArg: regexp.MustCompile(`^unknown (?:shorthand )?flag: (?:'(\w)' in (-\S+)|(--[\w-]+))$`),
	}
})

type flagMessages struct{ invalidArg, parseError, needsArg, unknownArg *regexp.Regexp }

// FlagError words an error of the flag parser for verb. usage is the
// flag's help (what it is for), found by its long name; "" when unknown.
func FlagError(verb, msg string, usage func(long, short string) string) string {
	re := flagShapes()
	if m := re.invalidArg.FindStringSubmatch(msg); m != nil {
		value, short, long, why := m[1], m[2], m[3], m[4]
		name := "--" + long
		if short != "" {
			name = "-" + short
		}
		p := re.parseError.FindStringSubmatch(why)
		if p == nil {
			// The flag's own parser said what it wants.
			return fmt.Sprintf("%s %s %s: %s", verb, name, value, why)
		}
		switch p[1] {
		case "invalid syntax":
			why = "not a number"
		case "value out of range":
			why = "out of range"
		default:
			why = p[1]
		}
		s := fmt.Sprintf("%s %s %s: %s", verb, name, value, why)
		if u := usage(long, short); u != "" {
			s += " (" + name + " is the " + strings.TrimSuffix(u, ".") + ")"
		}
		return s
	}
	if m := re.needsArg.FindStringSubmatch(msg); m != nil {
		name := "--" + m[2]
		if m[1] != "" {
			name = "-" + m[1]
		}
		s := fmt.Sprintf("%s %s needs a value", verb, name)
		if u := usage(m[2], m[1]); u != "" {
			s += ": the " + strings.TrimSuffix(u, ".")
		}
		return s
	}
	if m := re.unknownArg.FindStringSubmatch(msg); m != nil {
		name := m[3]
		if m[1] != "" {
			name = "-" + m[1]
		}
		return fmt.Sprintf("%s has no flag %s (glassbox %s --help lists its flags)", verb, name, verb)
	}
	return verb + ": " + msg
}

// MemoryWithoutUnit is the hint for a memory limit given as a bare number
// too small to be meant as bytes: "--memory 256 is 256 bytes; did you mean
// 256m (256 MiB)?".
func MemoryWithoutUnit(value string, min string) string {
	return fmt.Sprintf("%s is %s bytes, below the minimum of %s: did you mean %sm (%s MiB)?", value, value, min, value, value)
}

// UnexposedPort warns about a published port that nothing inside listens on:
// the image's service listens on exposed, not on the port asked for.
func UnexposedPort(image string, hostPort, containerPort int, exposed []int) string {
	ex := make([]string, len(exposed))
	for i, p := range exposed {
		ex[i] = strconv.Itoa(p)
	}
	return fmt.Sprintf("warning: -p %d:%d publishes port %d inside, but %s listens on %s: nothing will answer (did you mean -p %d:%d?)",
		hostPort, containerPort, containerPort, image, strings.Join(ex, ", "), hostPort, exposed[0])
}

// PortHolder is who holds a host port: another glassbox sandbox (Sandbox
// set), or a process.
type PortHolder struct {
	Sandbox string
	PID     int
	Command string
}

// PortTaken says that a host port is taken, and by whom: "port 8000 is
// taken by glassbox sandbox \"alpha\"", "… by PID 4242 (python3)".
func PortTaken(port int, h PortHolder) string {
	who := "another program"
	switch {
	case h.Sandbox != "":
		who = "glassbox sandbox " + strconv.Quote(h.Sandbox)
	case h.PID > 0 && h.Command != "":
		who = fmt.Sprintf("PID %d (%s)", h.PID, h.Command)
	case h.PID > 0:
		who = fmt.Sprintf("PID %d", h.PID)
	}
	return fmt.Sprintf("port %d is taken by %s", port, who)
}

// PortInstead ends PortTaken for the default sandbox, which goes on with
// another port.
func PortInstead(port int) string {
	return fmt.Sprintf(": publishing the calculator on port %d instead (--port N picks one)", port)
}

// PortGiveAnother ends PortTaken for a port the user chose.
func PortGiveAnother() string { return ": give another with --port N" }

// PortOfStoppedSandbox ends PortTaken for a stopped sandbox whose port was
// taken meanwhile.
func PortOfStoppedSandbox(name string) string {
	return fmt.Sprintf(", which the stopped sandbox %q publishes: stop it, or glassbox rm %s (then glassbox starts %s afresh on a free port)", name, name, name)
}

// DockerOnlyVerbs are docker's verbs glassbox does not have (UnknownVerb
// says what it offers instead of each).
func DockerOnlyVerbs() []string {
	out := make([]string, 0, len(dockerOnly))
	for v := range dockerOnly {
		out = append(out, v)
	}
	return out
}

// argsShapes are the parser's complaints about a verb's arguments, each
// with its wording: m holds the figures the complaint gives. Compiled the
// first time one is worded, as flagShapes.
var argsShapes = sync.OnceValue(func() []argsShape {
	return []argsShape{
		{regexp.MustCompile(`^requires at least (\d+) arg\(s\), only received \d+$`),
			func(m []string) string { return "needs at least " + arguments(m[1]) }},
		{regexp.MustCompile(`^accepts (\d+) arg\(s\), received (\d+)$`),
			func(m []string) string { return "takes " + arguments(m[1]) + ", not " + m[2] }},
		{regexp.MustCompile(`^accepts at most (\d+) arg\(s\), received (\d+)$`),
			func(m []string) string { return "takes at most " + arguments(m[1]) + ", not " + m[2] }},
		{regexp.MustCompile(`^accepts between (\d+) and (\d+) arg\(s\), received (\d+)$`),
			func(m []string) string { return "takes " + m[1] + " to " + m[2] + " arguments, not " + m[3] }},
		{regexp.MustCompile(`^unknown command "(.*)" for "[^"]*"$`),
			func(m []string) string { return "takes no arguments, yet was given " + strconv.Quote(m[1]) }},
	}
})

type argsShape struct {
	re   *regexp.Regexp
	word func(m []string) string
}

// ArgsError words the parser's complaint about a verb's arguments — too
// few, too many, one where none is taken — with the verb's usage, as
// docker's '"docker start" requires at least 1 argument' does: "rm needs
// at least 1 argument: glassbox rm NAME...". ok is false for any other
// error.
func ArgsError(verb, usage, msg string) (string, bool) {
	for _, a := range argsShapes() {
		if m := a.re.FindStringSubmatch(msg); m != nil {
			return verb + " " + a.word(m) + ": glassbox " + usage, true
		}
	}
	return "", false
}

// arguments is "1 argument", "2 arguments": n as the parser gave it.
func arguments(n string) string {
	if n == "1" {
		return "1 argument"
	}
	return n + " arguments"
}
