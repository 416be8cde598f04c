package sandbox_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"glassbox/sandbox"
	"glassbox/sandbox/sandboxtest"
	"glassbox/sandbox/state"
)

// usersLayer is a layer over busybox whose /etc/passwd and /etc/group
// know a user "app" (1000:1000, also in group staff) with a home.
func usersLayer(t *testing.T, roots state.Roots) []state.Layer {
	t.Helper()
	dir := filepath.Join(roots.Lib, "test-layers", "users")
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\nstaff:x:50:app,other\napp:x:1000:\nnogroup:x:65534:\n",
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "home/app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(dir, "home/app"), 1000, 1000); err != nil {
		t.Fatal(err)
	}
	l := state.Layer{Digest: "test:users", Dir: dir, CreatedBy: "test: users"}
	return append([]state.Layer{l}, busyboxLayers(t, roots)...)
}

// The workload runs as the configured user, resolved against the image's
// own /etc/passwd and /etc/group the way docker resolves it: ids, groups,
// HOME, and the capabilities a non-root user keeps (none, as under docker).
func TestWorkloadRunsAsUser(t *testing.T) {
	sandboxtest.RequireRoot(t)
	sandboxtest.AlsoOnCgroupV2(t)
	roots := sandboxtest.TempRoots(t)
	layers := usersLayer(t, roots)
	script := `echo "uid=$(id -u) gid=$(id -g) groups=$(id -G) home=$HOME"
		grep -h -e CapEff -e CapPrm -e CapInh -e CapBnd /proc/self/status
		touch /tmp/made && stat -c 'owner=%u:%g' /tmp/made
		{ cd ~ && touch mine && echo home=writable; } 2>/dev/null; true`
	for _, c := range []struct {
		user string
		env  []string
		want []string
	}{
		{"", nil, []string{"uid=0 gid=0 groups=0 home=/root", "CapEff:\t00000000a80425fb", "owner=0:0"}},
		{"app", nil, []string{"uid=1000 gid=1000 groups=1000 50 home=/home/app", "CapEff:\t0000000000000000", "CapPrm:\t0000000000000000",
			"CapInh:\t0000000000000000", "CapBnd:\t00000000a80425fb", "owner=1000:1000", "home=writable"}},
		{"1000", nil, []string{"uid=1000 gid=1000 groups=1000 50 home=/home/app"}},
		{"app:staff", nil, []string{"uid=1000 gid=50 groups=50 home=/home/app", "owner=1000:50"}},
		{"nobody", []string{"HOME=/custom"}, []string{"uid=65534 gid=65534 groups=65534 home=/custom", "CapEff:\t0000000000000000"}},
		{"4321:4322", nil, []string{"uid=4321 gid=4322 groups=4322 home=/", "owner=4321:4322"}},
		{"4321", nil, []string{"uid=4321 gid=0 groups=0 home=/"}},
	} {
		cfg := &sandbox.Config{Roots: roots, Image: "users", Layers: layers, User: c.user, Env: c.env}
		out, exit := runShell(t, cfg, script)
		if exit.Code != 0 {
			t.Errorf("user %q: exit %+v; output:\n%s", c.user, exit, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("user %q: want %q in:\n%s", c.user, w, out)
			}
		}
	}
	assertNothingLeft(t, roots)
}

// An unknown user or group is refused before anything is created, in
// docker's words.
func TestUnknownUserCreatesNothing(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	layers := usersLayer(t, roots)
	for user, want := range map[string]string{
		"ghost":      "unable to find user ghost: no matching entries in passwd file",
		"app:ghosts": "unable to find group ghosts: no matching entries in group file",
		":staff":     "invalid user",
		"app:":       "invalid user",
	} {
		cfg := &sandbox.Config{Roots: roots, Image: "users", Layers: layers, User: user, Args: []string{"true"}, InitBinary: sandboxtest.Binary(t)}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("user %q: %v, want %q", user, err, want)
		}
	}
	assertNothingLeft(t, roots)
}

// With a terminal, the workload's terminal is its own; an exec without -u
// runs as the sandbox's user, and with -u as the one named.
func TestUserOwnsTerminalAndExecDefaultsToIt(t *testing.T) {
	sandboxtest.RequireRoot(t)
	sandboxtest.AlsoOnCgroupV2(t)
	roots := sandboxtest.TempRoots(t)
	layers := usersLayer(t, roots)
	var mu sync.Mutex
	var tty bytes.Buffer
	copied := make(chan struct{})
	cfg := &sandbox.Config{
		Roots: roots, Image: "users", Layers: layers, User: "app", TTY: true,
		Args:       []string{"sh", "-c", `stat -c 'tty=%u' /proc/self/fd/0; echo ok > /dev/stdout; exec sleep 100`},
		InitBinary: sandboxtest.Binary(t),
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := sandbox.Start(cfg, sandbox.Stdio{Terminal: func(m *os.File) {
		go func() {
			defer close(copied)
			defer m.Close()
			buf := make([]byte, 1024)
			for {
				n, err := m.Read(buf)
				mu.Lock()
				tty.Write(buf[:n])
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	sb := c.State()
	if sb.User.Spec != "app" || sb.User.UID != 1000 || sb.User.GID != 1000 {
		t.Errorf("the record's user: %+v, want app 1000:1000", sb.User)
	}
	for user, want := range map[string]string{"": "1000 1000", "root": "0 0", "nobody:staff": "65534 50"} {
		var out bytes.Buffer
		r, w, _ := os.Pipe()
		p, err := sandbox.Exec(roots, sb, &sandbox.ExecConfig{Args: []string{"sh", "-c", "echo $(id -u) $(id -g)"}, User: user, Binary: sandboxtest.Binary(t)}, sandbox.Stdio{Out: w, Err: w})
		w.Close()
		if err != nil {
			t.Fatalf("exec -u %q: %v", user, err)
		}
		io.Copy(&out, r)
		r.Close()
		p.Wait()
		if got := strings.TrimSpace(out.String()); got != want {
			t.Errorf("exec -u %q ran as %q, want %q", user, got, want)
		}
	}
	c.Destroy()
	<-copied
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"tty=1000", "ok"} {
		if !strings.Contains(tty.String(), want) {
			t.Errorf("the terminal shows %q, want %q", tty.String(), want)
		}
	}
	assertNothingLeft(t, roots, sb)
}
