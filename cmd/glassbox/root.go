package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"glassbox/sandbox"
	"glassbox/ui/words"
)

// exitError carries a specific exit status out of a verb (e.g. the workload's
// status from `glassbox run`) without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// verbs are registered by each verb's file in its init function (verb),
// so that each verb lives in a file of its own.
var verbs []namedVerb

type namedVerb struct {
	name  string // the command's Name()
	build func() *cobra.Command
}

func verb(name string, build func() *cobra.Command) {
	verbs = append(verbs, namedVerb{name, build})
}

// newRootCmd is the whole command tree: every verb, for help, completion
// and the suggestions for a mistyped verb.
func newRootCmd() *cobra.Command { return newRootCmdFor(nil) }

// newRootCmdFor is the command tree args need: when args start with one
// of the verbs by its name, that verb alone. Every start of the binary
// builds it (each verb, each supervisor), and the whole tree is some forty
// commands with their flags: `glassbox stop NAME` needs one. A line that
// starts otherwise (a flag, help, completion, a mistyped or aliased verb)
// gets the whole tree, and with it cobra's help and suggestions as ever.
func newRootCmdFor(args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "glassbox",
		Short: "A container you can see through",
		Long: `glassbox runs a service in a real Linux sandbox (namespaces, a cgroup with
limits, an overlayfs root stacked from image layers) and shows, live, what
the kernel sees.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("root", "", "state root for images, layers and runtime state (default: $GLASSBOX_ROOT, else /var/lib/glassbox and /run/glassbox)")
	only := -1
	if len(args) > 0 {
		for i, v := range verbs {
			if v.name == args[0] {
				only = i
			}
		}
	}
	for i, v := range verbs {
		if only < 0 || i == only {
			root.AddCommand(v.build())
		}
	}
	defaultVerb(root) // no verb: the live view on the default sandbox (top.go)
	return root
}

func execute(args []string) int { return executeTo(args, os.Stderr) }

// executeTo runs the command line args, printing what went wrong to
// stderr, worded for people; it returns the exit status.
func executeTo(args []string, stderr io.Writer) int {
	root := newRootCmdFor(args)
	if err := checkVerb(root, args); err != nil {
		fmt.Fprintln(stderr, "glassbox:", err)
		return 1
	}
	root.SetArgs(args)
	root.SetFlagErrorFunc(flagError)
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(stderr, "glassbox:", explain(cmd, err))
	return 1
}

// checkVerb refuses a command line whose verb glassbox does not have,
// before any flag is looked at: "glassbox stpo -t 5" is an unknown command,
// not an unknown flag -t. A docker verb glassbox lacks says what glassbox
// offers instead.
func checkVerb(root *cobra.Command, args []string) error {
	root.SuggestionsMinimumDistance = 2
	cur := root
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return nil
		}
		if strings.HasPrefix(a, "-") {
			// A flag: skip its value when it takes one.
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			f := cur.Flags().Lookup(name)
			if f == nil {
				f = cur.PersistentFlags().Lookup(name)
			}
			if f != nil && f.Value.Type() != "bool" {
				i++
			}
			continue
		}
		if cur == root && (a == "help" || a == "completion" || a == cobra.ShellCompRequestCmd || a == cobra.ShellCompNoDescRequestCmd) {
			return nil
		}
		var next *cobra.Command
		for _, c := range cur.Commands() {
			if c.Name() == a || c.HasAlias(a) {
				next = c
			}
		}
		if next == nil {
			cur.SuggestionsMinimumDistance = 2
			return errors.New(words.UnknownVerb(verbOf(cur, ""), a, cur.SuggestionsFor(a)))
		}
		if !next.HasSubCommands() || next.Runnable() {
			return nil // the verb's own arguments follow
		}
		cur = next // a group (image): its verb comes next
	}
	return nil
}

// flagError words what the flag parser refused, naming the verb and, for
// a value it could not read, what the flag is for.
func flagError(cmd *cobra.Command, err error) error {
	usage := func(long, short string) string {
		f := cmd.Flags().Lookup(long)
		if f == nil && short != "" {
			f = cmd.Flags().ShorthandLookup(short)
		}
		if f == nil {
			return ""
		}
		return f.Usage
	}
	return errors.New(words.FlagError(verbOf(cmd, "glassbox"), err.Error(), usage))
}

// verbOf is a command's path without "glassbox" ("stop", "image ls"), or
// root for glassbox itself.
func verbOf(cmd *cobra.Command, root string) string {
	if cmd == nil {
		return root
	}
	if v := strings.TrimSpace(strings.TrimPrefix(cmd.CommandPath(), "glassbox")); v != "" {
		return v
	}
	return root
}

// explain words an error the way a user needs it: without root, whatever
// was refused for want of it says so, the one way.
func explain(cmd *cobra.Command, err error) string {
	if os.Geteuid() != 0 && (errors.Is(err, fs.ErrPermission) || errors.Is(err, sandbox.ErrNotRoot)) {
		return words.NeedsRoot(verbOf(cmd, ""))
	}
	if cmd != nil {
		if s, ok := words.ArgsError(verbOf(cmd, "glassbox"), strings.TrimPrefix(cmd.UseLine(), "glassbox "), err.Error()); ok {
			return s
		}
	}
	return err.Error()
}
