// Package guest is the init of glassbox's micro-VM: PID 1 of a kernel that
// qemu booted from an initramfs glassbox wrote (sandbox/vm). The initramfs
// carries the calculator image's files; /init is a link to the image's
// calculator, which is glassbox itself (a multi-call binary), so the init
// costs no bytes of its own.
//
// What it does, in order: mount /proc, /sys and /dev; load the kernel
// modules the network card needs; bring up lo and the card with the
// address qemu's user-mode network expects; start the workload with the
// image's command, environment and working directory; reap children; and
// power the machine off when the workload exits (qemu -no-reboot then
// exits too). Any failure is written to the console, and the machine
// powers off: a host that waits for /health sees qemu exit and shows the
// console.
package guest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ConfigPath is where the initramfs carries the Config.
const ConfigPath = "/etc/glassbox-vm.json"

// Config is what the host tells the init, as JSON at ConfigPath.
type Config struct {
	Hostname string `json:"hostname"`
	// Modules are the kernel modules to load, dependencies first, as paths
	// inside the initramfs.
	Modules []string `json:"modules,omitempty"`
	// Interface gets Address (CIDR) and a default route via Gateway.
	Interface string `json:"interface"`
	Address   string `json:"address"`
	Gateway   string `json:"gateway"`
	// Args, Env and WorkDir start the workload, as the image says.
	Args    []string `json:"args"`
	Env     []string `json:"env"`
	WorkDir string   `json:"work_dir"`
}

// IsInit says whether this process is the micro-VM's init: PID 1 started
// as /init (the kernel's default rdinit for an initramfs).
func IsInit() bool {
	return os.Getpid() == 1 && len(os.Args) > 0 && os.Args[0] == "/init"
}

// Main runs the init; it never returns normally (the machine powers off).
func Main() int {
	err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "glassbox-vm-init:", err)
	}
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	return 1 // only if the reboot call failed
}

func run() error {
	if err := mountAll(); err != nil {
		return err
	}
	data, err := os.ReadFile(ConfigPath)
	if err != nil {
		return err
	}
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("parse %s: %w", ConfigPath, err)
	}
	if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
		return fmt.Errorf("set hostname: %w", err)
	}
	for _, m := range cfg.Modules {
		if err := loadModule(m); err != nil {
			return err
		}
	}
	if err := network(cfg); err != nil {
		return err
	}
	return runWorkload(cfg)
}

func mountAll() error {
	for _, m := range []struct{ fstype, target string }{
		{"proc", "/proc"}, {"sysfs", "/sys"}, {"devtmpfs", "/dev"},
	} {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return err
		}
		err := unix.Mount(m.fstype, m.target, m.fstype, unix.MS_NOSUID|unix.MS_NOEXEC, "")
		if err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
		}
	}
	return nil
}

// loadModule loads one module file; one the kernel already has is fine.
func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("load module: %w", err)
	}
	defer f.Close()
	flags := 0
	if strings.HasSuffix(path, ".xz") || strings.HasSuffix(path, ".zst") || strings.HasSuffix(path, ".gz") {
		flags = unix.MODULE_INIT_COMPRESSED_FILE // the kernel unpacks it (CONFIG_MODULE_DECOMPRESS)
	}
	if err := unix.FinitModule(int(f.Fd()), "", flags); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("load module %s: %w", path, err)
	}
	return nil
}

// network brings up lo and the card. The card's driver registers it while
// its module loads, but a PCI probe may still be running: wait a little.
func network(cfg Config) error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	var card netlink.Link
	deadline := time.Now().Add(10 * time.Second)
	for {
		if card, err = netlink.LinkByName(cfg.Interface); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no network card %s: the kernel has no driver for qemu's virtio-net card (%w)", cfg.Interface, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	addr, err := netlink.ParseAddr(cfg.Address)
	if err != nil {
		return fmt.Errorf("address %q: %w", cfg.Address, err)
	}
	if err := netlink.AddrAdd(card, addr); err != nil {
		return fmt.Errorf("address %s on %s: %w", cfg.Address, cfg.Interface, err)
	}
	if err := netlink.LinkSetUp(card); err != nil {
		return fmt.Errorf("bring up %s: %w", cfg.Interface, err)
	}
	if gw := net.ParseIP(cfg.Gateway); gw != nil {
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: card.Attrs().Index, Gw: gw}); err != nil {
			return fmt.Errorf("default route via %s: %w", cfg.Gateway, err)
		}
	}
	return nil
}

// runWorkload starts the workload and reaps every child until the
// workload has exited; its exit ends the machine.
func runWorkload(cfg Config) error {
	if len(cfg.Args) == 0 {
		return errors.New("no command to run")
	}
	cmd := exec.Command(cfg.Args[0], cfg.Args[1:]...)
	cmd.Env = cfg.Env
	cmd.Dir = cfg.WorkDir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cfg.Args[0], err)
	}
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("wait: %w", err)
		}
		if pid == cmd.Process.Pid {
			return fmt.Errorf("%s exited: %v", cfg.Args[0], exitWords(ws))
		}
	}
}

func exitWords(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + unix.SignalName(ws.Signal())
	}
	return fmt.Sprintf("status %d", ws.ExitStatus())
}
