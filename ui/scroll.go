package ui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// A full-screen view (help, explain, A vs B, log, environment) may hold
// more lines than the terminal: it scrolls. Its position is the index of
// its first line on screen; window cuts the text to the screen and says,
// on its last line, what is above and below.

// window returns at most h lines of text from line off on (off is clamped
// to the text): when the text is longer than h, the last of them says how
// many lines are hidden above and below, and which keys scroll.
func window(st *Styles, lines []string, off, h int) []string {
	if h <= 0 {
		return nil
	}
	if len(lines) <= h {
		return lines
	}
	body := h - 1
	off = clampOffset(off, len(lines), h)
	out := append([]string(nil), lines[off:off+body]...)
	above, below := off, len(lines)-off-body
	var where string
	switch {
	case above > 0 && below > 0:
		where = fmt.Sprintf("↑ %d more above · ↓ %d more below", above, below)
	case above > 0:
		where = fmt.Sprintf("↑ %d more above · the end", above)
	default:
		where = fmt.Sprintf("↓ %d more below", below)
	}
	return append(out, st.Dim.Render(where+" · ↓/j ↑/k pgdn/space pgup g G scroll"))
}

// clampOffset keeps a scroll position inside a text of n lines shown h at a
// time (one of them the line that says what is hidden).
func clampOffset(off, n, h int) int {
	if n <= h {
		return 0
	}
	return min(max(off, 0), n-(h-1))
}

// scrollKey moves a scroll position for a key; ok is false for a key that
// does not scroll. page is the number of lines on screen; end is the
// position of the last page (what Bottom goes to).
func scrollKey(k KeyMap, msg tea.KeyMsg, off, page, n int) (int, bool) {
	switch {
	case key.Matches(msg, k.ScrollDown):
		off++
	case key.Matches(msg, k.ScrollUp):
		off--
	case key.Matches(msg, k.PageDown):
		off += max(page-2, 1)
	case key.Matches(msg, k.PageUp):
		off -= max(page-2, 1)
	case key.Matches(msg, k.Top):
		off = 0
	case key.Matches(msg, k.Bottom):
		off = n
	default:
		return off, false
	}
	return clampOffset(off, n, page), true
}
