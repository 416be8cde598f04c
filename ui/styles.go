package ui

import (
	"strconv"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are built once per renderer. Colours are adaptive (one shade for
// light terminals, one for dark); with the Ascii profile (NO_COLOR,
// --no-color, tests, --once) lipgloss drops every colour and attribute, so
// nothing on screen may depend on them alone: focus also gets a ▶ marker,
// states are spelled out.
type Styles struct {
	r *lipgloss.Renderer

	Title      lipgloss.Style
	Dim        lipgloss.Style
	Label      lipgloss.Style
	Good       lipgloss.Style
	Warn       lipgloss.Style
	Bad        lipgloss.Style
	Accent     lipgloss.Style
	Panel      lipgloss.Style
	PanelFocus lipgloss.Style
	PanelTitle lipgloss.Style
	FocusTitle lipgloss.Style
	Banner     lipgloss.Style
	Footer     lipgloss.Style
	Key        lipgloss.Style
	Anon       lipgloss.Style
	File       lipgloss.Style
	CPU        lipgloss.Style
}

var (
	colDim    = lipgloss.AdaptiveColor{Light: "#6b6b6b", Dark: "#8a8a8a"}
	colText   = lipgloss.AdaptiveColor{Light: "#1a1a1a", Dark: "#e6e6e6"}
	colGood   = lipgloss.AdaptiveColor{Light: "#1a7f37", Dark: "#3fb950"}
	colWarn   = lipgloss.AdaptiveColor{Light: "#9a6700", Dark: "#d29922"}
	colBad    = lipgloss.AdaptiveColor{Light: "#cf222e", Dark: "#f85149"}
	colAccent = lipgloss.AdaptiveColor{Light: "#0550ae", Dark: "#58a6ff"}
	colAnon   = lipgloss.AdaptiveColor{Light: "#8250df", Dark: "#bc8cff"}
	colFile   = lipgloss.AdaptiveColor{Light: "#0a7e8c", Dark: "#39c5cf"}
	colBorder = lipgloss.AdaptiveColor{Light: "#afb8c1", Dark: "#484f58"}
)

// NewStyles builds the styles for one renderer (and so one colour profile).
func NewStyles(r *lipgloss.Renderer) *Styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	s := &Styles{r: r}
	colText, colDim, colGood, colWarn, colBad := fixed(r, colText), fixed(r, colDim), fixed(r, colGood), fixed(r, colWarn), fixed(r, colBad)
	colAccent, colAnon, colFile, colBorder := fixed(r, colAccent), fixed(r, colAnon), fixed(r, colFile), fixed(r, colBorder)
	s.Title = r.NewStyle().Bold(true).Foreground(colText)
	s.Dim = r.NewStyle().Foreground(colDim)
	s.Label = r.NewStyle().Foreground(colDim)
	s.Good = r.NewStyle().Foreground(colGood)
	s.Warn = r.NewStyle().Foreground(colWarn)
	s.Bad = r.NewStyle().Foreground(colBad).Bold(true)
	s.Accent = r.NewStyle().Foreground(colAccent)
	s.Panel = r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(colBorder)
	s.PanelFocus = r.NewStyle().Border(lipgloss.ThickBorder()).BorderForeground(colAccent)
	s.PanelTitle = r.NewStyle().Bold(true).Foreground(colText)
	s.FocusTitle = r.NewStyle().Bold(true).Reverse(true).Foreground(colAccent)
	s.Banner = r.NewStyle().Bold(true).Reverse(true).Foreground(colBad)
	s.Footer = r.NewStyle().Foreground(colDim)
	s.Key = r.NewStyle().Bold(true).Foreground(colAccent)
	s.Anon = r.NewStyle().Foreground(colAnon)
	s.File = r.NewStyle().Foreground(colFile)
	s.CPU = r.NewStyle().Foreground(colAccent)
	return s
}

// fixed settles an adaptive colour for r once: the shade for its background,
// in the form its colour profile takes without converting. lipgloss would
// otherwise pick the shade and convert the hex value on every Render — for
// a 256- or 16-colour terminal a search of the palette by perceptual
// distance (HSLuv: cube roots, powers, atan2), dozens of times a frame for
// colours that cannot change while the program runs. The palette index, as
// a string, is what the profile reads back as that same index.
func fixed(r *lipgloss.Renderer, ac lipgloss.AdaptiveColor) lipgloss.TerminalColor {
	p := r.ColorProfile()
	if p == termenv.Ascii {
		return lipgloss.NoColor{}
	}
	hex := ac.Light
	if r.HasDarkBackground() {
		hex = ac.Dark
	}
	switch c := p.Color(hex).(type) {
	case termenv.ANSI256Color:
		return lipgloss.Color(strconv.Itoa(int(c)))
	case termenv.ANSIColor:
		return lipgloss.Color(strconv.Itoa(int(c)))
	}
	return lipgloss.Color(hex)
}
