package service

import (
	"bufio"
	"io"
	"log/slog"
	"sync"
	"time"
)

// logSink buffers log lines on their way to stdout. The spec wants one line
// per request; writing each one with its own write(2) would cost more than
// the request itself, so lines collect in a buffer that is flushed when it
// fills, every flushEvery, and at once after lifecycle events.
type logSink struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

const flushEvery = 100 * time.Millisecond

func newLogSink(out io.Writer) *logSink {
	s := &logSink{w: bufio.NewWriterSize(out, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go s.flushLoop()
	return s
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Flush writes out whatever is buffered.
func (s *logSink) Flush() {
	s.mu.Lock()
	s.w.Flush()
	s.mu.Unlock()
}

func (s *logSink) flushLoop() {
	defer close(s.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.Flush()
		case <-s.stop:
			return
		}
	}
}

// Close stops the periodic flush and flushes what is left.
func (s *logSink) Close() {
	close(s.stop)
	<-s.done
	s.Flush()
}

func newLogger(format string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
