package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"glassbox/inspect/union"
)

// fileView is an open file.
type fileView struct {
	content *union.Content
	lines   []string // the text's lines, or the binary's hex dump
	scroll  int
}

// maxFileView is how much of a file the viewer reads.
const maxFileView = 1 << 20

func (v *imageView) fileCmd(it *union.Item) tea.Cmd {
	gen, im, p, layer := v.gen, v.im, it.Path(), it.Layer
	return func() tea.Msg {
		c, err := im.ReadFile(p, layer, maxFileView)
		if err != nil {
			return imageFileMsg{gen: gen, err: err}
		}
		return imageFileMsg{gen: gen, file: &fileView{content: c, lines: fileLines(c)}}
	}
}

// fileLines splits a text into lines (tabs expanded), or dumps the first
// bytes of a binary in hex.
func fileLines(c *union.Content) []string {
	if c.Binary {
		return hexDump(c.Data[:min(len(c.Data), 4096)])
	}
	text := strings.TrimSuffix(string(c.Data), "\n")
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(strings.TrimSuffix(l, "\r"), "\t", "    ")
	}
	return lines
}

func hexDump(b []byte) []string {
	var out []string
	for off := 0; off < len(b); off += 16 {
		row := b[off:min(off+16, len(b))]
		var hx, asc strings.Builder
		for i := range 16 {
			if i < len(row) {
				fmt.Fprintf(&hx, "%02x ", row[i])
				if row[i] >= 0x20 && row[i] < 0x7f {
					asc.WriteByte(row[i])
				} else {
					asc.WriteByte('.')
				}
			} else {
				hx.WriteString("   ")
			}
			if i == 7 {
				hx.WriteByte(' ')
			}
		}
		out = append(out, fmt.Sprintf("%08x  %s |%s|", off, hx.String(), asc.String()))
	}
	return out
}
