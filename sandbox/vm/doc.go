// Package vm boots glassbox's micro-VM: qemu with a stock kernel (the
// host's own image where it can be read, else one fetched into
// KernelCache), KVM where it really works and software emulation (TCG)
// otherwise, and an initramfs glassbox writes itself (cpio newc, in a
// memory file) holding the calculator image's files, the modules of the
// network card and a tiny init (package guest). The host reaches the
// guest's service through qemu's user-mode network: a hostfwd rule from a
// port on 127.0.0.1.
//
// It exists to put a VM and a sandbox side by side on the same machine
// (glassbox vm-vs-container): the VM boots a kernel of its own, the
// sandbox shares the host's.
package vm
