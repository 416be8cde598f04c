package sandboxtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The docker this machine has (Debian's docker.io 20.10). /usr/local/bin may
// hold a newer client first on PATH, which speaks an API this daemon lacks:
// the kit always runs these, and pins the API version for other clients.
const (
	DockerdPath      = "/usr/sbin/dockerd"
	DockerPath       = "/usr/bin/docker"
	DockerAPIVersion = "1.41"
	// DockerdLock is held by whoever runs a dockerd on this machine (tests,
	// or a person by hand): at most one at a time, across packages and
	// engineers. It names the running one's state directory.
	DockerdLock = "/run/glassbox-test-dockerd.lock"
)

// Docker is a dockerd started for one test, with all its state in Dir.
type Docker struct {
	Dir              string // the temporary directory holding everything below
	Socket           string // dockerd's API socket
	Host             string // "unix://" + Socket, for DOCKER_HOST
	DataRoot         string // --data-root: images, containers, volumes
	ExecRoot         string // --exec-root: runtime state, its containerd's
	ContainerdSocket string // the containerd dockerd runs (namespace "moby")
	Log              string // dockerd's and its containerd's output

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd ends
	before *hostState
	lock   *os.File
	// ownsLock: the clean-up lets go of the lock (a test of the kit itself
	// holds it across, to see the host before and after).
	ownsLock bool

	stopOnce sync.Once
	stopErr  error
}

// Dockerd starts a dockerd for the test, the way a host runs it: iptables on
// (so it turns on br_netfilter's call into iptables, enables ip_forward and
// sets the FORWARD policy to DROP, as it does when it finds ip_forward off,
// which is the case on a machine that boots with docker), its own containerd,
// its state, sockets and pidfile in a temporary directory. It holds
// DockerdLock for its lifetime (waiting for another holder to finish). The
// test's clean-up, on pass and on fail, removes every container, stops
// dockerd and its containerd, removes docker0 and puts the host's iptables
// and nftables rules, sysctls and br_netfilter back the way they were.
//
// It needs root (skips without it) and docker.io (fails when it is missing
// under GLASSBOX_TEST_STRICT=1, skips otherwise). A test process killed before
// its clean-up leaves a record in the lock file; the next Dockerd cleans up
// after it first.
func Dockerd(t testing.TB) *Docker {
	t.Helper()
	RequireRoot(t)
	for _, p := range []string{DockerdPath, DockerPath, "containerd", "runc", "iptables"} {
		if _, err := exec.LookPath(p); err != nil {
			Missing(t, p, "apt-get install docker.io")
		}
	}
	lock, err := lockDockerd(t)
	if err != nil {
		t.Fatalf("dockerd lock: %v", err)
	}
	return startDockerd(t, &Docker{lock: lock, ownsLock: true})
}

// startDockerd starts d's dockerd under the lock d holds (and lets go of
// it when done if d.ownsLock).
func startDockerd(t testing.TB, d *Docker) *Docker {
	t.Helper()
	if err := d.start(); err != nil {
		d.stop()
		t.Fatalf("start dockerd: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dockerd's log ends:\n%s", tail(d.Log, 30))
		}
		if err := d.stop(); err != nil {
			t.Errorf("stop dockerd and restore the host: %v", err)
		}
	})
	return d
}

// WithoutDockerd holds DockerdLock for the rest of the test, for a test
// that reads or changes the host's iptables rules: no test's dockerd
// changes them, or puts them back as they were, meanwhile.
func WithoutDockerd(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	lock, err := lockDockerd(t)
	if err != nil {
		t.Fatalf("dockerd lock: %v", err)
	}
	t.Cleanup(func() { lock.Close() })
}

// lockDockerd takes DockerdLock, and cleans up after a previous holder that
// died with a dockerd still running.
func lockDockerd(t testing.TB) (*os.File, error) {
	f, err := os.OpenFile(DockerdLock, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Logf("waiting for %s (another dockerd runs: %s)", DockerdLock, strings.TrimSpace(readString(DockerdLock)))
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
			f.Close()
			return nil, err
		}
	}
	cleanUpAfterPrevious(t, f)
	return f, nil
}

