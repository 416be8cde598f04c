package ui

import (
	"io"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// TestFixedColoursDrawAsAdaptive: a colour settled once for a renderer
// draws exactly what lipgloss draws for the adaptive colour itself, on every
// profile and either background.
func TestFixedColoursDrawAsAdaptive(t *testing.T) {
	colours := []lipgloss.AdaptiveColor{colDim, colText, colGood, colWarn, colBad, colAccent, colAnon, colFile, colBorder}
	for _, p := range []termenv.Profile{termenv.Ascii, termenv.ANSI, termenv.ANSI256, termenv.TrueColor} {
		for _, dark := range []bool{false, true} {
			r := lipgloss.NewRenderer(io.Discard)
			r.SetColorProfile(p)
			r.SetHasDarkBackground(dark)
			for _, ac := range colours {
				want := r.NewStyle().Foreground(ac).Render("x")
				got := r.NewStyle().Foreground(fixed(r, ac)).Render("x")
				if got != want {
					t.Errorf("profile %v, dark %v, %v: drew %q, lipgloss draws %q", p, dark, ac, got, want)
				}
			}
		}
	}
}
