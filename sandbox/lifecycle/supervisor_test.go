package lifecycle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// fakeRuntime stands in for sandbox.Start in the supervisor's unit tests:
// each start is a "workload" that prints a line and exits as scripted.
type fakeRuntime struct {
	mu     sync.Mutex
	starts int
	// exits[i] is how start i ends by itself; nil waits for a signal.
	exits []*state.Exit
	// lifetimes[i], when set, is how long start i runs before exits[i].
	lifetimes  []time.Duration
	ignoreTerm bool
	destroyed  int
	// destroyErr, when set, is what Destroy returns.
	destroyErr error
	// releasedAtStart says, for each start, whether the supervisor's
	// word that the last run left nothing (releasedFile) was still there.
	releasedAtStart []bool
}

type fakeContainer struct {
	rt   *fakeRuntime
	mu   sync.Mutex // guards sb, as the runtime's Container does
	sb   state.Sandbox
	once sync.Once
	done chan *state.Exit
	out  io.Writer
}

func (f *fakeRuntime) start(cfg *sandbox.Config, stdout, stderr io.Writer) (container, error) {
	// As sandbox.Start: the caller's bookkeeping runs before the start returns.
	if cfg.Hooks.Meanwhile != nil {
		if err := cfg.Hooks.Meanwhile(); err != nil {
			return nil, err
		}
	}
	_, err := os.Stat(state.NewStore(cfg.Roots).Path(cfg.ID, releasedFile))
	f.mu.Lock()
	n := f.starts
	f.starts++
	f.releasedAtStart = append(f.releasedAtStart, err == nil)
	f.mu.Unlock()
	c := &fakeContainer{rt: f, done: make(chan *state.Exit, 1), out: stdout,
		sb: state.Sandbox{ID: cfg.ID, Name: cfg.Name, Status: state.Running, InitPID: os.Getpid(), Created: time.Now()}}
	fmt.Fprintf(stdout, "hello from start %d\npartial", n)
	fmt.Fprintf(stderr, "warning %d\n", n)
	if n < len(f.exits) && f.exits[n] != nil {
		exit := f.exits[n]
		if n < len(f.lifetimes) && f.lifetimes[n] > 0 {
			time.AfterFunc(f.lifetimes[n], func() { c.end(exit) })
		} else {
			c.end(exit)
		}
	}
	return c, nil
}

func (c *fakeContainer) end(e *state.Exit) {
	c.once.Do(func() {
		e.FinishedAt = time.Now()
		c.mu.Lock()
		c.sb.Exit = e
		c.mu.Unlock()
		c.done <- e
	})
}

func (c *fakeContainer) Wait() (*state.Exit, error) { return <-c.done, nil }
func (c *fakeContainer) Signal(sig syscall.Signal) error {
	switch {
	case sig == syscall.SIGKILL:
		c.end(&state.Exit{Code: 137, Signal: "SIGKILL"})
	case sig == syscall.SIGTERM && !c.rt.ignoreTerm:
		fmt.Fprintln(c.out, "draining")
		c.end(&state.Exit{Code: 0})
	}
	return nil
}
func (c *fakeContainer) Destroy() error {
	c.rt.mu.Lock()
	defer c.rt.mu.Unlock()
	c.rt.destroyed++
	return c.rt.destroyErr
}
func (c *fakeContainer) State() *state.Sandbox {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := c.sb
	return &cp
}

// startFake creates a sandbox record and runs its supervisor in this
// process on the fake runtime; it returns once the sandbox "runs".
func startFake(t *testing.T, rt *fakeRuntime, restart string) (*Engine, string, chan error) {
	t.Helper()
	return startFakeAfter(t, rt, restart, nil)
}

