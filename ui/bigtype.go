package ui

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

// Large type for a projector: each letter three cells tall, drawn with
// box-drawing strokes, which every terminal font has and which stay
// legible from the back of a room. Letters are upper case; a title with a
// character the font lacks is not drawn large (bigText says so).
var bigGlyphs = map[rune][3]string{
	'A': {"┏━┓", "┣━┫", "╹ ╹"}, 'B': {"┏┓ ", "┣┻┓", "┗━┛"}, 'C': {"┏━╸", "┃  ", "┗━╸"},
	'D': {"┳━┓", "┃ ┃", "┻━┛"}, 'E': {"┏━╸", "┣╸ ", "┗━╸"}, 'F': {"┏━╸", "┣╸ ", "╹  "},
	'G': {"┏━╸", "┃╺┓", "┗━┛"}, 'H': {"╻ ╻", "┣━┫", "╹ ╹"}, 'I': {"╻", "┃", "╹"},
	'J': {"  ╻", "  ┃", "┗━┛"}, 'K': {"╻┏╸", "┣┻┓", "╹ ╹"}, 'L': {"╻  ", "┃  ", "┗━╸"},
	'M': {"┏┳┓", "┃┃┃", "╹ ╹"}, 'N': {"┏┓╻", "┃┗┫", "╹ ╹"}, 'O': {"┏━┓", "┃ ┃", "┗━┛"},
	'P': {"┏━┓", "┣━┛", "╹  "}, 'Q': {"┏━┓", "┃╻┃", "┗┻┛"}, 'R': {"┏━┓", "┣┳┛", "╹┗╸"},
	'S': {"┏━┓", "┗━┓", "┗━┛"}, 'T': {"╺┳╸", " ┃ ", " ╹ "}, 'U': {"╻ ╻", "┃ ┃", "┗━┛"},
	'V': {"╻ ╻", "┃┏┛", "┗┛ "}, 'W': {"╻ ╻", "┃╻┃", "┗┻┛"}, 'X': {"╻ ╻", "┏╋┛", "╹ ╹"},
	'Y': {"╻ ╻", "┗┳┛", " ╹ "}, 'Z': {"┏━┓", "┏━┛", "┗━╸"},
	'0': {"┏━┓", "┃┃┃", "┗━┛"}, '1': {"╺┓ ", " ┃ ", "╺┻╸"}, '2': {"┏━┓", "┏━┛", "┗━╸"},
	'3': {"┏━┓", "╺━┫", "┗━┛"}, '4': {"╻ ╻", "┗━┫", "  ╹"}, '5': {"┏━╸", "┗━┓", "┗━┛"},
	'6': {"┏━┓", "┣━┓", "┗━┛"}, '7': {"┏━┓", "  ┃", "  ╹"}, '8': {"┏━┓", "┣━┫", "┗━┛"},
	'9': {"┏━┓", "┗━┫", "┗━┛"},
	' ': {" ", " ", " "}, '-': {"   ", "╺━╸", "   "}, '.': {" ", " ", "╹"},
	',': {" ", " ", "┛"}, ':': {"╻", " ", "╹"}, '\'': {"╹", " ", " "}, '!': {"╻", "╹", "╹"},
	'?': {"┏━┓", " ┏┛", " ╹ "}, '/': {"  ╻", " ┏┛", "┏┛ "},
}

// bigText draws s in large type, or returns false when it does not fit in
// w cells or has a character the font lacks.
func bigText(s string, w int) ([3]string, bool) {
	var rows [3]strings.Builder
	for i, r := range s {
		g, ok := bigGlyphs[unicode.ToUpper(r)]
		if !ok {
			return [3]string{}, false
		}
		for j := range rows {
			if i > 0 {
				rows[j].WriteByte(' ')
			}
			rows[j].WriteString(g[j])
		}
	}
	out := [3]string{rows[0].String(), rows[1].String(), rows[2].String()}
	if ansi.StringWidth(out[0]) > w {
		return [3]string{}, false
	}
	return out, true
}
