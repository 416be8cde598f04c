package lifecycle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"glassbox/sandbox/state"
)

// LogOptions are `glassbox logs`' flags (and `glassbox events`').
type LogOptions struct {
	Follow     bool // keep printing new lines until the sandbox exits
	Tail       int  // only the last N lines; < 0 means all
	Timestamps bool // prefix each line with its time (RFC 3339, nanoseconds)
	// Notes reads the supervisor's own notes (state.NoteStream: the
	// sandbox's events) instead of the workload's output.
	Notes bool
	// Emit, when set, is given each entry instead of its text being
	// written (the live view's log reads entries, not text).
	Emit func(Entry) error
}

// wants says whether an entry is one the options ask for: the workload's
// output, or the supervisor's notes.
func (o LogOptions) wants(e Entry) bool {
	return (e.Stream == state.NoteStream) == o.Notes
}

func formatEntry(e Entry, opts LogOptions) string {
	if opts.Timestamps {
		return e.Time.Format(time.RFC3339Nano) + " " + e.Line + "\n"
	}
	return e.Line + "\n"
}

// logReader copies a log's entries, file after file, and follows the
// file being written across rotations.
type logReader struct {
	path    string
	opts    LogOptions
	w       io.Writer
	f       *os.File // the newest file read so far
	off     int64    // how far f has been read: always a line's end
	partial []byte   // a line of f not yet complete
}

// readLog copies the log at path (its rotated files first, oldest first)
// to w. With Tail it reads only the end of the newest files, backwards.
// With Follow it keeps reading what is appended, across rotations, until
// done() says the writer has finished (and everything is read) or ctx
// ends.
func readLog(ctx context.Context, path string, opts LogOptions, w io.Writer, done func() bool) error {
	// Every file is opened before any is read: a rotation meanwhile
	// renames them, but what is open stays readable.
	files := openLogFiles(path)
	if len(files) == 0 && opts.Follow {
		// The supervisor creates the log as it starts; wait for it.
		for len(files) == 0 && !done() {
			if !sleepCtx(ctx, 50*time.Millisecond) {
				return nil
			}
			files = openLogFiles(path)
		}
	}
	if len(files) == 0 {
		return nil // nothing was written
	}
	r := &logReader{path: path, opts: opts, w: w, f: files[len(files)-1]}
	defer func() { r.f.Close() }()
	for _, f := range files[:len(files)-1] {
		defer f.Close()
	}
	if opts.Tail >= 0 {
		if err := r.tail(files); err != nil {
			return err
		}
	} else {
		for _, f := range files[:len(files)-1] {
			if err := r.copyAll(f); err != nil {
				return err
			}
		}
		if err := r.drain(); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	for {
		// done is asked before the read, so a line written just before the
		// writer finished is still read after it.
		finished := done()
		if err := r.drain(); err != nil {
			return err
		}
		if err := r.followRotation(); err != nil {
			return err
		}
		if finished {
			return nil
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return nil
		}
	}
}

func openLogFiles(path string) []*os.File {
	var files []*os.File
	for _, name := range logFiles(path) {
		if f, err := os.Open(name); err == nil {
			files = append(files, f)
		}
	}
	return files
}

// emit decodes one line and writes it; a line that is not an entry (torn
// by a crash mid-write) is skipped.
func (r *logReader) emit(line []byte) error {
	var e Entry
	if json.Unmarshal(line, &e) != nil || !r.opts.wants(e) {
		return nil
	}
	if r.opts.Emit != nil {
		return r.opts.Emit(e)
	}
	_, err := io.WriteString(r.w, formatEntry(e, r.opts))
	return err
}

// drain copies every complete line of r.f from r.off on.
func (r *logReader) drain() error {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.f.ReadAt(buf, r.off+int64(len(r.partial)))
		data := append(r.partial, buf[:n]...)
		r.partial = nil
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			if err := r.emit(data[:i]); err != nil {
				return err
			}
			r.off += int64(i + 1)
			data = data[i+1:]
		}
		r.partial = append(r.partial[:0], data...)
		if errors.Is(err, io.EOF) || n == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read log: %w", err)
		}
	}
}

// copyAll copies a rotated (finished) file whole.
func (r *logReader) copyAll(f *os.File) error {
	whole := &logReader{path: r.path, opts: r.opts, w: r.w, f: f}
	return whole.drain()
}

