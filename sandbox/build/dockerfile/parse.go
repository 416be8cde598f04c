// Package dockerfile reads the subset of the Dockerfile language that
// glassbox build runs: FROM, RUN, COPY, ADD, ENV, ARG, WORKDIR, EXPOSE,
// USER, LABEL, CMD, ENTRYPOINT and HEALTHCHECK, with comments, line
// continuations, parser directives and ${VAR} substitution where docker
// does it. Anything else is an error naming the file and line.
package dockerfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
)

// Instruction is one instruction of a Dockerfile.
type Instruction struct {
	Line int    // where it starts (1-based)
	Cmd  string // upper case: "RUN", "COPY", …
	// Flags are the --name=value options before the arguments, in order.
	Flags []Flag
	// Args is the rest of the line, continuations joined with a space.
	Args string
	// JSON is the exec form's list when Args is a JSON array of strings
	// (RUN, CMD, ENTRYPOINT, COPY, ADD, HEALTHCHECK CMD).
	JSON []string
	// IsJSON says Args is in exec form.
	IsJSON bool
}

// Flag is one --name=value option.
type Flag struct{ Name, Value string }

// String is the instruction as a build step shows it: "COPY app.py /app/".
func (in *Instruction) String() string {
	var b strings.Builder
	b.WriteString(in.Cmd)
	for _, f := range in.Flags {
		b.WriteString(" --" + f.Name + "=" + f.Value)
	}
	if in.Args != "" {
		b.WriteString(" " + in.Args)
	}
	return b.String()
}

// Flag returns the value of a flag and whether it was given.
func (in *Instruction) Flag(name string) (string, bool) {
	for _, f := range in.Flags {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// File is a parsed Dockerfile.
type File struct {
	Name         string
	Instructions []*Instruction
	// Notes are things said about the file that are not errors, e.g. a
	// "# syntax=" directive that glassbox ignores.
	Notes []string
	// Escape is the escape character (\ unless "# escape=`").
	Escape byte
}

// Error is a problem with a Dockerfile, at a line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Supported are the instructions glassbox build runs.
var Supported = []string{"FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "WORKDIR", "EXPOSE", "USER", "LABEL", "CMD", "ENTRYPOINT", "HEALTHCHECK"}

// known are docker's other instructions, refused with a word on why.
var known = map[string]string{
	"VOLUME":     "volumes are not supported",
	"SHELL":      "RUN steps always use /bin/sh -c",
	"STOPSIGNAL": "stop signals other than SIGTERM are not supported",
	"ONBUILD":    "ONBUILD triggers are not supported",
	"MAINTAINER": "deprecated by docker; use LABEL maintainer=…",
}

// MaxSize bounds a Dockerfile: one larger is refused rather than read.
const MaxSize = 4 << 20

// Parse reads a Dockerfile. name is used in errors ("Dockerfile:3: …").
func Parse(name string, r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error()}
	}
	if len(data) > MaxSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("larger than %d MiB", MaxSize>>20)}
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &Error{File: name, Msg: "not a text file (it holds NUL bytes)"}
	}
	f := &File{Name: name}
	escape := byte('\\')
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), MaxSize+1)
	lineNo := 0
	directives := true
	var cur *strings.Builder
	start := 0
	flush := func() error {
		if cur == nil {
			return nil
		}
		text := strings.TrimSpace(cur.String())
		cur = nil
		if text == "" {
			return nil
		}
		in, err := parseInstruction(text)
		if err != nil {
			return &Error{File: name, Line: start, Msg: err.Error()}
		}
		in.Line = start
		f.Instructions = append(f.Instructions, in)
		return nil
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), "\r")
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		trimmed := strings.TrimLeftFunc(line, unicode.IsSpace)
		if strings.HasPrefix(trimmed, "#") {
			if directives && cur == nil {
				if k, v, ok := directive(trimmed); ok {
					switch k {
					case "escape":
						if v != "\\" && v != "`" {
							return nil, &Error{File: name, Line: lineNo, Msg: fmt.Sprintf("invalid escape directive %q: it must be \\ or `", v)}
						}
						escape = v[0]
					case "syntax":
						f.Notes = append(f.Notes, fmt.Sprintf("%s:%d: # syntax=%s ignored: glassbox has one built-in Dockerfile parser", name, lineNo, v))
					default:
						f.Notes = append(f.Notes, fmt.Sprintf("%s:%d: parser directive %q ignored", name, lineNo, k))
					}
					continue
				}
			}
			directives = false
			continue // a comment, also inside a continued instruction
		}
		directives = false
		if cur == nil {
			if trimmed == "" {
				continue
			}
			cur = &strings.Builder{}
			start = lineNo
		} else if trimmed == "" {
			continue // an empty line inside a continued instruction
		}
		body, continued := cutContinuation(line, escape)
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(strings.TrimSpace(body))
		if !continued {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{File: name, Line: lineNo, Msg: err.Error()}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	f.Escape = escape
	if len(f.Instructions) == 0 {
		return nil, &Error{File: name, Msg: "the Dockerfile is empty: it needs at least a FROM"}
	}
	if first := f.Instructions[0]; first.Cmd != "FROM" && first.Cmd != "ARG" {
		return nil, &Error{File: name, Line: first.Line, Msg: fmt.Sprintf("%s before FROM: a Dockerfile starts with FROM (only ARG may come before it)", first.Cmd)}
	}
	froms := 0
	for _, in := range f.Instructions {
		if in.Cmd == "FROM" {
			froms++
			if froms > 1 {
				return nil, &Error{File: name, Line: in.Line, Msg: "a second FROM: multi-stage builds are not supported"}
			}
		} else if froms == 0 && in.Cmd != "ARG" {
			return nil, &Error{File: name, Line: in.Line, Msg: in.Cmd + " before FROM"}
		}
	}
	if froms == 0 {
		return nil, &Error{File: name, Msg: "no FROM instruction"}
	}
	return f, nil
}

