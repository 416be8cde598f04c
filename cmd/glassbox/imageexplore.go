package main

import (
	"errors"
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"glassbox/sandbox/lifecycle"
	"glassbox/ui"
)

func newImageExploreCmd() *cobra.Command {
	var o topOptions
	cmd := &cobra.Command{
		Use:   "explore [OPTIONS] IMAGE|SANDBOX",
		Short: "Explore an image's layers, files and waste — or a sandbox's, its upper layer live",
		Long: `Open the live UI's Image view on an image, or on a sandbox (by name or id):
the layers on the left (top first: the step that made each, its size, the
build cache's hit or miss, the images and sandboxes that use it), the
selected layer's files on the right — what it changed, marked + added,
~ modified, - removed (with the whiteout or opaque directory behind it),
or with a the merged tree up to it —, a viewer for files, and with w the
waste: efficiency, wasted bytes and the files responsible (b leaves the
base image out).

A sandbox's writable upper layer is on top and read again every
--interval; u on a file appends one byte to it inside the sandbox, and the
upper layer grows by the whole file: copy-up. Reading an image needs no
root; a sandbox's upper layer, and writing into it, does.`,
		Example: `  glassbox image explore busybox
  glassbox image explore calc`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			stacks := newStacks(rootsOf(cmd))
			st, err := stacks.Stack(args[0])
			if err != nil {
				return err
			}
			root := os.Geteuid() == 0
			if st.Sandbox != "" && !root {
				return errors.New("needs root: a sandbox's upper layer is readable by root only (sudo glassbox image explore " + args[0] + ")")
			}
			if err := needTerminal(); err != nil {
				return fmt.Errorf("the Image view needs a terminal; for text use glassbox image ls, cat or waste")
			}
			var acts ui.Actions
			if root {
				eng := lifecycle.New(rootsOf(cmd))
				acts = newTopActions(eng, func() (string, error) { return startCalculator(eng, "", 0) })
			}
			r := uiRenderer(o.noColor)
			m := ui.New(ui.Options{Images: stacks, Actions: acts, Explore: args[0], Interval: o.interval, Styles: ui.NewStyles(r)})
			// As top's: each change drawn at once, the renderer at its slowest.
			term := ui.NewTerminal(os.Stdout)
			opts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithFPS(ui.LiveFPS), tea.WithOutput(term)}
			if o.mouse {
				opts = append(opts, tea.WithMouseCellMotion())
			}
			if _, err := tea.NewProgram(ui.NewLive(m, term), opts...).Run(); err != nil {
				return fmt.Errorf("run the Image view: %w", err)
			}
			return nil
		},
	}
	o.flags(cmd)
	return cmd
}
