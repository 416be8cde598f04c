package union

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"unicode/utf8"
)

// Opened is a file of the image, open for reading from the layer that
// provides it.
type Opened struct {
	*os.File
	// Path is what was asked, Resolved the path after symlinks.
	Path, Resolved string
	Layer          int
	Entry          *Entry
}

// Open opens the regular file p (following symlinks inside the image) as
// the view of the layers up to L has it. Directories, removed paths and
// special files are errors that say so.
func (im *Image) Open(p string, L int) (*Opened, error) {
	L = im.clamp(L)
	resolved, pr, err := im.Resolve(p, L)
	if err != nil {
		return nil, err
	}
	switch pr.Entry.Kind {
	case Dir:
		return nil, fmt.Errorf("%s: is a directory", p)
	case File:
	default:
		return nil, fmt.Errorf("%s: is a %s, not a regular file", p, pr.Entry.Kind)
	}
	f, err := openBeneath(im.Stack.Layers[pr.Layer].Dir, resolved)
	if err != nil {
		return nil, err
	}
	return &Opened{File: f, Path: p, Resolved: resolved, Layer: pr.Layer, Entry: pr.Entry}, nil
}

// Content is the start of a file, for a viewer.
type Content struct {
	Path, Resolved string
	Layer          int
	Size           int64
	Binary         bool
	// Type says what the file is: "text", "ELF 64-bit executable, x86-64,
	// statically linked", "gzip data", …
	Type string
	// Data is the file's first bytes (all of it up to the limit asked).
	Data      []byte
	Truncated bool
}

// ReadFile reads up to limit bytes of the file p (see Open) and says
// whether it is text.
func (im *Image) ReadFile(p string, L int, limit int) (*Content, error) {
	f, err := im.Open(p, L)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	c := &Content{Path: p, Resolved: f.Resolved, Layer: f.Layer, Size: f.Entry.Size, Data: data,
		Truncated: int64(len(data)) < f.Entry.Size}
	c.Binary, c.Type = Sniff(f.File, data)
	return c, nil
}

// Sniff says whether data (a file's first bytes) is binary and what it is.
// f, when not nil, is the whole file, for formats read past their start.
func Sniff(f io.ReaderAt, data []byte) (binary bool, what string) {
	if bytes.HasPrefix(data, []byte("\x7fELF")) {
		return true, describeELF(f, data)
	}
	if len(data) == 0 {
		return false, "empty"
	}
	head := data[:min(len(data), 8192)]
	if !bytes.Contains(head, []byte{0}) && validUTF8Prefix(head) {
		if bytes.HasPrefix(head, []byte("#!")) {
			line, _, _ := bytes.Cut(head, []byte("\n"))
			return false, "script, " + strings.TrimSpace(string(line))
		}
		return false, "text"
	}
	ct := http.DetectContentType(head)
	switch ct {
	case "application/octet-stream":
		return true, "data"
	case "application/x-gzip":
		return true, "gzip data"
	}
	return true, ct
}

// validUTF8Prefix is utf8.Valid allowing a rune cut at the end.
func validUTF8Prefix(b []byte) bool {
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

func describeELF(f io.ReaderAt, data []byte) string {
	var r io.ReaderAt = bytes.NewReader(data)
	if f != nil {
		r = f
	}
	ef, err := elf.NewFile(r)
	if err != nil {
		return "ELF (unreadable header)"
	}
	defer ef.Close()
	bits := "32-bit"
	if ef.Class == elf.ELFCLASS64 {
		bits = "64-bit"
	}
	kind := map[elf.Type]string{elf.ET_EXEC: "executable", elf.ET_DYN: "shared object", elf.ET_REL: "relocatable", elf.ET_CORE: "core file"}[ef.Type]
	if kind == "" {
		kind = ef.Type.String()
	}
	link := "statically linked"
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			link = "dynamically linked"
		}
	}
	if ef.Type == elf.ET_DYN {
		// A position-independent executable is ET_DYN too; DF_1_PIE tells it
		// from a shared library.
		if v, err := ef.DynValue(elf.DT_FLAGS_1); err == nil && len(v) > 0 && v[0]&uint64(elf.DF_1_PIE) != 0 {
			kind = "executable (PIE)"
		}
	}
	return fmt.Sprintf("ELF %s %s, %s, %s", bits, kind, machine(ef.Machine), link)
}

func machine(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86-64"
	case elf.EM_AARCH64:
		return "ARM aarch64"
	case elf.EM_386:
		return "Intel 80386"
	case elf.EM_ARM:
		return "ARM"
	case elf.EM_RISCV:
		return "RISC-V"
	}
	return strings.TrimPrefix(m.String(), "EM_")
}

// Describe says what removed a path, in a few words.
func (r *Removal) Describe() string {
	if r == nil {
		return ""
	}
	switch r.How {
	case ByOpaque:
		return "opaque directory " + r.Path
	case ByReplaced:
		return "directory " + r.Path + " replaced by a non-directory"
	}
	return "whiteout " + r.Path
}
