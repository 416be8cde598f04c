package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"glassbox/inspect"
)

func runGlassbox(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// Inspecting this test's own process works without root: namespaces,
// processes, cgroup, UTS (what needs root — addresses — lands in Errors).
func TestInspectPIDText(t *testing.T) {
	out, err := runGlassbox(t, "inspect", "--sources", "--interval", "0", "--pid", strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Process " + strconv.Itoa(os.Getpid()), "\nNamespaces\n", "\nProcesses", "\nFilesystem", "\nCgroup\n",
		"\nNetwork", "\nUTS and kernel\n", "/proc/" + strconv.Itoa(os.Getpid()) + "/ns/pid", "shared with host"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestInspectPIDJSON(t *testing.T) {
	out, err := runGlassbox(t, "inspect", "--json", "--interval", "0", "--pid", strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	var s inspect.Snapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if s.PID != os.Getpid() || len(s.Namespaces) == 0 || s.Sandbox != nil || s.UTS.KernelRelease == "" {
		t.Errorf("snapshot: %+v", s)
	}
	again, _ := json.Marshal(&s)
	var back inspect.Snapshot
	if err := json.Unmarshal(again, &back); err != nil || back.PID != s.PID || len(back.Processes) != len(s.Processes) {
		t.Errorf("round trip: %v", err)
	}
}

func TestInspectErrors(t *testing.T) {
	t.Setenv("GLASSBOX_ROOT", t.TempDir())
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "no-such-sandbox"}, "no such sandbox"},
		{[]string{"inspect", "--pid", "999999999"}, "no process with PID 999999999"},
		{[]string{"inspect", "--pid", "-3"}, "positive"},
		{[]string{"inspect"}, "needs one sandbox NAME"},
		{[]string{"inspect", "--pid", "1", "web"}, "not both"},
		{[]string{"inspect", "--interval", "-1s", "web"}, "negative"},
	}
	for _, tt := range tests {
		_, err := runGlassbox(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
		// execute turns any such error into exit status 1
	}
	if code := execute([]string{"inspect", "--pid", "999999999"}); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
}
