package sandboxtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// hostState is what a dockerd changes on the host beyond its own state
// directory, recorded before it starts so that its clean-up can put the host
// back: the iptables rules (docker adds chains and sets the FORWARD policy to
// DROP), the nftables tables the iptables-nft backend creates for them, the
// sysctls it turns on (ip_forward, bridge-nf-call-*), whether br_netfilter
// was loaded, and the files it writes outside its roots.
type hostState struct {
	// IPTablesSave holds iptables-save's and ip6tables-save's output by
	// command name; a command that is not installed has no entry.
	IPTablesSave map[string]string `json:"iptables_save"`
	// NftBackend says the iptables commands drive nftables (iptables-nft):
	// the tables they create then show in `nft list tables`.
	NftBackend bool `json:"nft_backend"`
	// NftTables lists "family name" of every nftables table; NftWorks says
	// nft could list them (it is installed and the kernel has nf_tables).
	NftTables []string `json:"nft_tables"`
	NftWorks  bool     `json:"nft_works"`
	// Sysctls holds the value of each sysctl file that existed.
	Sysctls map[string]string `json:"sysctls"`
	// BrNetfilterModule: br_netfilter was loaded as a module.
	BrNetfilterModule bool `json:"br_netfilter_module"`
	// Paths that existed (true) or not (false) among the ones dockerd may
	// create outside its state directory.
	Paths map[string]bool `json:"paths"`
	// Links says which of the links dockerd creates existed already.
	Links map[string]bool `json:"links"`
}

var (
	dockerSysctls = []string{
		"/proc/sys/net/ipv4/ip_forward",
		"/proc/sys/net/ipv6/conf/all/forwarding",
		"/proc/sys/net/bridge/bridge-nf-call-iptables",
		"/proc/sys/net/bridge/bridge-nf-call-ip6tables",
	}
	// dockerPaths are created by dockerd 20.10 whatever its roots are (the
	// libtrust key), or are the parent cgroups of its containers (cgroupfs
	// driver: "docker" in every hierarchy).
	dockerPaths = []string{"/etc/docker", "/etc/docker/key.json"}
	dockerLinks = []string{"docker0"}
)

func dockerCgroupParents() []string {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/docker")
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		dirs = append(dirs, "/sys/fs/cgroup/docker") // cgroup v2 at the top
	}
	return dirs
}

func iptablesCommands() []string { return []string{"iptables", "ip6tables"} }

// recordHostState takes the snapshot that restore returns to.
func recordHostState() (*hostState, error) {
	s := &hostState{IPTablesSave: map[string]string{}, Sysctls: map[string]string{}, Paths: map[string]bool{}, Links: map[string]bool{}}
	for _, cmd := range iptablesCommands() {
		if _, err := exec.LookPath(cmd + "-save"); err != nil {
			continue
		}
		out, err := exec.Command(cmd + "-save").Output()
		if err != nil {
			return nil, fmt.Errorf("%s-save: %w", cmd, err)
		}
		s.IPTablesSave[cmd] = string(out)
	}
	if v, err := exec.Command("iptables", "--version").Output(); err == nil {
		s.NftBackend = strings.Contains(string(v), "nf_tables")
	}
	s.NftTables, s.NftWorks = nftTables()
	for _, f := range dockerSysctls {
		if b, err := os.ReadFile(f); err == nil {
			s.Sysctls[f] = strings.TrimSpace(string(b))
		}
	}
	_, err := os.Stat("/sys/module/br_netfilter")
	s.BrNetfilterModule = err == nil
	for _, p := range append(append([]string{}, dockerPaths...), dockerCgroupParents()...) {
		_, err := os.Stat(p)
		s.Paths[p] = err == nil
	}
	for _, l := range dockerLinks {
		_, err := os.Stat(filepath.Join("/sys/class/net", l))
		s.Links[l] = err == nil
	}
	return s, nil
}

func nftTables() ([]string, bool) {
	out, err := exec.Command("nft", "list", "tables").Output()
	if err != nil {
		return nil, false
	}
	var tables []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "table" {
			tables = append(tables, f[1]+" "+f[2])
		}
	}
	sort.Strings(tables)
	return tables, true
}

func (s *hostState) save(file string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o600)
}

func loadHostState(file string) (*hostState, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var s hostState
	return &s, json.Unmarshal(b, &s)
}

