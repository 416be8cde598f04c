package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"

	"glassbox/sandbox/state"
)

// Reconcile frees what sandboxes that no longer exist left behind below
// this state root: their address leases, port forwarding tables whose rules
// name this root, and veths whose label names this
// root (a sandbox whose namespace is still held somewhere keeps its veth
// alive after its glassbox crashed). live are the ids of the sandboxes that
// do exist, running or not. Leases and veths of other state roots are left
// alone.
func Reconcile(roots state.Roots, live []string) error {
	alive := make(map[string]bool, len(live))
	for _, id := range live {
		alive[id] = true
	}
	var errs []error
	files, err := filepath.Glob(filepath.Join(Dir(roots), "*.leases.json"))
	if err != nil {
		return fmt.Errorf("list lease files: %w", err)
	}
	for _, f := range files {
		bridge := strings.TrimSuffix(filepath.Base(f), ".leases.json")
		if err := reconcileLeases(roots, bridge, alive); err != nil {
			errs = append(errs, err)
		}
	}
	if err := reconcileForwards(roots, alive); err != nil {
		errs = append(errs, err)
	}
	links, err := listLinks()
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list links: %w", err))...)
	}
	for _, l := range links {
		a := l.Attrs()
		if !strings.HasPrefix(a.Name, vethPrefix) {
			continue
		}
		c, ok := parseClaim(a.Alias)
		if !ok || c.Root != roots.Run || alive[c.ID] {
			continue
		}
		if err := netlink.LinkDel(l); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete stale %s: %w", a.Name, err))
		}
	}
	return errors.Join(errs...)
}

func reconcileLeases(roots state.Roots, bridge string, alive map[string]bool) error {
	l, err := lockBridge(roots, bridge)
	if err != nil {
		return err
	}
	defer l.unlock()
	lf, err := loadLeases(roots, bridge)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	changed := false
	for id := range lf.Leases {
		if !alive[id] {
			delete(lf.Leases, id)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return lf.save(roots)
}
