package vm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/sandbox/vm/guest"
)

// The guest's side of qemu's user-mode network (slirp): the guest is
// 10.0.2.15, the host is reachable as 10.0.2.2. A hostfwd rule carries
// connections to a port on the host's 127.0.0.1 to the guest.
const (
	guestAddress = "10.0.2.15/24"
	guestGateway = "10.0.2.2"
	guestCard    = "eth0"
)

// NoQemuError says that qemu is missing and which package brings it.
type NoQemuError struct{ Binary, Package string }

func (e *NoQemuError) Error() string {
	return fmt.Sprintf("%s is not installed: apt-get install --no-install-recommends %s", e.Binary, e.Package)
}

// FindQemu returns the qemu system emulator for this machine's
// architecture. The micro-VM boots a guest of the host's own architecture,
// x86-64 only for now.
func FindQemu() (string, error) {
	if runtime.GOARCH != "amd64" {
		return "", fmt.Errorf("the micro-VM boots x86-64 guests only; this machine is %s", runtime.GOARCH)
	}
	p, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return "", &NoQemuError{Binary: "qemu-system-x86_64", Package: "qemu-system-x86"}
	}
	return p, nil
}

// Initramfs is the micro-VM's initramfs, held in a memory file (memfd):
// nothing on disk to leave behind, and the kernel frees it when the last
// process holding it (this one, or a qemu reading it) is gone.
type Initramfs struct {
	f    *os.File
	Size int64
}

// NewInitramfs writes the initramfs for the workload (see WriteInitramfs)
// into a memory file.
func NewInitramfs(layers []string, init string, k *Kernel, cfg guest.Config) (*Initramfs, error) {
	fd, err := unix.MemfdCreate("glassbox-vm-initramfs", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("initramfs: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "glassbox-vm-initramfs")
	bw := bufio.NewWriterSize(f, 1<<20)
	n, err := WriteInitramfs(bw, layers, init, k, cfg)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Initramfs{f: f, Size: n}, nil
}

// Close frees the initramfs (once no qemu holds it either).
func (i *Initramfs) Close() error { return i.f.Close() }

// GuestConfig is the init's configuration for a workload: the network as
// qemu's user-mode network wants it, the image's command and environment.
func GuestConfig(hostname string, args, env []string, workDir string) guest.Config {
	return guest.Config{
		Hostname: hostname, Interface: guestCard, Address: guestAddress, Gateway: guestGateway,
		Args: args, Env: env, WorkDir: workDir,
	}
}

// Options say what machine to start.
type Options struct {
	Qemu      string // the emulator (FindQemu)
	Name      string // shows in ps and as qemu's process name: glassbox-vm-<Name>
	Kernel    *Kernel
	Initramfs *Initramfs
	Accel     Accel
	MemoryMB  int
	CPUs      int
	// HostPort on the host's 127.0.0.1 is forwarded to GuestPort.
	HostPort, GuestPort int
}

// Machine is a running qemu process.
type Machine struct {
	Name    string
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	err     error
	console *tail
}

// Args are qemu's arguments for opts: a PC with no default devices, the
// kernel booted directly (no firmware menu, no disk), the console on the
// first serial port, and one virtio network card on the user-mode network.
func (o Options) Args() []string {
	name := "glassbox-vm-" + o.Name
	args := []string{
		"-name", name + ",process=" + name,
		"-machine", "pc", "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none", "-no-reboot",
	}
	args = append(args, o.Accel.args...)
	args = append(args,
		"-smp", strconv.Itoa(o.CPUs), "-m", strconv.Itoa(o.MemoryMB),
		"-kernel", o.Kernel.Image,
		"-initrd", "/proc/self/fd/3", // the memfd, inherited as fd 3
		// panic=-1 and -no-reboot: a guest that panics ends qemu instead of
		// hanging; quiet: every console line costs time under emulation.
		"-append", "console=ttyS0 panic=-1 quiet mitigations=off",
		"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
		"-netdev", fmt.Sprintf("user,id=net0,hostfwd=tcp:127.0.0.1:%d-:%d", o.HostPort, o.GuestPort),
		// romfile=: no iPXE boot ROM to load and run at emulation speed.
		"-device", "virtio-net-pci,netdev=net0,romfile=",
	)
	return args
}

// Start starts qemu. The machine is killed if this process dies (even by
// SIGKILL): qemu gets SIGKILL as its parent-death signal.
func Start(o Options) (*Machine, error) {
	m := &Machine{Name: "glassbox-vm-" + o.Name, done: make(chan struct{}), console: &tail{max: 16 << 10}}
	cmd := exec.Command(o.Qemu, o.Args()...)
	cmd.Stdout, cmd.Stderr = m.console, m.console
	cmd.ExtraFiles = []*os.File{o.Initramfs.f}
	// Its own process group: a Ctrl-C at the terminal reaches glassbox,
	// which stops the machine itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	m.cmd = cmd
	m.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Qemu, err)
	}
	go func() {
		m.err = cmd.Wait()
		close(m.done)
	}()
	return m, nil
}

// PID is qemu's process id.
func (m *Machine) PID() int { return m.cmd.Process.Pid }

// Started is when qemu was started.
func (m *Machine) Started() time.Time { return m.started }

// Done is closed when qemu has exited.
func (m *Machine) Done() <-chan struct{} { return m.done }

// ExitError describes how qemu ended, with the end of its console.
func (m *Machine) ExitError() error {
	select {
	case <-m.done:
	default:
		return nil
	}
	how := "exited"
	if m.err != nil {
		how = m.err.Error()
	}
	return fmt.Errorf("%s: qemu %s; its console said:\n%s", m.Name, how, indent(m.console.String()))
}

// Console is the end of what the machine wrote (kernel, init, workload,
// qemu's own errors).
func (m *Machine) Console() string { return m.console.String() }

// Stop ends the machine: SIGTERM (qemu exits at once, the guest has
// nothing on the host to save), SIGKILL if it has not within two seconds.
// It returns once qemu has been reaped.
func (m *Machine) Stop() {
	select {
	case <-m.done:
		return
	default:
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(2 * time.Second):
		m.cmd.Process.Kill()
		<-m.done
	}
}

// RSS is qemu's resident memory in bytes: the guest's RAM it has touched,
// the emulator's own, and (under TCG) its translated code.
func (m *Machine) RSS() (int64, string, error) {
	return ProcessRSS(m.PID())
}

// ProcessRSS reads VmRSS of a process, with the file it came from.
func ProcessRSS(pid int) (int64, string, error) {
	src := fmt.Sprintf("/proc/%d/status", pid)
	data, err := os.ReadFile(src)
	if err != nil {
		return 0, src, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, src, fmt.Errorf("%s: VmRSS %q: %w", src, v, err)
			}
			return kb << 10, src + " VmRSS", nil
		}
	}
	return 0, src, errors.New(src + ": no VmRSS line")
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.ToValidUTF8(string(t.buf), "?")
}

var _ io.Writer = (*tail)(nil)

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(s, "\r", ""), "\n"), "\n")
	if len(lines) > 25 {
		lines = lines[len(lines)-25:]
	}
	return "  " + strings.Join(lines, "\n  ")
}