// cleanUpAfterPrevious, for the holder of DockerdLock (f), cleans up after
// a previous holder that died with a dockerd running, from the record it
// left in the lock file.
func cleanUpAfterPrevious(t testing.TB, f *os.File) {
	dir := strings.TrimSpace(readString(DockerdLock))
	if dir == "" {
		return
	}
	t.Logf("a previous test died with its dockerd in %s running: cleaning up after it", dir)
	stale := &Docker{}
	stale.setDir(dir)
	if b, err := loadHostState(filepath.Join(dir, "host-state.json")); err == nil {
		stale.before = b
	}
	if err := stale.teardown(); err != nil {
		t.Logf("cleaning up after the previous dockerd: %v", err)
	}
	// Done with: a holder that runs no dockerd of its own
	// (WithoutDockerd) must not leave the record to the next one.
	f.Truncate(0)
}

func (d *Docker) setDir(dir string) {
	d.Dir = dir
	d.Socket = filepath.Join(dir, "docker.sock")
	d.Host = "unix://" + d.Socket
	d.DataRoot = filepath.Join(dir, "data")
	d.ExecRoot = filepath.Join(dir, "exec")
	d.ContainerdSocket = filepath.Join(d.ExecRoot, "containerd", "containerd.sock")
	d.Log = filepath.Join(dir, "dockerd.log")
}

func (d *Docker) start() error {
	dir, err := os.MkdirTemp("", kitDirPrefix)
	if err != nil {
		return err
	}
	d.setDir(dir)
	// The record first: from here on, a test killed at any point leaves
	// what the next Dockerd needs to clean up.
	if err := d.lock.Truncate(0); err != nil {
		return err
	}
	if _, err := d.lock.WriteAt([]byte(dir+"\n"), 0); err != nil {
		return err
	}
	if d.before, err = recordHostState(); err != nil {
		return err
	}
	if err := d.before.save(filepath.Join(dir, "host-state.json")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o644); err != nil {
		return err
	}
	// dockerd sets FORWARD to DROP only when it is the one that turns
	// ip_forward on, as at boot; restore puts the recorded value back.
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("0"), 0o644); err != nil {
		return err
	}
	watchSignals(d)
	if err := d.launch(); err != nil {
		return err
	}
	out, err := exec.Command("iptables", "-S", "FORWARD").Output()
	if policy, _, _ := strings.Cut(string(out), "\n"); err != nil || policy != "-P FORWARD DROP" {
		return fmt.Errorf("dockerd did not set the FORWARD policy to DROP (iptables -S FORWARD: %q, %v)", policy, err)
	}
	return nil
}

// launch runs dockerd and waits until its API answers.
func (d *Docker) launch() error {
	logf, err := os.OpenFile(d.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	d.cmd = exec.Command(DockerdPath,
		"--config-file", filepath.Join(d.Dir, "daemon.json"),
		"--data-root", d.DataRoot, "--exec-root", d.ExecRoot,
		"--pidfile", filepath.Join(d.Dir, "dockerd.pid"),
		"--host", d.Host)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	// A temporary directory in the kit's: dockerd starts its containerd
	// with its own environment, and when containerd is slow to stop,
	// dockerd sends it SIGUSR1 before the kill, for a goroutine dump that
	// containerd writes to $TMPDIR/containerd.PID.stacks.log. It goes
	// with the kit's directory, not into the host's /tmp.
	tmp := filepath.Join(d.Dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	d.cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	// Its own process group: a ^C to the test does not reach it before the
	// clean-up does.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	d.exited = exited
	go func(c *exec.Cmd) { c.Wait(); close(exited) }(d.cmd)
	client := d.HTTPClient()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get("http://docker/_ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("dockerd exited (%v); its log ends:\n%s", d.cmd.ProcessState, tail(d.Log, 20))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dockerd's API did not answer within 60 s (%v); its log ends:\n%s", err, tail(d.Log, 20))
		}
	}
}

// HTTPClient speaks to dockerd's API socket; use http://docker/v1.41/... URLs.
func (d *Docker) HTTPClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dialer net.Dialer
			return dialer.DialContext(ctx, "unix", d.Socket)
		},
	}}
}

// Env is the environment for a docker client aimed at this dockerd.
func (d *Docker) Env() []string {
	return []string{"DOCKER_HOST=" + d.Host, "DOCKER_API_VERSION=" + DockerAPIVersion,
		"DOCKER_CONFIG=" + filepath.Join(d.Dir, "client")}
}

// Command is the docker CLI (DockerPath) aimed at this dockerd.
func (d *Docker) Command(args ...string) *exec.Cmd {
	cmd := exec.Command(DockerPath, args...)
	cmd.Env = append(os.Environ(), d.Env()...)
	return cmd
}

