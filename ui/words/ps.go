package words

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"glassbox/sandbox/state"
)

// Summary is one line of `glassbox ps`: the record, and the words and
// figures shown for it.
type Summary struct {
	Name       string       `json:"name"`
	ID         string       `json:"id"`
	Image      string       `json:"image"`
	State      state.Status `json:"state"`
	Health     state.Health `json:"health,omitempty"`
	StatusText string       `json:"status"` // "Up 3 minutes (healthy)"
	Ports      string       `json:"ports"`  // "127.0.0.1:8000->8000/tcp"
	Limits     string       `json:"limits"` // "memory 256 MiB, cpus 0.5, pids 100"
	Restarts   int          `json:"restarts"`
	// RestartsText is the count and, when there were restarts, the exit
	// the last one answered: "2 (last after Exited (137, SIGKILL, OOMKilled))".
	RestartsText string         `json:"restarts_text"`
	Record       *state.Sandbox `json:"record"`
	// Engine is "glassbox", or the engine of another engine's container
	// listed beside the sandboxes (its record's Engine).
	Engine string `json:"engine"`
}

// Summarize describes a record as ps shows it, at time now.
func Summarize(sb *state.Sandbox, now time.Time) Summary {
	return Summary{
		Name:         sb.Name,
		ID:           sb.ID,
		Image:        sb.Image,
		State:        sb.Status,
		Health:       sb.Health,
		StatusText:   Status(sb, now),
		Ports:        Ports(sb.Network.Ports),
		Limits:       Limits(sb.Limits),
		Restarts:     sb.RestartCount,
		RestartsText: Restarts(sb),
		Record:       sb,
		Engine:       engineOf(sb),
	}
}

func engineOf(sb *state.Sandbox) string {
	if sb.Engine != "" {
		return sb.Engine
	}
	return "glassbox"
}

// WriteTable prints summaries as ps's table; with engine, an ENGINE column
// first says whose each one is (glassbox, or another engine's container,
// whose record has Engine set).
func WriteTable(w io.Writer, rows []Summary, engine bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	if engine {
		fmt.Fprint(tw, "ENGINE\t")
	}
	fmt.Fprintln(tw, "NAME\tID\tIMAGE\tSTATUS\tPORTS\tLIMITS\tRESTARTS")
	for _, r := range rows {
		if engine {
			fmt.Fprint(tw, r.Engine+"\t")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.ID, r.Image, r.StatusText, r.Ports, r.Limits, r.RestartsText)
	}
	return tw.Flush()
}
