package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"

	"glassbox/sandbox/state"
)

// leaseFile is the JSON file of one bridge's address leases, keyed by
// sandbox id. It is only read and written under the bridge's lock.
type leaseFile struct {
	Bridge string                `json:"bridge"`
	Leases map[string]netip.Addr `json:"leases"`
}

func leasePath(roots state.Roots, bridge string) string {
	return filepath.Join(Dir(roots), bridge+".leases.json")
}

func loadLeases(roots state.Roots, bridge string) (*leaseFile, error) {
	lf := &leaseFile{Bridge: bridge, Leases: map[string]netip.Addr{}}
	path := leasePath(roots, bridge)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return lf, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read leases %s: %w", path, err)
	}
	if err := json.Unmarshal(data, lf); err != nil {
		return nil, fmt.Errorf("decode leases %s: %w", path, err)
	}
	if lf.Leases == nil {
		lf.Leases = map[string]netip.Addr{}
	}
	return lf, nil
}

// save writes the file atomically; a file with no lease left is removed.
func (lf *leaseFile) save(roots state.Roots) error {
	path := leasePath(roots, lf.Bridge)
	if len(lf.Leases) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove leases %s: %w", path, err)
		}
		return nil
	}
	data, err := json.MarshalIndent(lf, "", "  ")
	if err != nil {
		return fmt.Errorf("encode leases: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write leases %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write leases %s: %w", path, err)
	}
	return nil
}

// pick returns the lowest address of the subnet that is neither leased nor
// in taken, and records it for id. A sandbox that already holds a lease
// keeps it.
func (lf *leaseFile) pick(cfg Config, id string, taken map[netip.Addr]bool) (netip.Addr, error) {
	if a, ok := lf.Leases[id]; ok && cfg.Subnet.Contains(a) && !taken[a] {
		return a, nil
	}
	used := map[netip.Addr]bool{}
	for other, a := range lf.Leases {
		if other != id {
			used[a] = true
		}
	}
	var got netip.Addr
	cfg.hosts(func(a netip.Addr) bool {
		if used[a] || taken[a] {
			return true
		}
		got = a
		return false
	})
	if !got.IsValid() {
		return netip.Addr{}, fmt.Errorf("no free address left in %s on %s: %d sandboxes hold one (a larger %s, or `glassbox prune`, frees some)",
			cfg.Subnet, cfg.Bridge, len(used), SubnetEnv)
	}
	lf.Leases[id] = got
	return got, nil
}

// Lease is one address held by one sandbox.
type Lease struct {
	ID string
	IP netip.Addr
}

// Leases lists the leases of a bridge below a state root, by address.
func Leases(roots state.Roots, bridge string) ([]Lease, error) {
	l, err := lockBridge(roots, bridge)
	if err != nil {
		return nil, err
	}
	defer l.unlock()
	lf, err := loadLeases(roots, bridge)
	if err != nil {
		return nil, err
	}
	out := make([]Lease, 0, len(lf.Leases))
	for id, a := range lf.Leases {
		out = append(out, Lease{ID: id, IP: a})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out, nil
}

// allocate leases an address to id on cfg's bridge, under the lock.
func allocate(roots state.Roots, cfg Config, id string, taken map[netip.Addr]bool) (netip.Addr, error) {
	l, err := lockBridge(roots, cfg.Bridge)
	if err != nil {
		return netip.Addr{}, err
	}
	defer l.unlock()
	return allocateLocked(roots, cfg, id, taken)
}

func allocateLocked(roots state.Roots, cfg Config, id string, taken map[netip.Addr]bool) (netip.Addr, error) {
	lf, err := loadLeases(roots, cfg.Bridge)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := lf.pick(cfg, id, taken)
	if err != nil {
		return netip.Addr{}, err
	}
	if err := lf.save(roots); err != nil {
		return netip.Addr{}, err
	}
	return a, nil
}

// release frees id's lease on bridge, if it has one.
func release(roots state.Roots, bridge, id string) error {
	l, err := lockBridge(roots, bridge)
	if err != nil {
		return err
	}
	defer l.unlock()
	return releaseLocked(roots, bridge, id)
}

func releaseLocked(roots state.Roots, bridge, id string) error {
	lf, err := loadLeases(roots, bridge)
	if err != nil {
		return err
	}
	if _, ok := lf.Leases[id]; !ok {
		return nil
	}
	delete(lf.Leases, id)
	return lf.save(roots)
}
