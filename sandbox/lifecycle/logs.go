package lifecycle

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"glassbox/sandbox/state"
)

// The workload's log is a file of JSON lines in the sandbox's state
// directory, one per line of output, each stamped when the supervisor read
// it (docker's json-file driver keeps the same three things):
//
//	{"time":"2026-11-28T15:04:05.123456789Z","stream":"stdout","line":"..."}
const logFile = "log.json"

// Entry is one line of the workload's output.
type Entry struct {
	Time   time.Time `json:"time"`
	Stream string    `json:"stream"` // "stdout" or "stderr"
	Line   string    `json:"line"`
}

// maxLine is where a line without a newline is cut, so that a workload
// writing megabytes without one cannot make the supervisor hold them all.
const maxLine = 16 << 10

// logSink appends entries to the log file; both streams share it. When
// the file reaches cfg.MaxSize it is rotated (logrotate.go).
type logSink struct {
	mu   sync.Mutex
	path string
	cfg  LogConfig
	f    *os.File // nil until open
	size int64    // of f
	now  func() time.Time
	buf  []byte
	// pending are the entries written before open: the supervisor opens
	// its log while the first start's init builds the root, and the
	// workload may speak first.
	pending []byte
}

// newLog returns a sink on path that keeps what it is given in memory
// until open.
func newLog(path string, cfg LogConfig) *logSink {
	return &logSink{path: path, cfg: cfg.withDefaults(), now: time.Now}
}

func openLog(path string, cfg LogConfig) (*logSink, error) {
	s := newLog(path, cfg)
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

// open opens (or creates) the log file and writes what came before.
func (s *logSink) open() error {
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log %s: %w", s.path, err)
	}
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f, s.size = f, size
	s.flush(s.pending)
	s.pending = nil
	return nil
}

func (s *logSink) write(stream, line string) {
	s.writeLines(stream, [][]byte{[]byte(line)})
}

// writeLines appends one entry per line with a single write: a busy
// workload logs a line per request, and the supervisor that stamps them
// shares the CPU with it.
func (s *logSink) writeLines(stream string, lines [][]byte) {
	if len(lines) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Every line of a batch carries the same stamp and stream: format that
	// prefix once. The prefix stays at the front of buf, the entries
	// follow it.
	buf := append(s.buf[:0], `{"time":"`...)
	buf = s.now().UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","stream":"`...)
	buf = append(buf, stream...)
	buf = append(buf, `","line":`...)
	prefix := len(buf)
	start := prefix // buf[start:] is not written yet
	for _, l := range lines {
		entry := len(buf)
		buf = append(buf, buf[:prefix]...)
		buf = appendJSONString(buf, l)
		buf = append(buf, "}\n"...)
		// An entry that would take the file past max-size starts the next
		// file (one pipe read holds up to 64 KiB of short lines, several
		// times that as JSON): the newest entry is never rotated away.
		if s.f != nil && s.size+int64(len(buf)-start) > s.cfg.MaxSize && s.size+int64(entry-start) > 0 {
			s.flush(buf[start:entry])
			s.rotate()
			start = entry
		}
	}
	s.flush(buf[start:])
	if cap(buf) <= 1<<20 {
		s.buf = buf
	}
}

func (s *logSink) flush(entries []byte) {
	switch {
	case len(entries) == 0:
	case s.f == nil:
		s.pending = append(s.pending, entries...)
	default:
		n, _ := s.f.Write(entries)
		s.size += int64(n)
	}
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced (as encoding/json does).
func appendJSONString(buf, s []byte) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0 // s[start:i] needs no escaping and is not yet appended
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size // valid UTF-8 is copied as it is
				continue
			}
		}
		buf = append(buf, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c == '\n':
			buf = append(buf, '\\', 'n')
		case c == '\t':
			buf = append(buf, '\\', 't')
		case c == '\r':
			buf = append(buf, '\\', 'r')
		case c < 0x20:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default: // a byte that is not UTF-8
			buf = append(buf, `\ufffd`...)
		}
		i++
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// Note writes a line of the supervisor's own ("restarting after exit 1"),
// on the stream state.NoteStream: the sandbox's events, kept in time order
// with the workload's lines (glassbox events shows them, logs does not).
func (s *logSink) note(format string, args ...any) {
	s.write(state.NoteStream, fmt.Sprintf(format, args...))
}

func (s *logSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}

// stream returns an io.Writer for one of the workload's streams: it cuts
// what it is given into lines and writes each as an entry.
func (s *logSink) stream(name string) *lineWriter {
	return &lineWriter{sink: s, name: name}
}

type lineWriter struct {
	sink  *logSink
	name  string
	mu    sync.Mutex
	buf   []byte
	lines [][]byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	lines := w.lines[:0]
	rest := w.buf
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, bytes.TrimSuffix(rest[:i], []byte("\r")))
		rest = rest[i+1:]
	}
	for len(rest) >= maxLine {
		lines = append(lines, rest[:maxLine])
		rest = rest[maxLine:]
	}
	w.sink.writeLines(w.name, lines)
	w.lines = lines[:0]
	// Keep the partial line at the front of the buffer, which is reused.
	w.buf = append(w.buf[:0], rest...)
	if cap(w.buf) > 1<<20 {
		w.buf = nil // let a burst's buffer go
	}
	return len(p), nil
}

// Flush writes a last line that had no newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.sink.write(w.name, string(w.buf))
		w.buf = nil
	}
}
