package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// progress shows what vm-vs-container is doing, on stderr: a line for each
// step done and, on a terminal, a live line with the running step and its
// time so far (booting under emulation takes seconds).
type progress struct {
	w    io.Writer
	live bool

	mu    sync.Mutex
	step  string // the step under way
	now   string // it in words, with its latest note
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
			fmt.Fprintf(p.w, "\r\x1b[K%s %s  %s", spinner[i%len(spinner)], p.now, words.Seconds(time.Since(p.since).Seconds()))
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
		fmt.Fprintf(p.w, "%s%s %s\n", clear, mark, words.CompareStepDone(e))
		p.step = ""
	case e.Step != "":
		if e.Step != p.step {
			p.step, p.since = e.Step, time.Now()
		}
		p.now = words.CompareStep(e)
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
