// Command glassbox-replay plays back a recording of glassbox's live view
// (glassbox top --record, glassbox learn --record) on any OS Go builds for:
// glassbox itself needs Linux, its recordings do not. It is the same as
// `glassbox replay`:
//
//	go run ./cmd/glassbox-replay testdata/recordings/cgroups.jsonl.zst
package main

import (
	"fmt"
	"os"

	"glassbox/ui/replay"
)

func main() {
	cmd := replay.Command()
	cmd.Use = "glassbox-replay FILE"
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "glassbox-replay:", err)
		os.Exit(1)
	}
}
