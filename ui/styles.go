package ui

import (
	"github.com/charmbracelet/lipgloss"
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
