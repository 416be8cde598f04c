package ui

import "github.com/charmbracelet/bubbles/key"

// ImageKeyMap is the Image view's keymap; its ? screen is generated from it.
type ImageKeyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	Focus                                 key.Binding
	Open, Expand, Collapse                key.Binding
	Merged, Waste, Base, CopyUp           key.Binding
	Back, Help, Quit                      key.Binding
}

// DefaultImageKeyMap is the Image view's keymap.
func DefaultImageKeyMap() ImageKeyMap {
	return ImageKeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "previous layer, file or line")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "next layer, file or line")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "a page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "a page down")),
		Home:     key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
		Focus:    key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "layers ↔ files")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open a file, fold a directory")),
		Expand:   key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "unfold a directory")),
		Collapse: key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "fold (or go to the parent)")),
		Merged:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "the layer's changes ↔ the merged tree up to it")),
		Waste:    key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "waste: efficiency and the files responsible")),
		Base:     key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "leave the base image out of the waste, or count it")),
		CopyUp:   key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "sandbox: append a byte to the file (copy-up, live)")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close the file or panel; back")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "this help")),
		Quit:     key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
	}
}

// FullHelp is the ? screen, grouped.
func (k ImageKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, k.Focus},
		{k.Open, k.Expand, k.Collapse, k.Merged, k.Waste, k.Base, k.CopyUp},
		{k.Back, k.Help, k.Quit},
	}
}

// imageHelpGroups names FullHelp's groups.
var imageHelpGroups = []string{"move", "look", "leave"}

// ShortHelp is the footer line.
func (k ImageKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Focus, k.Open, k.Merged, k.Waste, k.Base, k.CopyUp, k.Back, k.Help}
}

// imageFooterWords are ShortHelp's descriptions cut to a word or two.
var imageFooterWords = map[string]string{
	"tab": "focus", "enter": "open", "a": "merged/changes", "w": "waste", "b": "base in/out",
	"u": "copy-up", "esc": "back", "?": "help",
}

func (k ImageKeyMap) footer() []key.Binding {
	var out []key.Binding
	for _, b := range k.ShortHelp() {
		h := b.Help()
		out = append(out, key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(h.Key, imageFooterWords[h.Key])))
	}
	return out
}
