package lifecycle

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLogOptions(t *testing.T) {
	for _, c := range []struct {
		opts []string
		want LogConfig
		err  string
	}{
		{nil, LogConfig{}, ""},
		{[]string{"max-size=10m"}, LogConfig{MaxSize: 10 << 20}, ""},
		{[]string{"max-size=10m,max-file=3"}, LogConfig{MaxSize: 10 << 20, MaxFiles: 3}, ""},
		{[]string{"max-file=1", "max-size=64k"}, LogConfig{MaxSize: 64 << 10, MaxFiles: 1}, ""},
		{[]string{"max-size=1k"}, LogConfig{}, "at least 4KiB"},
		{[]string{"max-size=lots"}, LogConfig{}, "max-size=lots"},
		{[]string{"max-file=0"}, LogConfig{}, "≥ 1"},
		{[]string{"max-file=2.5"}, LogConfig{}, "whole number"},
		{[]string{"compress=true"}, LogConfig{}, "unknown option"},
		{[]string{"max-size"}, LogConfig{}, "KEY=VALUE"},
	} {
		var got LogConfig
		var err error
		for _, o := range c.opts {
			if err = got.Apply(o); err != nil {
				break
			}
		}
		if c.err == "" && (err != nil || got != c.want) {
			t.Errorf("%q: %+v, %v; want %+v", c.opts, got, err, c.want)
		}
		if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%q: error %v, want one saying %q", c.opts, err, c.err)
		}
	}
	if s := (LogConfig{}).String(); s != "max-size=20MiB,max-file=5" {
		t.Errorf("the default reads %q", s)
	}
}

// numbered writes lines "line 0" … "line n-1" to the sink's stdout, a
// batch at a time.
func numbered(sink *logSink, from, n, batch int) {
	w := sink.stream("stdout")
	var b bytes.Buffer
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
		if (i-from+1)%batch == 0 || i == from+n-1 {
			w.Write(b.Bytes())
			b.Reset()
		}
	}
}

// readNumbers reads the log back and returns the numbers of its lines.
func readNumbers(t *testing.T, path string, opts LogOptions, done func() bool) []int {
	t.Helper()
	out := &lineCounter{}
	if err := readLog(context.Background(), path, opts, out, done); err != nil {
		t.Fatal(err)
	}
	return out.numbers(t)
}

// consecutive: nums is from, from+1, …, to.
func consecutive(nums []int, from, to int) bool {
	if len(nums) != to-from+1 {
		return false
	}
	for i, n := range nums {
		if n != from+i {
			return false
		}
	}
	return true
}

// Issue 16, bug 7: the log stays within max-file files of max-size, keeps
// the newest lines, and reads back in order across its files.
func TestLogRotationKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, logFile)
	cfg := LogConfig{MaxSize: 4 << 10, MaxFiles: 3}
	sink, err := openLog(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const total = 5000
	numbered(sink, 0, total, 7)
	sink.Close()

	files := logFiles(path)
	if len(files) != 3 {
		t.Errorf("%d files, want 3: %v", len(files), files)
	}
	var kept int64
	for _, f := range files {
		fi, _ := os.Stat(f)
		kept += fi.Size()
		if fi.Size() > cfg.MaxSize {
			t.Errorf("%s is %d bytes, over max-size %d", f, fi.Size(), cfg.MaxSize)
		}
	}
	all := readNumbers(t, path, LogOptions{Tail: -1}, nil)
	if len(all) == 0 || all[len(all)-1] != total-1 || !consecutive(all, all[0], total-1) {
		t.Fatalf("read back %d lines from %d to %d, not the newest in order", len(all), all[0], all[len(all)-1])
	}
	t.Logf("kept %d of %d lines in %d bytes", len(all), total, kept)
	tail := readNumbers(t, path, LogOptions{Tail: 5}, nil)
	if !consecutive(tail, total-5, total-1) {
		t.Errorf("tail 5: %v", tail)
	}
	// A tail longer than the newest file reaches into the rotated ones.
	long := readNumbers(t, path, LogOptions{Tail: len(all) - 3}, nil)
	if !consecutive(long, all[3], total-1) {
		t.Errorf("tail %d: from %d to %d (%d lines)", len(all)-3, long[0], long[len(long)-1], len(long))
	}
	// With one file kept, the file is emptied in place.
	one := filepath.Join(dir, "one.json")
	sink, _ = openLog(one, LogConfig{MaxSize: 4 << 10, MaxFiles: 1})
	numbered(sink, 0, 2000, 7)
	sink.Close()
	if files := logFiles(one); len(files) != 1 {
		t.Errorf("max-file=1 left %v", files)
	}
	if got := readNumbers(t, one, LogOptions{Tail: -1}, nil); got[len(got)-1] != 1999 {
		t.Errorf("max-file=1 lost the newest lines: ends at %d", got[len(got)-1])
	}
}