// restore puts back what recordHostState saw, once dockerd and its
// containers are gone: every iptables table returns to its saved rules,
// tables that did not exist are emptied (and, with the nftables backend,
// deleted), the sysctls get their values back, br_netfilter is unloaded if
// dockerd loaded it, and paths and links that did not exist are removed.
// It does as much as it can and returns every failure.
func (s *hostState) restore() error {
	var errs []error
	for _, cmd := range iptablesCommands() {
		before, ok := s.IPTablesSave[cmd]
		if !ok {
			continue
		}
		if err := restoreIPTables(cmd, before); err != nil {
			errs = append(errs, err)
		}
	}
	if s.NftBackend && s.NftWorks {
		had := map[string]bool{}
		for _, t := range s.NftTables {
			had[t] = true
		}
		now, _ := nftTables()
		for _, t := range now {
			family, name, _ := strings.Cut(t, " ")
			if had[t] || (family != "ip" && family != "ip6") || !iptablesTable[name] {
				continue
			}
			if out, err := exec.Command("nft", "delete", "table", family, name).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("nft delete table %s: %v: %s", t, err, bytes.TrimSpace(out)))
			}
		}
	}
	if _, err := os.Stat("/sys/module/br_netfilter/refcnt"); err == nil && !s.BrNetfilterModule {
		// Loaded by dockerd, as a module (refcnt exists only for modules,
		// not for a built-in br_netfilter): unloading it removes the
		// bridge-nf-call-* sysctls with it.
		if out, err := exec.Command("modprobe", "-r", "br_netfilter").CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("modprobe -r br_netfilter: %v: %s", err, bytes.TrimSpace(out)))
		}
	}
	for f, v := range s.Sysctls {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		if err := os.WriteFile(f, []byte(v), 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	for l, existed := range s.Links {
		if existed {
			continue
		}
		if _, err := os.Stat(filepath.Join("/sys/class/net", l)); err == nil {
			if out, err := exec.Command("ip", "link", "delete", l).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("ip link delete %s: %v: %s", l, err, bytes.TrimSpace(out)))
			}
		}
	}
	for _, p := range append(append([]string{}, dockerPaths...), dockerCgroupParents()...) {
		if s.Paths[p] {
			continue
		}
		if strings.HasPrefix(p, "/sys/fs/cgroup/") {
			if err := removeCgroupTree(p); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// iptablesTable names the tables the iptables commands manage.
var iptablesTable = map[string]bool{"filter": true, "nat": true, "mangle": true, "raw": true, "security": true}

// restoreIPTables gives every table of cmd (iptables or ip6tables) the rules
// of the saved dump: tables in the dump are replaced whole (iptables-restore
// flushes what it restores), tables created since are emptied, with their
// built-in chains back at ACCEPT and their user chains deleted.
//
// Except glassbox's own chain and FORWARD's jump to it (state.IptablesChain):
// sandboxes that other tests start or remove while the dockerd runs add and
// delete its rules, so they are kept as they are now, not as they were. The
// restore holds the lock glassbox takes to change them.
func restoreIPTables(cmd, before string) error {
	if cmd == "iptables" {
		unlock, err := lockFile(state.IptablesLock)
		if err != nil {
			return err
		}
		defer unlock()
	}
	now, err := exec.Command(cmd + "-save").Output()
	if err != nil {
		return fmt.Errorf("%s-save: %w", cmd, err)
	}
	input := before
	saved := dumpTables(before)
	for table, chains := range dumpTables(string(now)) {
		if _, ok := saved[table]; ok {
			continue
		}
		input += "*" + table + "\n"
		for _, c := range chains {
			input += ":" + c + " ACCEPT [0:0]\n"
		}
		input += "COMMIT\n"
	}
	input = withGlassboxRules(input, string(now))
	if strings.TrimSpace(input) == "" {
		return nil
	}
	restore := exec.Command(cmd+"-restore", "-w")
	restore.Stdin = strings.NewReader(input)
	if out, err := restore.CombinedOutput(); err != nil {
		return fmt.Errorf("%s-restore: %v: %s", cmd, err, bytes.TrimSpace(out))
	}
	return nil
}

// isGlassboxRule: a line of an iptables-save dump that declares glassbox's
// chain, or is a rule in it or a jump to it.
func isGlassboxRule(line string) bool {
	return strings.HasPrefix(line, ":"+state.IptablesChain+" ") ||
		strings.HasPrefix(line, "-A "+state.IptablesChain+" ") ||
		line == "-A FORWARD -j "+state.IptablesChain
}

// withGlassboxRules is the restore input with the filter table's glassbox
// lines taken from the dump now instead: the chain declared with the
// others, its rules and FORWARD's jump after the rest.
func withGlassboxRules(input, now string) string {
	var decls, rules []string
	table := ""
	for _, line := range strings.Split(now, "\n") {
		if strings.HasPrefix(line, "*") {
			table = line[1:]
		}
		if table == "filter" && isGlassboxRule(line) {
			if strings.HasPrefix(line, ":") {
				decls = append(decls, line)
			} else {
				rules = append(rules, line)
			}
		}
	}
	var out []string
	table = ""
	declared := false
	for _, line := range strings.Split(input, "\n") {
		if strings.HasPrefix(line, "*") {
			table = line[1:]
		}
		if table != "filter" {
			out = append(out, line)
			continue
		}
		if isGlassboxRule(line) {
			continue
		}
		if !declared && (strings.HasPrefix(line, "-") || line == "COMMIT") {
			out, declared = append(out, decls...), true
		}
		if line == "COMMIT" {
			out = append(out, rules...)
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// lockFile takes an exclusive flock on path (created if need be) and
// returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// dumpTables reads an iptables-save dump: each table with its built-in
// chains (the ones with a policy).
func dumpTables(dump string) map[string][]string {
	tables := map[string][]string{}
	table := ""
	for _, line := range strings.Split(dump, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
			tables[table] = nil
		case strings.HasPrefix(line, ":") && table != "":
			f := strings.Fields(line[1:])
			if len(f) >= 2 && f[1] != "-" {
				tables[table] = append(tables[table], f[0])
			}
		}
	}
	return tables
}
