package words

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"glassbox/inspect"
	"glassbox/sandbox/state"
)

// Report writes a snapshot as plain text, grouped like the course's
// sections: Namespaces, Processes, Filesystem, Cgroup, Network, UTS and
// kernel. With sources, each figure is followed by the file it came from.
func Report(w io.Writer, s *inspect.Snapshot, sources bool) error {
	r := &reporter{w: w, sources: sources}
	r.header(s)
	r.lifecycle(s)
	r.engine(s)
	if sb := s.Sandbox; sb != nil && !sb.Status.Live() {
		r.line("\nIt is %s: no processes, namespaces or cgroup are left to read.", sb.Status)
		return r.err
	}
	if c := s.Container; c != nil && !c.Running() {
		r.line("\nIt is %s: no processes, namespaces or cgroup are left to read.", c.Status)
		return r.err
	}
	r.namespaces(s)
	r.processes(s)
	r.environ(s)
	r.security(s)
	r.filesystem(s)
	r.cgroup(s)
	r.network(s)
	r.uts(s)
	if len(s.Errors) > 0 {
		r.section("Not read")
		for _, e := range s.Errors {
			r.line("  %s", e)
		}
	}
	return r.err
}

type reporter struct {
	w       io.Writer
	sources bool
	err     error
}

func (r *reporter) line(format string, a ...any) {
	if r.err == nil {
		_, r.err = fmt.Fprintf(r.w, format+"\n", a...)
	}
}

func (r *reporter) section(name string) { r.line("\n%s", name) }

// src is "  (from PATH)" when sources are asked for.
func (r *reporter) src(path string) string {
	if !r.sources || path == "" {
		return ""
	}
	return "  (" + path + ")"
}

func (r *reporter) table(fn func(tw *tabwriter.Writer)) {
	if r.err != nil {
		return
	}
	tw := tabwriter.NewWriter(r.w, 2, 4, 2, ' ', 0)
	fn(tw)
	r.err = tw.Flush()
}

func (r *reporter) header(s *inspect.Snapshot) {
	if c := s.Container; c != nil {
		img := ""
		if c.Image != "" {
			img = ", image " + c.Image
		}
		r.line("Container %s (%s %s)%s, %s; PID %d on the host, taken %s — read-only: glassbox does not change %s's containers",
			c.Ref(), c.Engine, c.ShortID(), img, c.Status, s.PID, s.Taken.Format("15:04:05.000"), c.Engine)
		return
	}
	if sb := s.Sandbox; sb != nil {
		if sb.Status != state.Running && sb.Status != state.Paused {
			r.line("Sandbox %s (%s), image %s, %s; taken %s", sb.Name, sb.ID, sb.Image, sb.Status, s.Taken.Format("15:04:05.000"))
			return
		}
		r.line("Sandbox %s (%s), image %s, %s; init PID %d on the host, taken %s",
			sb.Name, sb.ID, sb.Image, sb.Status, s.PID, s.Taken.Format("15:04:05.000"))
		return
	}
	r.line("Process %d on the host, taken %s", s.PID, s.Taken.Format("15:04:05.000"))
}

func (r *reporter) namespaces(s *inspect.Snapshot) {
	r.section("Namespaces")
	r.table(func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "  KIND\tINODE\tHOST INODE\t")
		for _, n := range s.Namespaces {
			own := "shared with host"
			if n.Own {
				own = "own"
			}
			if n.InitInode != 0 {
				// glassbox's init unshares time for its children only.
				init := fmt.Sprint(n.InitInode)
				if n.InitInode == n.HostInode {
					init += ", the host's"
				}
				own += fmt.Sprintf(" (the workload's; its init is in %s)", init)
			}
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%s%s\n", n.Kind, n.Inode, n.HostInode, own, r.src(n.Source))
		}
	})
}

func (r *reporter) processes(s *inspect.Snapshot) {
	r.section("Processes" + r.src(s.Cgroup.ProcsSource))
	r.table(func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "  HOST PID\tPID INSIDE\tNSPID\tPPID\tSTATE\tTHREADS\tRSS\tCPU\tCOMMAND\t")
		for _, p := range s.Processes {
			nspid := make([]string, len(p.NSpid))
			for i, n := range p.NSpid {
				nspid[i] = fmt.Sprint(n)
			}
			cmd := strings.Join(p.Args, " ")
			if cmd == "" {
				cmd = "[" + p.Command + "]"
			}
			if len(cmd) > 60 {
				cmd = cmd[:57] + "..."
			}
			fmt.Fprintf(tw, "  %d\t%d\t%s\t%d\t%s\t%d\t%s\t%.2fs\t%s%s\n", p.HostPID, p.SandboxPID,
				strings.Join(nspid, " → "), p.PPID, p.State, p.Threads, Bytes(p.RSSBytes), p.CPUTime, cmd, r.src(p.Source))
		}
	})
	for _, p := range s.Processes {
		r.line("  %d capabilities (CapEff %s): %s", p.HostPID, p.CapEff, capsSummary(p.Caps))
	}
}