// startFakeAfter is startFake that calls before(e, id) once the record
// exists, before the supervisor starts.
func startFakeAfter(t *testing.T, rt *fakeRuntime, restart string, before func(e *Engine, id string)) (*Engine, string, chan error) {
	t.Helper()
	old := startSandbox
	startSandbox = rt.start
	t.Cleanup(func() { startSandbox = old })
	e := New(state.RootsAt(t.TempDir()))
	policy, err := ParsePolicy(restart)
	if err != nil {
		t.Fatal(err)
	}
	sb, l, err := e.create(&Spec{Name: "calc", Config: &sandbox.Config{Image: "calculator"}, Restart: policy, StopTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release() // as Engine.launch: the supervisor holds on
	if before != nil {
		before(e, sb.ID)
	}
	r, w, _ := os.Pipe()
	done := make(chan error, 1)
	lock := inherit(t, l)
	go func() { done <- Supervise(e.Roots, sb.ID, w, lock) }()
	var m readyMsg
	if err := json.NewDecoder(r).Decode(&m); err != nil || m.Error != "" {
		t.Fatalf("ready: %v %q", err, m.Error)
	}
	r.Close()
	return e, sb.ID, done
}

// inherit is what a supervisor started by Engine.spawn gets with the handoff: a
// second descriptor of the locked file (SCM_RIGHTS dups it the same way).
func inherit(t *testing.T, l *state.Lock) *os.File {
	t.Helper()
	fd, err := unix.Dup(int(l.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), "lock")
}

func waitDone(t *testing.T, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("supervisor: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("supervisor did not finish")
	}
}

func TestSupervisorStopBySIGTERM(t *testing.T) {
	rt := &fakeRuntime{}
	e, _, done := startFake(t, rt, "always")
	sb, err := e.Get("calc")
	if err != nil || sb.Status != state.Running || !sb.Detached {
		t.Fatalf("after start: %+v, %v", sb, err)
	}
	res, err := e.Stop("calc", -1)
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, done)
	if res.Signal != "SIGTERM" || res.Exit == nil || res.Exit.Code != 0 {
		t.Errorf("stop result %+v", res)
	}
	if !strings.HasPrefix(res.String(), "calc: stopped by SIGTERM after ") || !strings.HasSuffix(res.String(), ": Exited (0)") {
		t.Errorf("stop says %q", res.String())
	}
	sb, _ = e.Get("calc")
	if sb.Status != state.Exited || sb.RestartCount != 0 || rt.starts != 1 || rt.destroyed != 1 {
		t.Errorf("after stop: status %s restarts %d starts %d destroyed %d; a stop must not restart", sb.Status, sb.RestartCount, rt.starts, rt.destroyed)
	}
	var out bytes.Buffer
	if err := e.Logs(context.Background(), "calc", LogOptions{Tail: -1}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hello from start 0\n", "warning 0\n", "partialdraining\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	e.Logs(context.Background(), "calc", LogOptions{Tail: 1, Timestamps: true}, &out)
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "T") {
		t.Errorf("tail 1 with timestamps: %q", out.String())
	}
	if err := e.Remove("calc", false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Get("calc"); err == nil {
		t.Error("calc still there after rm")
	}
}

func TestSupervisorStopEscalatesToSIGKILL(t *testing.T) {
	rt := &fakeRuntime{ignoreTerm: true}
	e, _, done := startFake(t, rt, "no")
	res, err := e.Stop("calc", 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, done)
	if res.Signal != "SIGKILL" || res.Exit == nil || res.Exit.Code != 137 {
		t.Errorf("stop result %+v", res)
	}
	if got, want := res.String(), "calc: did not stop within 200ms; killed with SIGKILL"; got != want {
		t.Errorf("stop says %q, want %q", got, want)
	}
}

func TestSupervisorRestartsOnFailure(t *testing.T) {
	oom := &state.Exit{Code: 137, Signal: "SIGKILL", OOMKilled: true}
	rt := &fakeRuntime{exits: []*state.Exit{oom, {Code: 1}, {Code: 1}}}
	e, _, done := startFake(t, rt, "on-failure:2")
	waitDone(t, done) // start, 2 restarts, then the limit
	sb, err := e.Get("calc")
	if err != nil {
		t.Fatal(err)
	}
	if rt.starts != 3 || sb.RestartCount != 2 || sb.Status != state.Exited || sb.Exit.Code != 1 {
		t.Errorf("starts %d, restart count %d, status %s, exit %+v", rt.starts, sb.RestartCount, sb.Status, sb.Exit)
	}
	if rt.destroyed != 3 {
		t.Errorf("destroyed %d of 3 runs", rt.destroyed)
	}
	var out bytes.Buffer
	e.Logs(context.Background(), "calc", LogOptions{Tail: -1, Notes: true}, &out)
	if !strings.Contains(out.String(), "restarting in 100ms after Exited (137, SIGKILL, OOMKilled)") {
		t.Errorf("logs do not tell the restart:\n%s", out.String())
	}
}

// Issue 16, bug 5: quick failures in a row double the wait before each
// restart; a run that lasted backoffReset (docker: 10 s) starts it over.
func TestSupervisorBackoffResetsAfterALongRun(t *testing.T) {
	old := backoffReset
	backoffReset = 500 * time.Millisecond
	t.Cleanup(func() { backoffReset = old })
	fail := func() *state.Exit { return &state.Exit{Code: 1} }
	rt := &fakeRuntime{
		exits:     []*state.Exit{fail(), fail(), fail(), fail(), fail(), {Code: 0}},
		lifetimes: []time.Duration{0, 0, 0, 600 * time.Millisecond, 0, 0},
	}
	e, _, done := startFake(t, rt, "on-failure")
	waitDone(t, done)
	var out bytes.Buffer
	e.Logs(context.Background(), "calc", LogOptions{Tail: -1, Notes: true}, &out)
	var waits []string
	for _, line := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "glassbox: restarting in "); ok {
			waits = append(waits, strings.Fields(rest)[0])
		}
	}
	// Three quick failures climb 100, 200, 400 ms; the fourth run lasted
	// longer than backoffReset, so its restart waits 100 ms again.
	want := []string{"100ms", "200ms", "400ms", "100ms", "200ms"}
	if strings.Join(waits, " ") != strings.Join(want, " ") {
		t.Errorf("waits before the restarts: %v, want %v\n%s", waits, want, out.String())
	}
}

