package main

import (
	"io"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// parsedRun runs the CLI's own parse of args, with run's action replaced:
// the value of each of run's flags as the run would see it, or nil when
// the CLI refuses the line or it is not a run.
func parsedRun(t *testing.T, args []string) map[string]string {
	t.Helper()
	root := newRootCmdFor(args)
	run, _, err := root.Find([]string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	var flags map[string]string
	run.RunE = func(cmd *cobra.Command, _ []string) error {
		flags = map[string]string{}
		cmd.Flags().VisitAll(func(f *pflag.Flag) { flags[f.Name] = f.Value.String() })
		return nil
	}
	if checkVerb(root, args) != nil {
		return nil
	}
	root.SetArgs(args)
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	if _, err := root.ExecuteC(); err != nil {
		return nil
	}
	return flags
}

// --init is a plain switch, as docker's: `run --init IMAGE` runs IMAGE
// with glassbox's init, rather than taking IMAGE for the flag's value.
func TestRunInitTakesNoValue(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--init", "calculator"}, "true"},
		{[]string{"run", "--init", "-d", "calculator"}, "true"},
		{[]string{"run", "--init=false", "calculator"}, "false"},
		{[]string{"run", "calculator"}, "true"},
	} {
		flags := parsedRun(t, c.args)
		if flags == nil {
			t.Errorf("glassbox %v: refused", c.args)
		} else if flags["init"] != c.want {
			t.Errorf("glassbox %v: --init is %s, want %s", c.args, flags["init"], c.want)
		}
	}
}