// environ is the workload's environment, each variable with where it came
// from: the image's ENV, -e (marked where it overrides the image), glassbox.
func (r *reporter) environ(s *inspect.Snapshot) {
	vars := Env(s.Environ.Vars, s.Sandbox)
	if len(vars) == 0 {
		return
	}
	src := s.Environ.Source
	if src == "" {
		src = "the record: the process could not be read"
	}
	r.section("Environment (the workload's, " + src + ")")
	r.table(func(tw *tabwriter.Writer) {
		for _, v := range vars {
			from := v.From
			if v.Overrides {
				from = "◆ " + from
			}
			fmt.Fprintf(tw, "  %s\t%s=%s\n", from, v.Key, v.Value)
		}
	})
}

func capsSummary(caps []string) string {
	switch {
	case len(caps) == 0:
		return "none"
	case len(caps) > len(state.CapNames)/2:
		// Say what is missing from the full set: shorter, and the point.
		var missing []string
		for _, n := range state.CapNames {
			if !slices.Contains(caps, n) {
				missing = append(missing, strings.ToLower(strings.TrimPrefix(n, "CAP_")))
			}
		}
		if len(missing) == 0 {
			return fmt.Sprintf("all %d", len(caps))
		}
		return fmt.Sprintf("%d, all but %s", len(caps), strings.Join(missing, " "))
	}
	short := make([]string, len(caps))
	for i, c := range caps {
		short[i] = strings.ToLower(strings.TrimPrefix(c, "CAP_"))
	}
	return strings.Join(short, " ")
}

