package lifecycle

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"

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
	Limits     string       `json:"limits"` // "mem 256MiB, cpus 0.5, pids 100"
	Restarts   int          `json:"restarts"`
	// RestartsText is the count and, when there were restarts, the exit
	// the last one answered: "2 (last after exit 137, OOMKilled)".
	RestartsText string         `json:"restarts_text"`
	Record       *state.Sandbox `json:"record"`
}

// Summarize describes a record as ps shows it, at time now.
func Summarize(sb *state.Sandbox, now time.Time) Summary {
	return Summary{
		Name:         sb.Name,
		ID:           sb.ID,
		Image:        sb.Image,
		State:        sb.Status,
		Health:       sb.Health,
		StatusText:   StatusText(sb, now),
		Ports:        PortsText(sb.Network.Ports),
		Limits:       LimitsText(sb.Limits),
		Restarts:     sb.RestartCount,
		RestartsText: RestartsText(sb),
		Record:       sb,
	}
}

// StatusText is docker's STATUS column: "Up 3 minutes (healthy)",
// "Up 5 seconds (Paused)", "Exited (137) 2 minutes ago (OOMKilled)",
// "Created".
func StatusText(sb *state.Sandbox, now time.Time) string {
	switch sb.Status {
	case state.Created:
		return "Created"
	case state.Running, state.Paused:
		s := "Up " + human(now.Sub(sb.Started))
		if sb.Started.IsZero() {
			s = "Up"
		}
		if sb.Status == state.Paused {
			return s + " (Paused)"
		}
		switch sb.Health {
		case state.HealthStarting:
			s += " (health: starting)"
		case state.HealthHealthy, state.HealthUnhealthy:
			s += " (" + string(sb.Health) + ")"
		}
		return s
	case state.Exited:
		if sb.Exit == nil {
			return "Exited"
		}
		s := fmt.Sprintf("Exited (%d)", sb.Exit.Code)
		if !sb.Exit.FinishedAt.IsZero() {
			s += " " + human(now.Sub(sb.Exit.FinishedAt)) + " ago"
		}
		if sb.Exit.OOMKilled {
			s += " (OOMKilled)"
		}
		return s
	case state.Removed:
		return "Removed"
	}
	return string(sb.Status)
}

// RestartsText is ps's RESTARTS column. A sandbox that the restart policy
// brought back shows "Up …" like any other; the column keeps the exit it
// came back from, so that an OOM kill is not lost from view.
func RestartsText(sb *state.Sandbox) string {
	s := strconv.Itoa(sb.RestartCount)
	a := sb.RestartedAfter
	if sb.RestartCount == 0 || a == nil {
		return s
	}
	s += fmt.Sprintf(" (last after exit %d", a.Code)
	if a.OOMKilled {
		s += ", OOMKilled"
	}
	return s + ")"
}

// human is a duration in words, "3 minutes", "Less than a second".
func human(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return units.HumanDuration(d)
}

// PortsText lists published ports as "127.0.0.1:8000->8000/tcp, …".
func PortsText(ports []state.Port) string {
	var parts []string
	for _, p := range ports {
		proto := p.Proto
		if proto == "" {
			proto = "tcp"
		}
		ip := p.HostIP
		if ip == "" {
			ip = "127.0.0.1"
		}
		parts = append(parts, fmt.Sprintf("%s:%d->%d/%s", ip, p.HostPort, p.ContainerPort, proto))
	}
	return strings.Join(parts, ", ")
}

// LimitsText is "mem 256MiB, cpus 0.5, pids 100", or "-" without limits.
func LimitsText(l state.Limits) string {
	var parts []string
	if l.MemoryBytes > 0 {
		parts = append(parts, "mem "+units.BytesSize(float64(l.MemoryBytes)))
	}
	if l.CPUs > 0 {
		parts = append(parts, "cpus "+strconv.FormatFloat(l.CPUs, 'f', -1, 64))
	} else if l.CPUQuotaUS > 0 && l.CPUPeriodUS > 0 {
		cpus := float64(l.CPUQuotaUS) / float64(l.CPUPeriodUS)
		parts = append(parts, "cpus "+strconv.FormatFloat(cpus, 'f', -1, 64))
	}
	if l.PidsLimit > 0 {
		parts = append(parts, "pids "+strconv.FormatInt(l.PidsLimit, 10))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// WriteTable prints summaries as ps's table.
func WriteTable(w io.Writer, rows []Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tIMAGE\tSTATUS\tPORTS\tLIMITS\tRESTARTS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.ID, r.Image, r.StatusText, dash(r.Ports), r.Limits, r.RestartsText)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