func TestSupervisorKillAndFollow(t *testing.T) {
	rt := &fakeRuntime{}
	e, _, done := startFake(t, rt, "always")
	var out bytes.Buffer
	followed := make(chan error, 1)
	go func() { followed <- e.Logs(context.Background(), "calc", LogOptions{Follow: true, Tail: -1}, &out) }()
	if err := e.Pause("calc"); err == nil {
		t.Error("pause without a cgroup succeeded") // the fake has none: the error must come back
	}
	if err := e.Kill("calc", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDone(t, done)
	select {
	case err := <-followed:
		if err != nil || !strings.Contains(out.String(), "hello from start 0") {
			t.Errorf("follow: %v, %q", err, out.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("logs -f did not end with the sandbox")
	}
	sb, _ := e.Get("calc")
	if sb.Status != state.Exited || sb.Exit.Code != 137 || rt.starts != 1 {
		t.Errorf("after kill: %s %+v, %d starts (kill must not restart)", sb.Status, sb.Exit, rt.starts)
	}
	if err := e.Pause("calc"); err == nil || !strings.Contains(err.Error(), "cannot pause calc: it is exited") {
		t.Errorf("pause of an exited sandbox: %v", err)
	}
}

// A supervisor whose release of the last run succeeded says so
// (releasedFile), and rm then looks for nothing of the run; one whose
// release failed says nothing, and rm releases everything itself. A start
// takes the word back before it creates anything.
func TestSupervisorSaysWhenItReleasedEverything(t *testing.T) {
	for _, tc := range []struct {
		name       string
		destroyErr error
	}{
		{"clean", nil},
		{"failed", errors.New("cgroup busy")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanups := 0
			old := cleanupSandbox
			cleanupSandbox = func(state.Roots, *state.Sandbox) error { cleanups++; return nil }
			t.Cleanup(func() { cleanupSandbox = old })
			rt := &fakeRuntime{destroyErr: tc.destroyErr}
			stale := false
			e, id, done := startFakeAfter(t, rt, "no", func(e *Engine, id string) {
				// A word left by a run before this one.
				stale = os.WriteFile(e.store.Path(id, releasedFile), nil, 0o600) == nil
			})
			if !stale || len(rt.releasedAtStart) != 1 || rt.releasedAtStart[0] {
				t.Fatalf("the start found the last run's word still there (%v; written %v)", rt.releasedAtStart, stale)
			}
			if err := e.Kill("calc", syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			waitDone(t, done)
			if got, want := released(e.store, id), tc.destroyErr == nil; got != want {
				t.Errorf("after the workload's end: released %v, want %v", got, want)
			}
			if err := e.Remove("calc", false); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 0, false: 1}[tc.destroyErr == nil]; cleanups != want {
				t.Errorf("rm cleaned up the run's resources %d times, want %d", cleanups, want)
			}
		})
	}
}
