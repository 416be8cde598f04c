package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
	"glassbox/ui"
	"glassbox/ui/replay"
)

// capture is one frame of the live view, as tmux shows it, and when.
type capture struct {
	at   time.Time
	text string
}

// TestRecordReplayOOMUnprivileged records 30 s of the live view, as root,
// on a calculator pushed past its memory limit (m until the OOM killer
// strikes), capturing the terminal as it goes; then replays the recording
// as an unprivileged user (setpriv --reuid=65534): the frames at the
// moments captured are the same, and the OOM banner appears at the moment
// it did live. A file cut short or damaged is refused with a clear error.
func TestRecordReplayOOMUnprivileged(t *testing.T) {
	c := sandboxtest.NewCLI(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatal("this test replays as nobody with setpriv (util-linux)")
	}
	sb := c.StartCalculator("--memory", "64m")
	// nobody must reach the binary and the recording.
	dir, err := os.MkdirTemp("", "glassbox-test-replay-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "glassbox")
	copyFile(t, c.Bin, bin, 0o755)
	file := filepath.Join(dir, "session.jsonl.zst")

	tm := sandboxtest.NewTmux(t)
	tm.Start("top", fmt.Sprintf("GLASSBOX_ROOT=%s NO_COLOR=1 %s top --record %s %s; echo TOP-ENDED; sleep 60",
		filepath.Dir(c.Roots.Run), bin, file, sb.Name))
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(tm.Pane("top"), "Resources") {
		if time.Now().After(deadline) {
			t.Fatalf("the live view did not start:\n%s", tm.Pane("top"))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Capture the terminal every 250 ms for 30 s; from 5 s on, press m
	// every 1.5 s until the banner shows.
	var caps []capture
	start := time.Now()
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
			at := time.Now()
			text := tm.Pane("top")
			mu.Lock()
			caps = append(caps, capture{at: at, text: text})
			mu.Unlock()
		}
	}()
	for time.Since(start) < 30*time.Second {
		mu.Lock()
		banner := len(caps) > 0 && strings.Contains(caps[len(caps)-1].text, "OOM KILLED")
		mu.Unlock()
		if time.Since(start) > 5*time.Second && !banner {
			tm.Keys("top", "m")
		}
		time.Sleep(1500 * time.Millisecond)
	}
	close(stop)
	<-done
	tm.Keys("top", "q")
	for !strings.Contains(tm.Pane("top"), "TOP-ENDED") {
		if time.Since(start) > 60*time.Second {
			t.Fatalf("top did not end:\n%s", tm.Pane("top"))
		}
		time.Sleep(50 * time.Millisecond)
	}

	rec, err := replay.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %s, %d entries, %d frames captured", replay.Clock(rec.Length()), len(rec.Entries), len(caps))
	if rec.Header.Host.Kernel == "" || rec.Header.Host.CgroupMode == "" || rec.Header.Version == "" {
		t.Errorf("the header lacks the host's facts: %+v", rec.Header)
	}

	// The same frames: at each moment captured while nothing was arriving
	// (no entry in the 300 ms before it: the terminal had drawn the last
	// one), the replay, run by nobody, draws what the terminal showed.
	quiet := func(at time.Time) bool {
		for _, e := range rec.Entries {
			if !e.At.Before(at.Add(-300*time.Millisecond)) && !e.At.After(at.Add(50*time.Millisecond)) {
				return false
			}
		}
		return true
	}
	compared, mismatched := 0, 0
	for i, cp := range caps {
		if !quiet(cp.at) || i%2 == 1 {
			continue
		}
		compared++
		got := replayAs(t, bin, file, cp.at.Sub(rec.Start()), false)
		if trimLines(got) != trimLines(cp.text) {
			mismatched++
			if mismatched <= 2 {
				t.Errorf("at %s the replay differs from the live view:\nlive:\n%s\nreplay:\n%s",
					cp.at.Sub(rec.Start()), cp.text, got)
			}
		}
	}
	if compared < 10 {
		t.Errorf("only %d quiet moments to compare", compared)
	}
	t.Logf("%d frames compared, %d differ", compared, mismatched)

	// The banner's moment: the first capture with it, the one before
	// without; the replay shows it from the recorded event on.
	first := -1
	for i, cp := range caps {
		if strings.Contains(cp.text, "OOM KILLED") {
			first = i
			break
		}
	}
	if first <= 0 {
		t.Fatalf("the live view never showed the OOM banner")
	}
	var oomAt time.Time
	for _, e := range rec.Entries {
		if (e.OOM != nil && e.OOM.Event.Killed) || (e.Round != nil && oomInRound(e)) {
			oomAt = e.At
			break
		}
	}
	if oomAt.IsZero() {
		t.Fatalf("the recording has no OOM kill")
	}
	if oomAt.Before(caps[first-1].at.Add(-50*time.Millisecond)) || oomAt.After(caps[first].at) {
		t.Errorf("the OOM was recorded at %s, the live banner appeared between %s and %s",
			oomAt.Sub(rec.Start()), caps[first-1].at.Sub(rec.Start()), caps[first].at.Sub(rec.Start()))
	}
	d := oomAt.Sub(rec.Start())
	if f := replayAs(t, bin, file, d-time.Millisecond, false); strings.Contains(f, "OOM KILLED") {
		t.Errorf("the replay shows the banner before the kill (%s):\n%s", d, f)
	}
	if f := replayAs(t, bin, file, d, false); !strings.Contains(f, "OOM KILLED: "+sb.Name+" hit its 64 MiB memory limit") {
		t.Errorf("the replay shows no banner at the kill (%s):\n%s", d, f)
		for _, e := range rec.Entries {
			if e.At.Sub(oomAt).Abs() < 2*time.Second {
				b, _ := json.Marshal(e)
				t.Logf("%s %.300s", e.At.Sub(rec.Start()), b)
			}
		}
	}

	// A file cut short, or damaged, is refused, saying so.
	b, _ := os.ReadFile(file)
	cut := filepath.Join(dir, "cut.jsonl.zst")
	os.WriteFile(cut, b[:len(b)/2], 0o644)
	if out := replayAs(t, bin, cut, 0, true); !strings.Contains(out, "cut short") || !strings.Contains(out, cut) {
		t.Errorf("a truncated recording: %s", out)
	}
	bad := filepath.Join(dir, "bad.jsonl.zst")
	damaged := append([]byte(nil), b...)
	for i := len(b) / 2; i < len(b)/2+64 && i < len(b); i++ {
		damaged[i] ^= 0xff
	}
	os.WriteFile(bad, damaged, 0o644)
	if out := replayAs(t, bin, bad, 0, true); !strings.Contains(out, "damaged") && !strings.Contains(out, "cut short") {
		t.Errorf("a damaged recording: %s", out)
	}
}

// replayAs runs glassbox replay --once as nobody and returns the frame (or,
// failing, the error it printed).
func replayAs(t *testing.T, bin, file string, at time.Duration, fail bool) string {
	t.Helper()
	// --at takes whole milliseconds: round up, so that the frame includes
	// an entry recorded within the millisecond asked for.
	ms := (at + time.Millisecond - 1).Milliseconds()
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
		bin, "replay", "--once", "--at", fmt.Sprintf("%dms", ms), "--width", "120", "--height", "40", file)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/", "NO_COLOR=1"}
	out, err := cmd.CombinedOutput()
	if fail {
		if err == nil {
			t.Errorf("replay of %s did not fail", file)
		}
		return string(out)
	}
	if err != nil {
		t.Fatalf("replay --once --at %s as nobody: %v\n%s", at, err, out)
	}
	s := strings.TrimRight(string(out), "\n")
	if i := strings.LastIndex(s, "\nglassbox replay --at "); i >= 0 {
		s = s[:i] // the line that says what the frame is
	}
	return s
}

func oomInRound(e ui.Entry) bool {
	for _, s := range e.Round.Snaps {
		if s.Sandbox != nil && s.Sandbox.Exit != nil && s.Sandbox.Exit.OOMKilled {
			return true
		}
	}
	return false
}

func trimLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n "), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