// followRotation notices that the file being followed was rotated away
// (renamed; or emptied, with one file kept) and goes on with the files
// written since, in order.
func (r *logReader) followRotation() error {
	if fi, err := r.f.Stat(); err == nil && fi.Size() < r.off {
		r.off, r.partial = 0, nil // emptied in place
		return nil
	}
	if sameInode(r.f, r.path) {
		return nil
	}
	if err := r.drain(); err != nil { // what was written before the rename
		return err
	}
	newer := openLogFiles(r.path)
	// The files after ours, oldest first; all of them if ours is gone.
	for i, f := range newer {
		if sameInodeFile(f, r.f) {
			for _, g := range newer[:i+1] {
				g.Close()
			}
			newer = newer[i+1:]
			break
		}
	}
	if len(newer) == 0 {
		return nil // between the rename and the new file's creation
	}
	for _, f := range newer[:len(newer)-1] {
		err := r.copyAll(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	r.f.Close()
	r.f, r.off, r.partial = newer[len(newer)-1], 0, nil
	return r.drain()
}

// tail writes the last opts.Tail entries, reading the newest files from
// their end, and leaves r at the end of the newest file for Follow.
func (r *logReader) tail(files []*os.File) error {
	want := r.opts.Tail
	var lines [][]byte
	for i := len(files) - 1; i >= 0; i-- {
		got, end, err := lastEntries(files[i], want-len(lines), r.opts.wants)
		if err != nil {
			return err
		}
		if i == len(files)-1 {
			r.off = end
		}
		lines = append(got, lines...)
		if len(lines) >= want {
			break
		}
	}
	for _, l := range lines {
		if err := r.emit(l); err != nil {
			return err
		}
	}
	return nil
}

// lastEntries reads f backwards, a chunk at a time, for its last n complete
// lines that are entries wanted; end is the offset just after the last
// complete line (what follows it is a line being written).
func lastEntries(f *os.File, n int, wanted func(Entry) bool) (lines [][]byte, end int64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("read log: %w", err)
	}
	const chunk = 64 << 10
	off := fi.Size()
	var data []byte // f's bytes from off to end
	found := false  // the last newline, and so end
	// counted is how many wanted entries data's whole lines from
	// countedFrom on hold: each chunk read adds only the lines it makes
	// whole, so a long log with few wanted lines is not parsed again and
	// again.
	counted, countedFrom := 0, -1
	for off > 0 {
		size := min(int64(chunk), off)
		off -= size
		buf := make([]byte, size)
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("read log: %w", err)
		}
		data = append(buf, data...)
		if countedFrom >= 0 {
			countedFrom += int(size) // data grew at its front
		}
		if !found {
			i := bytes.LastIndexByte(data, '\n')
			if i < 0 {
				continue
			}
			found, end, data = true, off+int64(i+1), data[:i+1]
		}
		// The first line may have begun before off: only the lines after
		// it are whole.
		stop := len(data)
		if countedFrom >= 0 {
			stop = countedFrom
		}
		if first := bytes.IndexByte(data, '\n'); first >= 0 && first+1 <= stop {
			counted += countWanted(data[first+1:stop], wanted)
			countedFrom = first + 1
		}
		if counted >= n {
			break
		}
	}
	if !found || n == 0 {
		return nil, end, nil
	}
	all := bytes.Split(bytes.TrimSuffix(data, []byte{'\n'}), []byte{'\n'})
	if off > 0 {
		all = all[1:] // it began before off
	}
	for i := len(all) - 1; i >= 0 && len(lines) < n; i-- {
		var e Entry
		if json.Unmarshal(all[i], &e) == nil && wanted(e) {
			lines = append(lines, all[i])
		}
	}
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	return lines, end, nil
}

// countWanted counts the wanted entries among whole lines.
func countWanted(lines []byte, wanted func(Entry) bool) int {
	n := 0
	for _, l := range bytes.Split(lines, []byte{'\n'}) {
		var e Entry
		if json.Unmarshal(l, &e) == nil && wanted(e) {
			n++
		}
	}
	return n
}

func sameInode(f *os.File, path string) bool {
	g, err := os.Open(path)
	if err != nil {
		return false
	}
	defer g.Close()
	return sameInodeFile(f, g)
}

func sameInodeFile(f, g *os.File) bool {
	a, err1 := f.Stat()
	b, err2 := g.Stat()
	if err1 != nil || err2 != nil {
		return false
	}
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
