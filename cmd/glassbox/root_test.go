package main

import (
	"bytes"
	"testing"

	"github.com/spf13/cobra"
)

// A command line that starts with a verb builds that verb alone: each is
// registered under the name cobra finds it by.
func TestVerbsAreRegisteredByTheirNames(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range verbs {
		if got := v.build().Name(); got != v.name {
			t.Errorf("the verb registered as %q is %q", v.name, got)
		}
		if seen[v.name] {
			t.Errorf("%q is registered twice", v.name)
		}
		seen[v.name] = true
	}
}

// What a verb says about itself is the same whether the tree holds it
// alone or with every other verb.
func TestOneVerbsTreeHelpsAsTheWholeTree(t *testing.T) {
	help := func(root *cobra.Command, args ...string) string {
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	for _, v := range verbs {
		args := []string{v.name, "--help"}
		only := newRootCmdFor(args)
		if n := len(only.Commands()); n != 1 {
			t.Errorf("the tree for %v has %d verbs, want 1", args, n)
		}
		if got, want := help(only, args...), help(newRootCmd(), args...); got != want {
			t.Errorf("glassbox %s --help alone says\n%s\nwith every verb\n%s", v.name, got, want)
		}
	}
}
