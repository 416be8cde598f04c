package main

import (
	"bytes"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestTopRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"top", "--interval", "50ms"}, "--interval 50ms is too short: at least 100ms"},
		{[]string{"top", "--interval", "0s", "--once"}, "too short"},
		{[]string{"--interval", "10ms"}, "too short"},
		{[]string{"top", "--interval", "soon"}, "invalid argument"},
	} {
		_, err := runCLI(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("glassbox %s: error %v, want one saying %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
