package words

import (
	"io"
	"strconv"
	"strings"
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

// PsWidth is the width ps fits its table to unless told not to cut
// (--no-trunc): a terminal of 100 columns, a projector's.
const PsWidth = 100

// WriteTable prints summaries as ps's table; with engine, an ENGINE column
// first says whose each one is (glassbox, or another engine's container,
// whose record has Engine set). With width > 0 the table fits in width
// columns, as docker's ps does: shorter cells (limits and restarts in
// brief, ports without the /tcp every one has), then the longest cut
// with "…", the least telling first; width 0 prints every cell whole.
func WriteTable(w io.Writer, rows []Summary, engine bool, width int) error {
	head := []string{"NAME", "ID", "IMAGE", "STATUS", "PORTS", "LIMITS", "RESTARTS"}
	if engine {
		head = append([]string{"ENGINE"}, head...)
	}
	table := [][]string{head}
	for _, r := range rows {
		cells := []string{r.Name, r.ID, r.Image, r.StatusText, r.Ports, r.Limits, r.RestartsText}
		if width > 0 {
			cells[3] = statusBrief(r)
			cells[4] = portsBrief(r.Ports)
			cells[5], cells[6] = limitsBrief(r), restartsBrief(r)
		}
		if engine {
			cells = append([]string{r.Engine}, cells...)
		}
		table = append(table, cells)
	}
	const gap = 2
	widths := make([]int, len(head))
	for _, row := range table {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	if width > 0 {
		fitColumns(widths, head, width-gap*(len(head)-1))
	}
	var b strings.Builder
	for _, row := range table {
		for i, c := range row {
			c = cutCell(c, widths[i])
			if i == len(row)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c + strings.Repeat(" ", widths[i]-len([]rune(c))+gap))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cutOrder is the order ps cuts its columns in, each down to its
// minimum before the next is touched: the limits and the ports first
// (inspect tells them whole), the status last — it is what ps is read
// for. The ID is never cut.
var cutOrder = []struct {
	head string
	min  int
}{{"LIMITS", 8}, {"PORTS", 12}, {"ENGINE", 6}, {"NAME", 10}, {"IMAGE", 10}, {"RESTARTS", 8}, {"STATUS", 24}}

// fitColumns narrows the columns, in cutOrder, until they sum to at most
// total, none below its minimum.
func fitColumns(widths []int, head []string, total int) {
	sum := 0
	for _, w := range widths {
		sum += w
	}
	for _, c := range cutOrder {
		for i, h := range head {
			if h != c.head || sum <= total {
				continue
			}
			cut := min(sum-total, max(widths[i]-c.min, 0))
			widths[i] -= cut
			sum -= cut
		}
	}
}

// portsBrief are the ports without what most have: the /tcp, and the
// address 127.0.0.1 glassbox binds to unless told another
// ("8000->8000, 0.0.0.0:9090->9090").
func portsBrief(ports string) string {
	ports = strings.ReplaceAll(ports, "/tcp", "")
	ports = strings.TrimPrefix(ports, "127.0.0.1:")
	return strings.ReplaceAll(ports, ", 127.0.0.1:", ", ")
}

// cutCell cuts a cell to w runes, marking the cut with "…".
func cutCell(s string, w int) string {
	r := []rune(s)
	if len(r) <= w {
		return s
	}
	if w <= 1 {
		return string(r[:w])
	}
	return string(r[:w-1]) + "…"
}

// statusBrief is the status with an exit's signal left out, which its
// code already says (137 = 128+SIGKILL): "Exited (137, OOMKilled) 2
// minutes ago".
func statusBrief(r Summary) string {
	sb := r.Record
	if sb == nil || sb.Status != state.Exited || sb.Exit == nil || sb.Exit.Signal == "" {
		return r.StatusText
	}
	return strings.Replace(r.StatusText, ", "+sb.Exit.Signal, "", 1)
}

// limitsBrief are the limits in ps's brief form: "256MiB 0.5cpu 100pids".
func limitsBrief(r Summary) string {
	if r.Record == nil {
		return r.Limits
	}
	l := r.Record.Limits
	var parts []string
	if l.MemoryBytes > 0 {
		parts = append(parts, strings.ReplaceAll(Bytes(l.MemoryBytes), " ", ""))
	}
	if c := CPUs(l); c != "" {
		parts = append(parts, c+"cpu")
	}
	if l.PidsLimit > 0 {
		parts = append(parts, strconv.FormatInt(l.PidsLimit, 10)+"pids")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// restartsBrief is the restart count and, when the last restart answered
// an OOM kill, that it did: "2 OOM".
func restartsBrief(r Summary) string {
	if r.Record == nil || r.RestartsText == "-" {
		return r.RestartsText
	}
	s := strconv.Itoa(r.Restarts)
	if a := r.Record.RestartedAfter; r.Restarts > 0 && a != nil && a.OOMKilled {
		s += " OOM"
	}
	return s
}
