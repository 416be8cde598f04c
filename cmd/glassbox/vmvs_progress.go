package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"glassbox/sandbox/state"
)

// progress shows what vm-vs-container is doing, on stderr: a line for each
// step done and, on a terminal, a live line with the running step and its
// time so far (booting under emulation takes seconds).
type progress struct {
	w    io.Writer
	live bool

	mu    sync.Mutex
	step  string
	note  string
	since time.Time
	stop  chan struct{}
	ended chan struct{}
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		p.live = true
		p.stop, p.ended = make(chan struct{}), make(chan struct{})
		go p.redraw()
	}
	return p
}

func (p *progress) redraw() {
	defer close(p.ended)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		if p.step != "" {
			line := fmt.Sprintf("%s %s", spinner[i%len(spinner)], p.step)
			if p.note != "" {
				line += " — " + p.note
			}
			fmt.Fprintf(p.w, "\r\x1b[K%s  %.1f s", line, time.Since(p.since).Seconds())
		}
		p.mu.Unlock()
	}
}

// event is compare.Run's report.
func (p *progress) event(e state.CompareEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear := ""
	if p.live {
		clear = "\r\x1b[K"
	}
	switch {
	case e.Setup != nil:
		fmt.Fprintf(p.w, "%svm-vs-container: %s under %s (%s)\n", clear, e.Setup.Qemu, e.Setup.Accel, e.Setup.AccelWhy)
		fmt.Fprintf(p.w, "vm-vs-container: kernel %s, %s\n", e.Setup.KernelImg, e.Setup.KernelOf)
	case e.Step != "" && e.Done:
		mark := "✓"
		if e.Note == "failed" {
			mark = "✗"
		}
		line := fmt.Sprintf("%s%s %s", clear, mark, e.Step)
		if e.Note != "" {
			line += " — " + e.Note
		}
		fmt.Fprintf(p.w, "%s (%s)\n", line, durationWords(e.Elapsed))
		p.step, p.note = "", ""
	case e.Step != "":
		if e.Step != p.step {
			p.step, p.since = e.Step, time.Now()
		}
		p.note = e.Note
	}
}

// close ends the live line.
func (p *progress) close() {
	if !p.live {
		return
	}
	close(p.stop)
	<-p.ended
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.step != "" {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func durationWords(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
