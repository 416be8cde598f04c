package state

import (
	"strings"
	"testing"
)

func TestMissingListsEveryExpectedFigure(t *testing.T) {
	c := &Comparison{}
	all := len(c.Missing())
	// 3 kernel rows × 3 sides, start and disk × 2, memory, throughput, density × 3.
	if all != 9+4+9 {
		t.Errorf("an empty comparison misses %d figures, want 22: %v", all, c.Missing())
	}
	c.Set(Figure{Row: RowDisk, Side: SideVM, Value: 1})
	if len(c.Missing()) != all-1 {
		t.Errorf("after one figure: %d missing, want %d", len(c.Missing()), all-1)
	}
	c.Set(Figure{Row: RowDisk, Side: SideHost, Value: 1}) // not expected: changes nothing
	if len(c.Missing()) != all-1 {
		t.Errorf("an unexpected figure changed the count: %v", c.Missing())
	}
	c.VMs, c.Sandboxes = 2, 0
	if m := strings.Join(c.Missing(), " "); !strings.Contains(m, "vm/started") || strings.Contains(m, "sandbox/started") {
		t.Errorf("with --vms 2 only: %s", m)
	}
}
