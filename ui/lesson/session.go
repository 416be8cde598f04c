package lesson

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"glassbox/sandbox/state"
)

// Session is what one run of the lesson owns: the names it gave its
// sandboxes and image, the ports and directory it picked, and everything
// it created — which it removes, and nothing else. Its methods are safe
// from any goroutine (the screen asks Owns while reading).
type Session struct {
	Start time.Time

	mu    sync.Mutex
	vars  map[string]string
	owned map[string]string // sandbox id -> name: created by the lesson
	// foreign are the sandboxes that had one of the lesson's names before
	// it began: never the lesson's.
	foreign map[string]bool
	images  map[string]string // image id -> name
	dirs    []string
}

// sandboxVars are the lesson's sandboxes' names.
var sandboxVars = []string{"a", "b", "c", "d"}

// varPattern finds a {variable} in a step's text; compiled on first use,
// not at every start of the binary.
var varPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{([a-z0-9]+)\}`) })

// unknownVar names a variable text uses that no session fills, or "".
func unknownVar(text string) string {
	for _, m := range varPattern().FindAllStringSubmatch(text, -1) {
		switch m[1] {
		case "a", "b", "c", "d", "app", "port", "port2", "dir":
		default:
			return m[1]
		}
	}
	return ""
}

// NewSession picks the lesson's names: lesson-a … lesson-d and lesson-app,
// or, where a sandbox or image of another already has one, the same with a
// number, so that the lesson never touches what it did not create.
func NewSession(w World, now time.Time) (*Session, error) {
	s := &Session{Start: now, vars: map[string]string{}, owned: map[string]string{}, foreign: map[string]bool{},
		images: map[string]string{}}
	list, err := w.Sandboxes()
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	taken := map[string]bool{}
	for _, sb := range list {
		taken[sb.Name] = true
	}
	for _, v := range sandboxVars {
		s.vars[v] = free("lesson-"+v, func(n string) bool { return taken[n] })
	}
	for _, sb := range list {
		for _, v := range sandboxVars {
			if sb.Name == s.vars[v] {
				s.foreign[sb.ID] = true
			}
		}
	}
	var ierr error
	s.vars["app"] = free("lesson-app", func(n string) bool {
		im, err := w.Image(n)
		if err != nil {
			ierr = err
		}
		return im != nil
	})
	if ierr != nil {
		return nil, fmt.Errorf("look up images: %w", ierr)
	}
	for _, v := range []string{"port", "port2"} {
		p, err := w.FreePort()
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		s.vars[v] = strconv.Itoa(p)
	}
	return s, nil
}

// free is name, or name2, name3… when name is taken.
func free(name string, taken func(string) bool) string {
	n := name
	for i := 2; taken(n); i++ {
		n = fmt.Sprintf("%s%d", name, i)
	}
	return n
}

// Fill puts the session's values into text; {dir} is made on first use.
func (s *Session) Fill(w World, text string) (string, error) {
	var err error
	out := varPattern().ReplaceAllStringFunc(text, func(m string) string {
		v := m[1 : len(m)-1]
		if v == "dir" {
			d, e := s.dir(w)
			if e != nil {
				err = e
			}
			return d
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if x, ok := s.vars[v]; ok {
			return x
		}
		return m
	})
	return out, err
}

// Var is one of the session's values.
func (s *Session) Var(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vars[name]
}

// dir is the build context, written on first use.
func (s *Session) dir(w World) (string, error) {
	s.mu.Lock()
	d, ok := s.vars["dir"]
	s.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := w.MakeDir(buildContext)
	if err != nil {
		return "", fmt.Errorf("write the build context: %w", err)
	}
	s.mu.Lock()
	s.vars["dir"] = d
	s.dirs = append(s.dirs, d)
	s.mu.Unlock()
	return d, nil
}

// Adopt takes in the store's listing: a sandbox with one of the lesson's
// names, created since the lesson began and not there before, is the
// lesson's.
func (s *Session) Adopt(list []*state.Sandbox) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sb := range list {
		if s.foreign[sb.ID] || sb.Engine != "" || sb.Created.Before(s.Start.Add(-time.Second)) {
			continue
		}
		for _, v := range sandboxVars {
			if sb.Name == s.vars[v] {
				s.owned[sb.ID] = sb.Name
			}
		}
	}
}

// Owns says whether a sandbox is the lesson's (what the screen follows).
func (s *Session) Owns(sb *state.Sandbox) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.owned[sb.ID]; ok {
		return true
	}
	if s.foreign[sb.ID] || sb.Engine != "" || sb.Created.Before(s.Start.Add(-time.Second)) {
		return false
	}
	for _, v := range sandboxVars {
		if sb.Name == s.vars[v] {
			s.owned[sb.ID] = sb.Name
			return true
		}
	}
	return false
}

// OwnImage notes an image the lesson built.
func (s *Session) OwnImage(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images[id] = name
}

// Owned lists what the lesson created and has not removed yet.
func (s *Session) Owned() Owned {
	s.mu.Lock()
	defer s.mu.Unlock()
	var o Owned
	for id := range s.owned {
		o.Sandboxes = append(o.Sandboxes, id)
	}
	for id := range s.images {
		o.Images = append(o.Images, id)
	}
	o.Dirs = append(o.Dirs, s.dirs...)
	return o
}

// Owned are what a lesson created, by id and path: what it removes at the
// end of a chapter, on quitting, and (kept with its progress) after a
// crash, at the next start.
type Owned struct {
	Sandboxes []string `json:"sandboxes,omitempty"`
	Images    []string `json:"images,omitempty"`
	Dirs      []string `json:"dirs,omitempty"`
}

func (o Owned) empty() bool { return len(o.Sandboxes)+len(o.Images)+len(o.Dirs) == 0 }

// Clean removes what the lesson owns, through w: its sandboxes (stopped
// first), the images it built, its directories. It returns what it could
// not remove.
func (s *Session) Clean(w World) error {
	return s.clean(w, func(string, string) bool { return true })
}

// CleanNames removes the lesson's sandboxes of the given names that were
// created before a moment (a step about to have them created again, when
// it began): one the student has just created is left alone.
func (s *Session) CleanNames(w World, names []string, before time.Time) error {
	list, err := w.Sandboxes()
	if err != nil {
		return err
	}
	old := map[string]bool{}
	for _, sb := range list {
		if sb.Created.Before(before) {
			old[sb.ID] = true
		}
	}
	return s.clean(w, func(id, name string) bool {
		for _, n := range names {
			if n == name && old[id] {
				return true
			}
		}
		return false
	})
}

func (s *Session) clean(w World, pick func(id, name string) bool) error {
	s.mu.Lock()
	var ids []string
	for id, name := range s.owned {
		if pick(id, name) {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	var errs []string
	for _, id := range ids {
		if err := w.Remove(id); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		s.mu.Lock()
		delete(s.owned, id)
		s.mu.Unlock()
	}
	if len(errs) > 0 {
		return fmt.Errorf("remove the lesson's sandboxes: %s", strings.Join(errs, "; "))
	}
	return nil
}

// CleanAll removes everything: sandboxes, images, directories.
func (s *Session) CleanAll(w World) error {
	err := s.Clean(w)
	// The image's name was free when the session began: whatever has it
	// now, the lesson built.
	if im, err := w.Image(s.Var("app")); err == nil && im != nil {
		s.OwnImage(im.ID, s.Var("app"))
	}
	s.mu.Lock()
	images, dirs := s.images, s.dirs
	s.images, s.dirs = map[string]string{}, nil
	delete(s.vars, "dir")
	s.mu.Unlock()
	var errs []string
	if err != nil {
		errs = append(errs, err.Error())
	}
	for id, name := range images {
		if err := w.RemoveImage(id); err != nil {
			errs = append(errs, fmt.Sprintf("remove image %s: %v", name, err))
		}
	}
	for _, d := range dirs {
		if err := w.RemoveDir(d); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