// Run runs the docker CLI and returns its trimmed output; it fails the test
// on an error, with the output.
func (d *Docker) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.Command(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Restart stops dockerd and starts it again on the same state, as
// `systemctl restart docker` would: it re-applies its iptables rules on the
// way up.
func (d *Docker) Restart(t testing.TB) {
	t.Helper()
	if err := d.stopDaemon(); err != nil {
		t.Fatalf("stop dockerd: %v", err)
	}
	if err := d.launch(); err != nil {
		t.Fatalf("restart dockerd: %v", err)
	}
}

// stop removes the containers, stops dockerd and cleans up after it; it
// releases the lock.
func (d *Docker) stop() error {
	d.stopOnce.Do(func() { d.stopErr = d.stopNow() })
	return d.stopErr
}

func (d *Docker) stopNow() error {
	unwatchSignals(d)
	var errs []error
	if d.cmd != nil && d.cmd.Process != nil {
		select {
		case <-d.exited:
		default:
			errs = append(errs, d.removeContainers())
		}
	}
	errs = append(errs, d.teardown())
	return errors.Join(errs...)
}

func (d *Docker) removeContainers() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ids, err := exec.CommandContext(ctx, DockerPath, "--host", d.Host, "ps", "-aq").Output()
	if err != nil {
		return fmt.Errorf("docker ps -aq: %w", err)
	}
	if f := strings.Fields(string(ids)); len(f) > 0 {
		args := append([]string{"--host", d.Host, "rm", "-f", "-v"}, f...)
		if out, err := exec.CommandContext(ctx, DockerPath, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("docker rm -f: %v: %s", err, out)
		}
	}
	// User-defined networks leave their bridges behind when dockerd stops.
	if out, err := exec.CommandContext(ctx, DockerPath, "--host", d.Host, "network", "prune", "-f").CombinedOutput(); err != nil {
		return fmt.Errorf("docker network prune: %v: %s", err, out)
	}
	return nil
}

// stopDaemon ends dockerd (SIGTERM; SIGKILL after 30 s), then its
// containerd if it outlived it.
func (d *Docker) stopDaemon() error {
	var errs []error
	if d.cmd != nil && d.cmd.Process != nil {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(30 * time.Second):
			errs = append(errs, errors.New("dockerd did not exit within 30 s of SIGTERM: killed"))
			d.cmd.Process.Kill()
			<-d.exited
		}
	} else if pid := readPid(filepath.Join(d.Dir, "dockerd.pid")); pid > 0 && alive(pid) {
		// A previous test's: nobody waits for its containers, and what
		// it leaves (shims, container processes, mounts) teardown removes.
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if pid := readPid(filepath.Join(d.ExecRoot, "containerd", "containerd.pid")); pid > 0 {
		terminate(pid, 10*time.Second)
	}
	return errors.Join(errs...)
}

// teardown ends every process of this dockerd, unmounts what it left and
// restores the host; then it removes the directory and releases the lock.
func (d *Docker) teardown() error {
	if !isKitDir(d.Dir) {
		d.releaseLock()
		return fmt.Errorf("%q is not a state directory of this kit: left alone", d.Dir)
	}
	errs := []error{d.stopDaemon()}
	// Container shims (and whatever a killed dockerd left) name the state
	// directory on their command line; the containers' processes live in
	// docker's cgroups, which restore removes with them.
	for _, pid := range processesMentioning(d.Dir) {
		terminate(pid, 5*time.Second)
	}
	// Without a record of the host from before (a test killed before it
	// saved one, so before its dockerd ran), a docker cgroup is not this
	// kit's to remove: it may hold the host's own docker's containers.
	for _, parent := range dockerCgroupParents() {
		if d.before != nil && !d.before.Paths[parent] {
			errs = append(errs, removeCgroupTree(parent))
		}
	}
	errs = append(errs, unmountBelow(d.Dir))
	if d.before != nil {
		errs = append(errs, d.before.restore())
	}
	if err := os.RemoveAll(d.Dir); err != nil {
		errs = append(errs, err)
	}
	d.releaseLock()
	return errors.Join(errs...)
}

func (d *Docker) releaseLock() {
	if d.lock != nil {
		d.lock.Truncate(0)
		if d.ownsLock {
			d.lock.Close() // releases the flock
		}
		d.lock = nil
	}
}

// kitDirPrefix starts the name of every state directory Dockerd makes.
