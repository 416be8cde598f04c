package network

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"glassbox/sandbox/state"
)

// Crash recovery works one sandbox at a time, under that sandbox's lock
// (state/lock.go): Leftovers says which sandboxes of a state root hold
// something of the network, and Forget frees what one of them holds. A
// sandbox's caller decides which ids may go — never this package, which
// cannot tell a sandbox that is starting from one that is gone.

// Leftovers lists the ids that hold something of the network below this
// state root: an address lease, a veth whose label names this root, or a
// port forwarding table whose rules name it. Other roots' are not listed.
func Leftovers(roots state.Roots) ([]string, error) {
	ids := map[string]bool{}
	var errs []error
	files, err := filepath.Glob(filepath.Join(Dir(roots), "*.leases.json"))
	if err != nil {
		return nil, fmt.Errorf("list lease files: %w", err)
	}
	for _, f := range files {
		bridge := strings.TrimSuffix(filepath.Base(f), ".leases.json")
		leases, err := Leases(roots, bridge)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range leases {
			ids[l.ID] = true
		}
	}
	tables, err := ForwardTables()
	if err != nil {
		errs = append(errs, fmt.Errorf("list port forwarding tables: %w", err))
	}
	for id, root := range tables {
		if root == roots.Run {
			ids[id] = true
		}
	}
	links, err := listLinks()
	if err != nil {
		errs = append(errs, fmt.Errorf("list links: %w", err))
	}
	for _, l := range links {
		a := l.Attrs()
		if !strings.HasPrefix(a.Name, vethPrefix) {
			continue
		}
		if c, ok := parseClaim(a.Alias); ok && c.Root == roots.Run {
			ids[c.ID] = true
		}
	}
	out := make([]string, 0, len(ids))
	for id := range ids {
		out = append(out, id)
	}
	sort.Strings(out)
	return out, errors.Join(errs...)
}

// Forget frees everything of the network that sandbox id holds below this
// state root, on every bridge: its port forwarding table (if its rules name
// this root), its veth (if its label names this root) and its address
// leases. The caller holds the sandbox's lock. It is idempotent.
func Forget(roots state.Roots, id string) error {
	var errs []error
	tables, err := ForwardTables()
	if err != nil {
		errs = append(errs, fmt.Errorf("list port forwarding tables: %w", err))
	}
	if root, ok := tables[id]; ok && root == roots.Run {
		if err := Unforward(id); err != nil {
			errs = append(errs, err)
		}
	}
	if l, err := netlink.LinkByName(HostIf(id)); err == nil {
		if c, ok := parseClaim(l.Attrs().Alias); ok && c.Root == roots.Run {
			if err := netlink.LinkDel(l); err != nil && !isNotFound(err) && !errors.Is(err, unix.ENODEV) {
				errs = append(errs, fmt.Errorf("delete %s: %w", HostIf(id), err))
			}
		}
	} else if !isNotFound(err) {
		errs = append(errs, fmt.Errorf("look up %s: %w", HostIf(id), err))
	}
	return errors.Join(append(errs, forgetLeases(roots, id))...)
}

// forgetLeases releases id's address on every bridge of this state root.
func forgetLeases(roots state.Roots, id string) error {
	files, err := filepath.Glob(filepath.Join(Dir(roots), "*.leases.json"))
	if err != nil {
		return fmt.Errorf("list lease files: %w", err)
	}
	var errs []error
	for _, f := range files {
		bridge := strings.TrimSuffix(filepath.Base(f), ".leases.json")
		if err := release(roots, bridge, id); err != nil {
			errs = append(errs, fmt.Errorf("release the address of %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
