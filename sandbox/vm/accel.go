package vm

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Accel is how qemu runs the guest's instructions.
type Accel struct {
	KVM bool `json:"kvm"`
	// Name is "KVM" or "TCG" (qemu's software emulation).
	Name string `json:"name"`
	// Why says, for people, why this one.
	Why  string   `json:"why"`
	args []string // qemu options
}

// kvmModules are the hypervisors a stock guest kernel runs on. /dev/kvm
// alone is not enough: a paravirtual one (kvm_pvm, found on some cloud
// VMs) runs only specially patched guests; a stock kernel hangs early or
// dies with "KVM internal error".
var kvmModules = []string{"kvm_intel", "kvm_amd"}

// DetectAccel picks KVM where it works for a stock kernel, else TCG.
func DetectAccel() Accel {
	return detectAccel("/sys/module", "/dev/kvm")
}

func detectAccel(sysModule, dev string) Accel {
	tcg := Accel{Name: "TCG", args: []string{"-accel", "tcg,thread=multi", "-cpu", "max"}}
	if runtime.GOARCH != "amd64" {
		tcg.Why = "software emulation"
		return tcg
	}
	var found []string
	for _, m := range kvmModules {
		if _, err := os.Stat(filepath.Join(sysModule, m)); err == nil {
			found = append(found, m)
		}
	}
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err == nil {
		f.Close()
	}
	switch {
	case len(found) > 0 && err == nil:
		return Accel{KVM: true, Name: "KVM", Why: "hardware virtualisation (" + strings.Join(found, ", ") + ")",
			args: []string{"-accel", "kvm", "-cpu", "host"}}
	case len(found) > 0:
		tcg.Why = "software emulation: " + dev + " cannot be opened (" + err.Error() + ")"
	case err == nil:
		others, _ := filepath.Glob(filepath.Join(sysModule, "kvm_*"))
		var names []string
		for _, o := range others {
			names = append(names, filepath.Base(o))
		}
		if len(names) == 0 {
			names = []string{"no kvm_intel or kvm_amd module"}
		}
		tcg.Why = "software emulation: " + dev + " is served by " + strings.Join(names, ", ") + ", which cannot run a stock kernel"
	default:
		tcg.Why = "software emulation: no " + dev + " (no hardware virtualisation here)"
	}
	return tcg
}
