package lifecycle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tcr\rnl\n", "\x00\x01\x1f", "héllo ✓", "bad \xff utf8", "<html>&", "runs \"between\" \xfe\xff escapes ✓\x01 end", "\xe2\x9c"} {
		var e Entry
		data := appendJSONString(nil, []byte(s))
		if err := json.Unmarshal([]byte(`{"line":`+string(data)+`}`), &e); err != nil {
			t.Errorf("%q → %s: not JSON: %v", s, data, err)
			continue
		}
		// encoding/json replaces each byte that is not UTF-8 with U+FFFD.
		var want string
		enc, _ := json.Marshal(s)
		json.Unmarshal(enc, &want)
		if e.Line != want {
			t.Errorf("%q → %s → %q", s, data, e.Line)
		}
	}
}

func TestLogWriterLinesAndTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), logFile)
	sink, err := openLog(path, LogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	out, errw := sink.stream("stdout"), sink.stream("stderr")
	out.Write([]byte("one\ntw"))
	errw.Write([]byte("oops\r\n"))
	out.Write([]byte("o\nthree\n"))
	out.Write(bytes.Repeat([]byte("x"), maxLine+10))
	out.Flush()
	sink.Close()

	var buf bytes.Buffer
	if err := readLog(context.Background(), path, LogOptions{Tail: -1}, &buf, func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	want := "one\noops\ntwo\nthree\n" + strings.Repeat("x", maxLine) + "\n" + strings.Repeat("x", 10) + "\n"
	if buf.String() != want {
		t.Errorf("log reads back as %q", buf.String())
	}
	buf.Reset()
	readLog(context.Background(), path, LogOptions{Tail: 2}, &buf, func() bool { return true })
	if got := strings.Count(buf.String(), "\n"); got != 2 {
		t.Errorf("tail 2 gave %d lines", got)
	}
	buf.Reset()
	readLog(context.Background(), path, LogOptions{Tail: 1, Timestamps: true}, &buf, func() bool { return true })
	stamp, _, _ := strings.Cut(buf.String(), " ")
	if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil {
		t.Errorf("-t line %q: %v", buf.String(), err)
	}
	// A torn last line (a crash mid-write) is skipped, not an error.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2026-`)
	f.Close()
	buf.Reset()
	if err := readLog(context.Background(), path, LogOptions{Tail: -1}, &buf, func() bool { return true }); err != nil || buf.String() != want {
		t.Errorf("with a torn line: %v %q", err, buf.String())
	}
}

// The supervisor's cost per line of workload output (the calculator logs one
// per request, 64 KiB at a time; the supervisor reads its pipe in 32 KiB
// chunks), with the default rotation (20 MB × 5) and with a small file that
// rotates every few hundred batches, beside its peer: the same chunks
// written as they come to a plain file, the least any log path pays. The
// three take turns, chunk by chunk. cpu%@40k is the share of one core spent
// at 40 000 lines a second (issue 16's load). BenchmarkLogPathBesideDocker
// measures the whole path, beside docker's.
func BenchmarkLogLine(b *testing.B) {
	line := []byte(`{"time":"2026-11-28T15:40:35.051260247Z","level":"INFO","msg":"request","method":"POST","path":"/calculate","status":200,"duration_us":41}` + "\n")
	chunk := bytes.Repeat(line, 32<<10/len(line))
	dir := b.TempDir()
	var writers []io.Writer
	names := []string{"default", "rotating-1MiB", "plain-file"}
	for i, cfg := range []LogConfig{{}, {MaxSize: 1 << 20, MaxFiles: 2}} {
		sub := filepath.Join(dir, fmt.Sprint(i))
		os.Mkdir(sub, 0o700)
		sink, err := openLog(filepath.Join(sub, logFile), cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer sink.Close()
		writers = append(writers, sink.stream("stdout"))
	}
	// Emptied now and then, as the rotation keeps the log's size.
	f, err := os.Create(filepath.Join(dir, "plain"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	writers = append(writers, &truncatingFile{f: f, max: DefaultLogMaxSize})
	spent := make([]time.Duration, len(writers))
	b.SetBytes(int64(len(chunk) * len(writers)))
	b.ReportAllocs()
	for b.Loop() {
		for i, w := range writers {
			start := time.Now()
			w.Write(chunk)
			spent[i] += time.Since(start)
		}
	}
	lines := float64(b.N * bytes.Count(chunk, []byte("\n")))
	for i, name := range names {
		perLine := float64(spent[i].Nanoseconds()) / lines
		b.ReportMetric(perLine, "ns/line-"+name)
		b.ReportMetric(perLine*40000/1e9*100, "cpu%@40k-"+name)
	}
}

// truncatingFile empties its file whenever it reaches max bytes.
type truncatingFile struct {
	f    *os.File
	size int64
	max  int64
}

func (t *truncatingFile) Write(p []byte) (int, error) {
	if t.size+int64(len(p)) > t.max {
		t.f.Truncate(0)
		t.f.Seek(0, io.SeekStart)
		t.size = 0
	}
	n, err := t.f.Write(p)
	t.size += int64(n)
	return n, err
}

// logs is the workload's output alone; the supervisor's notes (the
// sandbox's events) are read apart, with --tail counting only those asked
// for, whichever way they are interleaved.
func TestLogNotesApartFromOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), logFile)
	sink, err := openLog(path, LogConfig{MaxSize: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	out := sink.stream("stdout")
	for i := range 5000 {
		fmt.Fprintf(out, "line %d\n", i)
		if i%1000 == 999 {
			sink.note("glassbox: note %d", i/1000)
		}
	}
	sink.Close()
	read := func(opts LogOptions) string {
		t.Helper()
		var buf bytes.Buffer
		if err := readLog(context.Background(), path, opts, &buf, func() bool { return true }); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	if all := read(LogOptions{Tail: -1}); strings.Contains(all, "glassbox:") || strings.Count(all, "\n") != 5000 {
		t.Errorf("logs holds %d lines, notes among them: %v", strings.Count(all, "\n"), strings.Contains(all, "glassbox:"))
	}
	if got := read(LogOptions{Tail: 3}); got != "line 4997\nline 4998\nline 4999\n" {
		t.Errorf("tail 3 of the output: %q", got)
	}
	if got := read(LogOptions{Tail: 2, Notes: true}); got != "glassbox: note 3\nglassbox: note 4\n" {
		t.Errorf("tail 2 of the notes: %q", got)
	}
	if got := read(LogOptions{Tail: -1, Notes: true}); strings.Count(got, "\n") != 5 || strings.Contains(got, "line ") {
		t.Errorf("the notes: %q", got)
	}
	var entries []Entry
	emit := func(e Entry) error { entries = append(entries, e); return nil }
	if out := read(LogOptions{Tail: 2, Emit: emit}); out != "" || len(entries) != 2 || entries[1].Line != "line 4999" || entries[1].Stream != "stdout" {
		t.Errorf("Emit got %+v, and %q was written", entries, out)
	}
}
