// Package replay writes and reads recordings of the live view (glassbox top
// --record, learn --record) and plays them back: the same screen, on the
// recorded data, without root and on any OS Go builds for — its import
// graph holds nothing Linux-only (deps_test.go builds it for darwin and
// windows).
//
// A recording is JSON lines, compressed with zstd (or gzip, for a name
// ending in .gz): a header (the glassbox version and the host's facts),
// then one ui.Entry per line, in the order the screen took them in.
package replay

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"glassbox/ui"
)

// Format is the recording format's version, the header's first field.
const Format = 1

// Header opens a recording.
type Header struct {
	Format   int           `json:"glassbox_recording"`
	Version  string        `json:"version"`
	Commit   string        `json:"commit,omitempty"`
	Command  string        `json:"command"` // what was recorded: "top", "learn --chapter 3"
	Started  time.Time     `json:"started"`
	Interval time.Duration `json:"interval_ns"`
	StressMB int           `json:"stress_mb"`
	Host     Host          `json:"host"`
}

// Host is the machine a session was recorded on.
type Host struct {
	Kernel     string `json:"kernel"`
	Hostname   string `json:"hostname"`
	CgroupMode string `json:"cgroup_mode"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPUs       int    `json:"cpus"`
}

// Writer writes a recording as the screen takes messages in.
type Writer struct {
	f   *os.File
	z   io.WriteCloser
	buf *bufio.Writer
	mu  sync.Mutex
	err error
}

// Create starts a recording in path (zstd, or gzip when it ends in .gz).
// It refuses to overwrite a file that is not a recording.
func Create(path string, h Header) (*Writer, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 && !isRecording(path) {
		return nil, fmt.Errorf("%s exists and is not a recording: not overwriting it", path)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("record to %s: %w", path, err)
	}
	w := &Writer{f: f}
	if strings.HasSuffix(path, ".gz") {
		w.z = gzip.NewWriter(f)
	} else if w.z, err = zstd.NewWriter(f, zstd.WithEncoderLevel(zstd.SpeedDefault)); err != nil {
		f.Close()
		return nil, err
	}
	w.buf = bufio.NewWriterSize(w.z, 64<<10)
	h.Format = Format
	w.line(h)
	return w, w.err
}

func (w *Writer) line(v any) {
	if w.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err == nil {
		b = append(b, '\n')
		_, err = w.buf.Write(b)
	}
	w.err = err
}

// Write adds one entry (ui.Options.Record). An error is kept for Close.
func (w *Writer) Write(e ui.Entry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.line(e)
}

// Close ends the recording, saying whether all of it was written.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range []func() error{w.buf.Flush, w.z.Close, w.f.Close} {
		if err := c(); err != nil && w.err == nil {
			w.err = err
		}
	}
	if w.err != nil {
		return fmt.Errorf("write the recording %s: %w", w.f.Name(), w.err)
	}
	return nil
}

// isRecording says whether path starts as a recording does.
func isRecording(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	d, err := decompress(f)
	if err != nil {
		return false
	}
	defer d.Close()
	line, _ := bufio.NewReader(d).ReadBytes('\n')
	var h Header
	return json.Unmarshal(line, &h) == nil && h.Format > 0
}

// Recording is a recording read whole.
type Recording struct {
	Header  Header
	Entries []ui.Entry
}

// Start is when the session began; End when its last entry came.
func (r *Recording) Start() time.Time { return r.Header.Started }

func (r *Recording) End() time.Time {
	if n := len(r.Entries); n > 0 {
		return r.Entries[n-1].At
	}
	return r.Header.Started
}

// Length is how long the session lasted.
func (r *Recording) Length() time.Duration { return r.End().Sub(r.Start()) }

// Open reads a recording. A file that is not one, is damaged or was cut
// short is refused with an error that says which, and where.
func Open(path string) (*Recording, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// ErrNotRecording says a file is not a glassbox recording at all.
var ErrNotRecording = errors.New("not a glassbox recording (glassbox top --record FILE makes one)")

// Read reads a recording from rd.
func Read(rd io.Reader) (*Recording, error) {
	plain, err := decompress(rd)
	if err != nil {
		return nil, err
	}
	defer plain.Close()
	br := bufio.NewReaderSize(plain, 1<<20)
	rec := &Recording{}
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && len(line) == 0 {
				if n == 1 {
					return nil, fmt.Errorf("empty: %w", ErrNotRecording)
				}
				return rec, nil
			}
			// Every line ends with a newline: a line without one, or a
			// stream that fails, is where the file was cut or damaged.
			return nil, broken(rec, n, err)
		}
		if n == 1 {
			if err := json.Unmarshal(line, &rec.Header); err != nil || rec.Header.Format == 0 {
				return nil, ErrNotRecording
			}
			if rec.Header.Format > Format {
				return nil, fmt.Errorf("a recording of format %d, newer than this glassbox reads (%d): replay it with glassbox %s or later",
					rec.Header.Format, Format, rec.Header.Version)
			}
			continue
		}
		var e ui.Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("damaged at line %d (%s into the session): %v", n, at(rec), err)
		}
		rec.Entries = append(rec.Entries, e)
	}
}

// broken words where and how a recording ends before its end.
func broken(rec *Recording, n int, err error) error {
	where := fmt.Sprintf("at line %d (%s into the session)", n, at(rec))
	if n == 1 {
		where = "before its first line"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("cut short %s: the file ends in the middle of the recording (was glassbox killed while recording, or the file copied in part?)", where)
	}
	return fmt.Errorf("damaged %s: its compressed data is corrupt (%v)", where, err)
}

// at is how far into the session a recording read so far reaches.
func at(r *Recording) string {
	return Clock(r.End().Sub(r.Start()))
}

// decompress picks the decompressor by the stream's first bytes.
func decompress(rd io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReader(rd)
	magic, err := br.Peek(4)
	if err != nil && len(magic) == 0 {
		return nil, fmt.Errorf("empty: %w", ErrNotRecording)
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		d, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		g, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("a damaged gzip stream: %w", err)
		}
		return g, nil
	case bytes.HasPrefix(magic, []byte("{")):
		return io.NopCloser(br), nil
	}
	return nil, ErrNotRecording
}

// Clock formats an offset into a session as mm:ss (h:mm:ss past an hour).
func Clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// ParseClock reads an offset: "00:42", "1:02:03", "42s", "1m30s".
func ParseClock(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("%q is not a time into the session: use mm:ss, h:mm:ss or a duration (42s)", s)
	}
	var d time.Duration
	for _, p := range parts {
		var n int
		if _, err := fmt.Sscanf(p, "%d", &n); err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a time into the session: use mm:ss, h:mm:ss or a duration (42s)", s)
		}
		d = d*60 + time.Duration(n)*time.Second
	}
	return d, nil
}