// logs -f follows the log across rotations: every line once, in order.
// With max-file=3 the writer waits for the follower to have read each batch
// before it writes the next (a 4 KiB file fills in about two batches, so
// the follower moves to the renamed file's successor again and again): on
// a loaded machine a follower that falls three files behind loses lines,
// as docker's does, and that is not what this test is about.
func TestLogFollowAcrossRotations(t *testing.T) {
	for _, files := range []int{3, 1} {
		path := filepath.Join(t.TempDir(), logFile)
		sink, err := openLog(path, LogConfig{MaxSize: 4 << 10, MaxFiles: files})
		if err != nil {
			t.Fatal(err)
		}
		writing := make(chan struct{})
		const total = 900
		out := &lineCounter{}
		go func() {
			defer close(writing)
			// 30 lines (~2.4 KB) per batch.
			for i := 0; i < total; i += 30 {
				numbered(sink, i, 30, 30)
				if files == 1 {
					// Emptied in place: the follower may miss what comes
					// between two of its looks, whatever the pace.
					time.Sleep(60 * time.Millisecond)
					continue
				}
				for deadline := time.Now().Add(30 * time.Second); out.lines.Load() < int64(i+30); time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Errorf("the follower stopped at line %d of %d", out.lines.Load(), i+30)
						return
					}
				}
			}
		}()
		done := func() bool {
			select {
			case <-writing:
				return true
			default:
				return false
			}
		}
		if err := readLog(context.Background(), path, LogOptions{Follow: true, Tail: -1}, out, done); err != nil {
			t.Fatal(err)
		}
		sink.Close()
		got := out.numbers(t)
		if files == 1 {
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Fatalf("max-file=1: %d after %d", got[i], got[i-1])
				}
			}
			continue
		}
		if !consecutive(got, 0, total-1) {
			t.Errorf("followed %d lines (%v…%v), want 0…%d once each in order", len(got), got[:min(3, len(got))], got[max(0, len(got)-3):], total-1)
		}
	}
}

// lineCounter keeps what a follower wrote, and counts its lines for a
// writer that waits on it.
type lineCounter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines atomic.Int64
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines.Add(int64(bytes.Count(p, []byte("\n"))))
	return c.buf.Write(p)
}

func (c *lineCounter) numbers(t *testing.T) []int {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var nums []int
	for _, l := range strings.Split(strings.TrimSpace(c.buf.String()), "\n") {
		n, err := strconv.Atoi(strings.TrimPrefix(l, "line "))
		if err != nil {
			t.Fatalf("read back %q", l)
		}
		nums = append(nums, n)
	}
	return nums
}

// logs --tail reads the end of the log, not all of it (issue 16: 1.8 s
// for --tail 5 of a 129 MB log). The bytes this process reads are counted
// by the kernel (/proc/self/io rchar).
func TestLogTailReadsFromTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), logFile)
	sink, err := openLog(path, LogConfig{MaxSize: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	numbered(sink, 0, 1_000_000, 1000) // ~60 MB
	sink.Close()
	fi, _ := os.Stat(path)
	before := readChars(t)
	tail := readNumbers(t, path, LogOptions{Tail: 5}, nil)
	read := readChars(t) - before
	if !consecutive(tail, 999_995, 999_999) {
		t.Errorf("tail 5: %v", tail)
	}
	if read > 1<<20 {
		t.Errorf("--tail 5 of a %d-byte log read %d bytes", fi.Size(), read)
	}
	t.Logf("--tail 5 of a %d MB log read %d KB", fi.Size()>>20, read>>10)
}

func readChars(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatal("no rchar in /proc/self/io")
	return 0
}