func (r *reporter) filesystem(s *inspect.Snapshot) {
	f := s.Filesystem
	r.section("Filesystem" + r.src(f.Source))
	root := f.RootType
	if f.RootType != "overlay" && f.RootSource != "" {
		root += " " + f.RootSource
		if f.RootDir != "" && f.RootDir != "/" {
			root += ", directory " + f.RootDir + " of it"
			if f.RootHostDir != "" && f.RootHostDir != f.RootDir {
				root += ", " + f.RootHostDir + " on the host"
			}
			root += " (bind-mounted as /)"
		}
	}
	if c := s.Container; c != nil && c.RootFS != "" {
		root += "; the runtime was given " + c.RootFS
		if c.Bundle != "" {
			root += " (bundle " + c.Bundle + ")"
		}
	}
	r.line("  root: %s", root)
	if f.RootType == "overlay" {
		r.line("  upper (writable): %s — %s in %d changed entries", f.Upper.Dir, Bytes(f.Upper.SizeBytes), f.Upper.ChangedFiles)
		r.line("  work: %s", f.Upper.Work)
		r.line("  read-only layers, top-most first as overlay looks them up (#1 is the image's base):")
		r.table(func(tw *tabwriter.Writer) {
			fmt.Fprintln(tw, "  LAYER\tDIGEST\tSIZE\tSHARED BY\tCREATED BY\tDIR\t")
			foreign := s.Container != nil
			for i, l := range f.Lowers {
				digest, size, shared, by := "-", "-", "-", "-"
				number := LayerNumber(i, len(f.Lowers))
				if l.SizeBytes > 0 {
					size = Bytes(l.SizeBytes)
				}
				if l.Digest != "" {
					digest = shortDigest(l.Digest)
					if !foreign { // only glassbox's own sandboxes are counted
						shared = strings.TrimPrefix(SharedBy(l.SharedBy, l.SharedWith), "shared by ")
					}
					by = l.CreatedBy
					if len(by) > 50 {
						by = by[:47] + "..."
					}
				}
				dir := l.Dir
				if l.Resolved != "" {
					dir += " → " + l.Resolved
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t\n", number, digest, size, shared, by, dir)
			}
		})
	}
	r.line("  mounts:")
	r.table(func(tw *tabwriter.Writer) {
		for _, m := range f.Mounts {
			var notes []string
			if m.Masked {
				notes = append(notes, "masked")
			}
			if m.ReadOnly {
				notes = append(notes, "read-only")
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t\n", m.MountPoint, m.FSType, m.Source, strings.Join(notes, ", "))
		}
	})
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

func (r *reporter) cgroup(s *inspect.Snapshot) {
	c := s.Cgroup
	r.section("Cgroup")
	r.line("  mode %s, path %s", c.Mode, c.Path)
	for _, g := range inspect.ControllerPaths(c) {
		r.line("    %s for %s", g.Path, strings.Join(g.Controllers, ", "))
		if r.sources {
			for _, d := range g.Dirs {
				r.line("      %s", d)
			}
		}
	}
	m := c.Memory
	r.line("  memory: %s of %s (peak %s)%s", val(m.Usage, Bytes), limit(m.Limit, Bytes), val(m.Peak, Bytes), r.src(m.Usage.Source))
	r.line("    anon %s, file %s (of which shmem %s), kernel %s, swap %s%s",
		val(m.Anon, Bytes), val(m.File, Bytes), val(m.Shmem, Bytes), val(m.Kernel, Bytes), val(m.SwapUsage, Bytes), r.src(m.Anon.Source))
	oom := "OOM kills " + val(m.OOMKills, count)
	if m.OOM.Valid {
		oom += ", OOM events " + val(m.OOM, count)
	}
	if m.UnderOOM.Valid {
		oom += ", under OOM now " + val(m.UnderOOM, count)
	}
	if m.FailCount.Valid {
		oom += ", failcnt " + val(m.FailCount, count)
	}
	r.line("    %s%s", oom, r.src(m.OOMKills.Source))
	p := c.CPU
	quota := "no quota"
	if q := p.QuotaCores(); q > 0 {
		quota = fmt.Sprintf("quota %.2f cores (%d µs per %d µs)", q, p.QuotaUS.Value, p.PeriodUS.Value)
	}
	r.line("  cpu: used %s total, %s%s", val(p.UsageNS, seconds), quota, r.src(p.UsageNS.Source))
	if p.IntervalSeconds > 0 {
		pct := ""
		if p.QuotaCores() > 0 {
			pct = fmt.Sprintf(" = %.0f%% of quota", p.PercentOfQuota)
		}
		r.line("    over the last %.2fs: %.3f cores%s, throttled in %d of %d periods (%s)",
			p.IntervalSeconds, p.CoresUsed, pct, p.ThrottledDelta, p.PeriodsDelta, seconds(p.ThrottledNSDelta))
	}
	r.line("    throttled %s of %s periods, for %s in all%s", val(p.Throttled, count), val(p.Periods, count), val(p.ThrottledNS, seconds), r.src(p.Throttled.Source))
	r.line("  pids: %s of %s%s", val(c.Pids.Current, count), limit(c.Pids.Limit, count), r.src(c.Pids.Current.Source))
	if len(c.Pressure) > 0 {
		var ps []string
		for _, k := range inspect.PressureKinds {
			if v, ok := c.Pressure[k]; ok {
				ps = append(ps, fmt.Sprintf("%s %.2f%%", k, v))
			}
		}
		r.line("  pressure (some, avg10): %s", strings.Join(ps, ", "))
	}
	frozen := "no"
	if c.Frozen {
		frozen = "yes"
	}
	r.line("  frozen: %s%s", frozen, r.src(c.FrozenSource))
}

func (r *reporter) network(s *inspect.Snapshot) {
	n := s.Network
	r.section("Network" + r.src(n.Source))
	r.table(func(tw *tabwriter.Writer) {
		for _, it := range n.Interfaces {
			state := "down"
			if it.Up {
				state = "up"
			}
			if n.AddrSource == "" {
				state = "?"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\trx %s\ttx %s\t\n", it.Name, state, it.MAC,
				strings.Join(it.Addrs, " "), Bytes(it.RxBytes), Bytes(it.TxBytes))
		}
	})
	for _, p := range n.Ports {
		r.line("  published: %s%s", Port(p), portVia(s, p))
	}
	for i, l := range Firewall(n.Firewall) {
		if i == 0 {
			l += r.src(n.Firewall.Source)
		}
		r.line("  %s", l)
	}
}

// portVia says who carries a published port's connections.
func portVia(s *inspect.Snapshot, p state.Port) string {
	switch p.Via {
	case state.ViaKernel:
		table := state.ForwardTable("<id>")
		if s.Sandbox != nil {
			table = state.ForwardTable(s.Sandbox.ID)
		}
		return ", local connections rewritten by the kernel (nftables DNAT: nft list table ip " + table + "), others by the supervisor's proxy"
	case state.ViaProxy:
		if p.ProxyReason != "" {
			return ", copied by the supervisor's userland proxy (" + p.ProxyReason + ")"
		}
		return ", copied by the supervisor's userland proxy"
	}
	return ""
}

func (r *reporter) uts(s *inspect.Snapshot) {
	u := s.UTS
	r.section("UTS and kernel")
	r.line("  hostname inside: %s%s", u.Hostname, r.src(u.Source))
	r.line("  hostname on the host: %s%s", u.HostHostname, r.src(u.HostSource))
	r.line("  kernel: %s, the same inside and out (one shared kernel)%s", u.KernelRelease, r.src(u.KernelSource))
}

func val(v inspect.Value, f func(int64) string) string {
	if !v.Valid {
		return "n/a"
	}
	return f(v.Value)
}

func limit(v inspect.Value, f func(int64) string) string {
	if !v.Valid {
		if v.Source != "" {
			return "unlimited"
		}
		return "n/a"
	}
	return f(v.Value)
}

func count(n int64) string { return fmt.Sprint(n) }

func seconds(ns int64) string { return fmt.Sprintf("%.3fs", float64(ns)/1e9) }