// directive reads "# key=value" at the top of the file.
func directive(line string) (string, string, bool) {
	body := strings.TrimSpace(strings.TrimPrefix(line, "#"))
	k, v, ok := strings.Cut(body, "=")
	k = strings.ToLower(strings.TrimSpace(k))
	if !ok || k == "" || strings.ContainsFunc(k, unicode.IsSpace) {
		return "", "", false
	}
	return k, strings.TrimSpace(v), true
}

// cutContinuation strips a trailing escape character (line continues).
func cutContinuation(line string, escape byte) (string, bool) {
	t := strings.TrimRightFunc(line, unicode.IsSpace)
	if len(t) > 0 && t[len(t)-1] == escape {
		return t[:len(t)-1], true
	}
	return line, false
}

func parseInstruction(text string) (*Instruction, error) {
	var word, rest string
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		word, rest = text[:i], text[i+1:]
	} else {
		word, rest = text, ""
	}
	in := &Instruction{Cmd: strings.ToUpper(word)}
	rest = strings.TrimSpace(rest)
	if !slices.Contains(Supported, in.Cmd) {
		if why, ok := known[in.Cmd]; ok {
			return nil, fmt.Errorf("%s is not supported by glassbox build: %s", in.Cmd, why)
		}
		return nil, fmt.Errorf("unknown instruction %s (glassbox build knows %s)", word, strings.Join(Supported, ", "))
	}
	// Options: --name=value words before the arguments.
	for strings.HasPrefix(rest, "--") {
		var opt string
		if i := strings.IndexFunc(rest, unicode.IsSpace); i >= 0 {
			opt, rest = rest[:i], strings.TrimSpace(rest[i+1:])
		} else {
			opt, rest = rest, ""
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(opt, "--"), "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%s: option %s needs a value (--%s=VALUE)", in.Cmd, opt, strings.TrimPrefix(opt, "--"))
		}
		in.Flags = append(in.Flags, Flag{Name: name, Value: value})
	}
	in.Args = rest
	if err := checkFlags(in); err != nil {
		return nil, err
	}
	switch in.Cmd {
	case "RUN", "CMD", "ENTRYPOINT", "COPY", "ADD":
		in.JSON, in.IsJSON = jsonForm(rest)
	case "HEALTHCHECK":
		if k, r, _ := strings.Cut(rest, " "); strings.EqualFold(k, "CMD") {
			in.JSON, in.IsJSON = jsonForm(strings.TrimSpace(r))
		}
	}
	if in.Args == "" && in.Cmd != "HEALTHCHECK" {
		return nil, fmt.Errorf("%s needs arguments", in.Cmd)
	}
	return in, nil
}

// flagsOf are the options each instruction accepts.
var flagsOf = map[string][]string{
	"COPY":        {"chown"},
	"ADD":         {"chown"},
	"HEALTHCHECK": {"interval", "timeout", "start-period", "retries"},
}

func checkFlags(in *Instruction) error {
	for _, f := range in.Flags {
		if !slices.Contains(flagsOf[in.Cmd], f.Name) {
			why := ""
			switch {
			case f.Name == "from":
				why = ": multi-stage builds are not supported"
			case f.Name == "platform":
				why = ": glassbox builds for this machine only"
			case in.Cmd == "RUN":
				why = ": RUN takes no options here (the network is chosen with glassbox build --network)"
			}
			return fmt.Errorf("%s: unknown option --%s%s", in.Cmd, f.Name, why)
		}
	}
	return nil
}

// jsonForm parses the exec form ["a", "b"].
func jsonForm(s string) ([]string, bool) {
	if !strings.HasPrefix(s, "[") {
		return nil, false
	}
	var list []string
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, false // docker too takes a malformed list as shell form
	}
	return list, true
}
