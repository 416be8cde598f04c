package replay

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"glassbox/ui"
)

var t0 = time.Date(2026, 11, 28, 15, 4, 5, 0, time.UTC)

// record writes a small recording to path and returns its entries.
func record(t *testing.T, path string) []ui.Entry {
	t.Helper()
	w, err := Create(path, Header{Version: "test", Command: "glassbox top", Started: t0, Interval: time.Second,
		Host: Host{Kernel: "6.1.0", CgroupMode: "v2", OS: "linux"}})
	if err != nil {
		t.Fatal(err)
	}
	var es []ui.Entry
	for i := range 50 {
		e := ui.Entry{At: t0.Add(time.Duration(i) * time.Second), Key: &ui.KeyEntry{Type: -1, Runes: "tab"}}
		if i%2 == 0 {
			e = ui.Entry{At: t0.Add(time.Duration(i) * time.Second), Size: &ui.Size{Width: 100, Height: 30}}
		}
		w.Write(e)
		es = append(es, e)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return es
}

// What is written is read back, zstd or gzip.
func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"s.jsonl.zst", "s.jsonl.gz"} {
		path := filepath.Join(t.TempDir(), name)
		want := record(t, path)
		rec, err := Open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rec.Header.Version != "test" || rec.Header.Host.Kernel != "6.1.0" || rec.Header.Format != Format {
			t.Errorf("%s: header %+v", name, rec.Header)
		}
		if len(rec.Entries) != len(want) || rec.Length() != 49*time.Second {
			t.Errorf("%s: %d entries over %s, want %d over 49s", name, len(rec.Entries), rec.Length(), len(want))
		}
	}
}

// A file that is not a recording, is damaged or was cut short is refused
// with an error that says which.
func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.zst")
	record(t, good)
	b, _ := os.ReadFile(good)
	gz := filepath.Join(dir, "good.gz")
	record(t, gz)
	bgz, _ := os.ReadFile(gz)
	damaged := bytes.Clone(b)
	for i := len(damaged) / 3; i < len(damaged)/3+40; i++ {
		damaged[i] ^= 0x5a
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a glassbox recording"},
		{"text", []byte("hello\n"), "not a glassbox recording"},
		{"other json", []byte(`{"a":1}` + "\n"), "not a glassbox recording"},
		{"truncated zstd", b[:len(b)*2/3], "cut short"},
		{"truncated gzip", bgz[:len(bgz)*2/3], "cut short"},
		{"damaged zstd", damaged, ""},
		{"newer format", []byte(`{"glassbox_recording":99,"version":"9.0"}` + "\n"), "newer than this glassbox reads"},
		{"damaged line", []byte(`{"glassbox_recording":1,"started":"2026-11-28T15:04:05Z"}` + "\n{\"t\":\n"), "damaged at line 2"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		if err == nil {
			t.Errorf("%s: read as a recording", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v; want an error naming the file and saying %q", c.name, err, c.want)
		}
		t.Logf("%s: %v", c.name, err)
	}
	if _, err := Open(filepath.Join(dir, "text")); !errors.Is(err, ErrNotRecording) {
		t.Errorf("a text file: %v, want ErrNotRecording", err)
	}
}

// Recording over a file that is not a recording is refused.
func TestCreateKeepsOtherFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(path, []byte("my notes\n"), 0o644)
	if _, err := Create(path, Header{}); err == nil || !strings.Contains(err.Error(), "not overwriting") {
		t.Errorf("Create over a text file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "my notes\n" {
		t.Errorf("the file was changed: %q", b)
	}
}

func TestClock(t *testing.T) {
	for in, want := range map[string]time.Duration{"00:42": 42 * time.Second, "1:02:03": time.Hour + 2*time.Minute + 3*time.Second,
		"42s": 42 * time.Second, "1m30s": 90 * time.Second} {
		got, err := ParseClock(in)
		if err != nil || got != want {
			t.Errorf("ParseClock(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "soon", "1:2:3:4", "-5s", "a:b"} {
		if _, err := ParseClock(bad); err == nil {
			t.Errorf("ParseClock(%q) took it", bad)
		}
	}
	if Clock(62*time.Second) != "01:02" || Clock(3723*time.Second) != "1:02:03" {
		t.Errorf("Clock: %s %s", Clock(62*time.Second), Clock(3723*time.Second))
	}
}
