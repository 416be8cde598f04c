package main

import (
	"errors"
	"slices"

	"golang.org/x/sys/unix"

	"glassbox/inspect/union"
	"glassbox/sandbox"
)

// copyUpCandidates is how many of the biggest lower files CopyUp tries
// when no path is given: a running program refuses writes (ETXTBSY).
const copyUpCandidates = 8

// CopyUp appends one byte to path inside the sandbox (ui.Actions). With no
// path it picks the biggest regular file the lower layers have and the
// upper layer does not, so that the write costs a copy-up of all of it.
func (a *topActions) CopyUp(ref, path string) (string, int64, error) {
	sb, err := a.eng.Get(ref)
	if err != nil {
		return "", 0, err
	}
	st, err := newStacks(a.eng.Store().Roots).sandbox(sb)
	if err != nil {
		return "", 0, err
	}
	im, err := union.Read(st)
	if err != nil {
		return "", 0, err
	}
	if path != "" {
		var size int64
		if pr, err := im.Which(path, im.Top()); err == nil && pr.Entry != nil {
			size = pr.Entry.Size
		}
		return path, size, sandbox.AppendByte(sb, path)
	}
	files := lowerFiles(im)
	if len(files) == 0 {
		return "", 0, errors.New(sb.Name + "'s lower layers hold no file its upper layer has not copied already")
	}
	for _, f := range files[:min(len(files), copyUpCandidates)] {
		err = sandbox.AppendByte(sb, f.path)
		if !errors.Is(err, unix.ETXTBSY) {
			return f.path, f.size, err
		}
	}
	return "", 0, err
}

type sizedPath struct {
	path string
	size int64
}

// lowerFiles are the regular files the sandbox sees from its lower
// layers, biggest first.
func lowerFiles(im *union.Image) []sizedPath {
	var out []sizedPath
	var walk func(*union.Item)
	walk = func(it *union.Item) {
		if it.Mark == union.Removed {
			return
		}
		if it.Entry.Kind == union.File && it.Layer < im.Top() {
			out = append(out, sizedPath{it.Path(), it.Entry.Size})
		}
		for _, k := range it.Kids {
			walk(k)
		}
	}
	walk(im.Merged(im.Top()))
	slices.SortStableFunc(out, func(a, b sizedPath) int {
		switch {
		case a.size > b.size:
			return -1
		case a.size < b.size:
			return 1
		}
		return 0
	})
	return out
}
