package sandbox_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// runBusybox runs a shell script in the built-in busybox image with the
// given flags, in the foreground, and returns its output and exit status.
func runBusybox(t *testing.T, roots state.Roots, flags []string, script string) (string, int) {
	t.Helper()
	args := append(append([]string{"--network", "none"}, flags...), "busybox", "sh", "-c", script)
	r := startRun(t, roots, args...)
	code := r.wait()
	return r.stdout.String() + r.stderr.String(), code
}

// The workload runs under docker's default seccomp profile (mode 2, one
// filter), unless told seccomp=unconfined (mode 0); a profile of one's own
// that denies mkdir makes mkdir fail with EPERM.
func TestSeccompModes(t *testing.T) {
	sandboxtest.AlsoOnCgroupV2(t)
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	status := `grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs):' /proc/self/status | tr '\t' ' '; `
	out, code := runBusybox(t, roots, nil, status+`mkdir /made && echo mkdir=ok; unshare -U true 2>/dev/null || echo unshare=denied`)
	for _, want := range []string{"Seccomp: 2\n", "Seccomp_filters: 1\n", "NoNewPrivs: 1\n", "mkdir=ok", "unshare=denied"} {
		if !strings.Contains(out, want) {
			t.Errorf("default profile: want %q in:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("default profile: exit %d:\n%s", code, out)
	}

	// --init=false: the workload is PID 1 and installs the filter itself.
	out, _ = runBusybox(t, roots, []string{"--init=false"}, status+`echo pid=$$`)
	if !strings.Contains(out, "Seccomp: 2\n") || !strings.Contains(out, "pid=1\n") {
		t.Errorf("--init=false: want the filter on PID 1:\n%s", out)
	}

	out, _ = runBusybox(t, roots, []string{"--security-opt", "seccomp=unconfined"}, status)
	if !strings.Contains(out, "Seccomp: 0\n") || !strings.Contains(out, "Seccomp_filters: 0\n") {
		t.Errorf("seccomp=unconfined: want mode 0 and no filter:\n%s", out)
	}

	profile := filepath.Join(t.TempDir(), "no-mkdir.json")
	if err := os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ = runBusybox(t, roots, []string{"--security-opt", "seccomp=" + profile}, status+`mkdir /made 2>&1; echo mkdir=$?`)
	if !strings.Contains(out, "Seccomp: 2\n") || !strings.Contains(out, "Operation not permitted") || !strings.Contains(out, "mkdir=1") {
		t.Errorf("a profile denying mkdir: want mode 2 and mkdir failing with EPERM:\n%s", out)
	}
	assertNothingLeft(t, roots)
}

func TestCapabilitiesAndReadOnly(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	out, code := runBusybox(t, roots, []string{"--cap-drop", "ALL", "--cap-add", "net_raw", "--cap-add", "CAP_KILL", "--read-only"}, `
		grep -E '^Cap(Eff|Bnd):' /proc/self/status | tr '\t' ' '
		touch /written 2>/dev/null && echo root=writable || echo root=read-only
		touch /tmp/a && echo tmp=writable
		touch /run/a && echo run=writable
		chown 1 /tmp/a 2>/dev/null && echo chown=ok || echo chown=denied`)
	for _, want := range []string{"CapEff: 0000000000002020", "CapBnd: 0000000000002020", "root=read-only", "tmp=writable", "run=writable", "chown=denied"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("exit %d:\n%s", code, out)
	}
	assertNothingLeft(t, roots)
}

// Bad security options are refused before anything exists.
func TestSecurityOptionsRefused(t *testing.T) {
	sandboxtest.RequireRoot(t)
	hostOnly(t, "flag and profile validation, before anything exists")
	roots := sandboxtest.TempRoots(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--privileged"}, "--privileged is not offered"},
		{[]string{"--cap-add", "NET_ADMINN"}, "no such capability"},
		{[]string{"--cap-drop", "bogus"}, "--cap-drop bogus"},
		{[]string{"--security-opt", "seccomp=" + filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"--security-opt", "seccomp=" + write("bad.json", `{"defaultAction":`)}, "not a seccomp profile"},
		{[]string{"--security-opt", "seccomp=" + write("typo.json", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdri"],"action":"SCMP_ACT_ERRNO"}]}`)}, `unknown system call "mkdri"`},
		{[]string{"--security-opt", "seccomp=" + write("action.json", `{"defaultAction":"SCMP_ACT_NOPE"}`)}, `unknown action "SCMP_ACT_NOPE"`},
		{[]string{"--security-opt", "apparmor=unconfined"}, "not offered"},
		{[]string{"--security-opt", "no-new-privileges=false"}, "always sets no_new_privs"},
		{[]string{"-d", "--security-opt", "seccomp=" + write("bad2.json", `[]`)}, "not a seccomp profile"},
	} {
		r := startRun(t, roots, append(tc.flags, "busybox", "true")...)
		code := r.wait()
		if code == 0 || !strings.Contains(r.stderr.String(), tc.want) {
			t.Errorf("run %v: exit %d, stderr %q; want a failure saying %q", tc.flags, code, r.stderr.String(), tc.want)
		}
	}
	assertNothingLeft(t, roots)
	// no-new-privileges is accepted: it is always on.
	if out, code := runBusybox(t, roots, []string{"--security-opt", "no-new-privileges"}, "true"); code != 0 {
		t.Errorf("--security-opt no-new-privileges: exit %d: %s", code, out)
	}
}

// The supervisor of a detached sandbox gets the same settings (and a
// restart would too: they travel in its spec).
func TestSecurityDetached(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)
	out, err := exec.Command(bin, "run", "-d", "--network", "none", "--name", "sec-d", "--read-only",
		"--cap-drop", "CHOWN", "--security-opt", "seccomp=unconfined", "busybox", "sleep", "60").CombinedOutput()
	if err != nil {
		t.Fatalf("run -d: %v: %s", err, out)
	}
	defer func() {
		exec.Command(bin, "rm", "-f", "sec-d").Run()
		assertNothingLeft(t, roots)
	}()
	sb, err := state.NewStore(roots).Resolve("sec-d")
	if err != nil {
		t.Fatal(err)
	}
	if got := statusField(t, sb.WorkloadPID, "Seccomp"); got != "0" {
		t.Errorf("Seccomp of the detached workload: %s, want 0", got)
	}
	if got := statusField(t, sb.WorkloadPID, "CapEff"); got != "00000000a80425fa" {
		t.Errorf("CapEff of the detached workload: %s, want the default set less CAP_CHOWN", got)
	}
	// inspect shows it, from the workload's /proc/PID/status.
	text, err := exec.Command(bin, "inspect", "--sources", "sec-d").CombinedOutput()
	if err != nil {
		t.Fatalf("inspect: %v: %s", err, text)
	}
	for _, want := range []string{fmt.Sprintf("Security (PID %d)  (/proc/%d/status)", sb.WorkloadPID, sb.WorkloadPID),
		"seccomp: none (mode 0)", "profile: none (--security-opt seccomp=unconfined)", "root filesystem: read-only", "no_new_privs: set"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("inspect lacks %q:\n%s", want, text)
		}
	}
	js, err := exec.Command(bin, "inspect", "--json", "sec-d").Output()
	if err != nil {
		t.Fatalf("inspect --json: %v", err)
	}
	var snap struct {
		Processes []struct {
			HostPID        int `json:"host_pid"`
			Seccomp        int `json:"seccomp"`
			SeccompFilters int `json:"seccomp_filters"`
		} `json:"processes"`
	}
	if err := json.Unmarshal(js, &snap); err != nil {
		t.Fatal(err)
	}
	for _, p := range snap.Processes {
		if p.HostPID == sb.WorkloadPID && (p.Seccomp != 0 || p.SeccompFilters != 0) {
			t.Errorf("inspect --json: the workload's seccomp %d/%d, want 0/0", p.Seccomp, p.SeccompFilters)
		}
	}
	sec := sb.Security
	if !sec.ReadOnly || sec.Seccomp != "unconfined" || slices.Contains(sec.Caps, "CAP_CHOWN") || !slices.Contains(sec.Caps, "CAP_KILL") {
		t.Errorf("the record's security: %+v", sec)
	}
}

// Once the workload has started, the init keeps CAP_KILL alone (bounding
// set too) with no_new_privs, and still passes a stop's SIGTERM to a
// workload of another user, which needs that capability.
func TestInitKeepsOnlyKill(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	bin := sandboxtest.Binary(t)
	out, err := exec.Command(bin, "run", "-d", "--network", "none", "--name", "init-kill", "--user", "1000",
		"busybox", "sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.1; done").CombinedOutput()
	if err != nil {
		t.Fatalf("run -d: %v: %s", err, out)
	}
	defer func() {
		exec.Command(bin, "rm", "-f", "init-kill").Run()
		assertNothingLeft(t, roots)
	}()
	store := state.NewStore(roots)
	sb, err := store.Resolve("init-kill")
	if err != nil {
		t.Fatal(err)
	}
	if sb.InitPID == sb.WorkloadPID {
		t.Fatalf("the init is the workload (PID %d): run without glassbox's init", sb.InitPID)
	}
	for key, want := range map[string]string{"CapEff": "0000000000000020", "CapPrm": "0000000000000020",
		"CapBnd": "0000000000000020", "CapInh": "0000000000000000", "NoNewPrivs": "1"} {
		if got := statusField(t, sb.InitPID, key); got != want {
			t.Errorf("%s of the init: %s, want %s", key, got, want)
		}
	}
	if got := statusField(t, sb.WorkloadPID, "Uid"); !strings.HasPrefix(got, "1000") {
		t.Fatalf("the workload's Uid: %q, want 1000", got)
	}
	// The shell's trap is set once SigCgt has SIGTERM's bit (15 → 1<<14).
	deadline := time.Now().Add(10 * time.Second)
	for {
		mask, _ := strconv.ParseUint(statusField(t, sb.WorkloadPID, "SigCgt"), 16, 64)
		if mask&(1<<14) != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the workload never set its trap on SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out, err := exec.Command(bin, "stop", "-t", "10", "init-kill").CombinedOutput(); err != nil {
		t.Fatalf("stop: %v: %s", err, out)
	}
	if sb, err = store.Resolve("init-kill"); err != nil {
		t.Fatal(err)
	}
	if sb.Status != state.Exited || sb.Exit == nil || sb.Exit.Code != 7 {
		t.Errorf("after stop: %s, %v; want exited with the trap's 7 (the init passed SIGTERM on)", sb.Status, sb.Exit)
	}
}
