package image

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BusyboxCandidates are where a host's static busybox is looked for, in
// this order (Debian's busybox-static installs /bin/busybox).
var BusyboxCandidates = []string{"/bin/busybox", "/usr/bin/busybox", "/usr/local/bin/busybox"}

// busyboxBinPath is where the image carries busybox; every applet is a
// symlink to it (busybox picks the applet from argv[0]).
const busyboxBinPath = "/bin/busybox"

// busyboxEnv is the image's PATH: every directory busybox puts applets in.
const busyboxEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ErrNoBusybox is wrapped by the error of building the busybox image on a
// host without a static busybox.
var ErrNoBusybox = errors.New("no static busybox on this host")

// busyboxInstallHint says what to install, for the errors below.
const busyboxInstallHint = "install a static busybox (Debian, Ubuntu: apt-get install busybox-static)"

// hostBusybox returns the first candidate that exists, or the first
// candidate when none does (the build then says it is missing).
func hostBusybox() string {
	for _, p := range BusyboxCandidates {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return BusyboxCandidates[0]
}

// busyboxApplets returns the applets bin carries as paths inside the image
// ("bin/sh", "usr/bin/wget", …), asking the binary itself. A binary that
// is not a static busybox is an error saying what to install.
func busyboxApplets(bin string) ([]string, error) {
	fi, err := os.Stat(bin)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w (looked for %s): %s", ErrNoBusybox, strings.Join(BusyboxCandidates, ", "), busyboxInstallHint)
		}
		return nil, fmt.Errorf("%w: %v", ErrNoBusybox, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file; %s", ErrNoBusybox, bin, busyboxInstallHint)
	}
	libs, err := SharedLibraries(bin)
	if err != nil {
		return nil, fmt.Errorf("%w: %v; %s", ErrNoBusybox, err, busyboxInstallHint)
	}
	if len(libs) > 0 {
		// A dynamic busybox would need the host's libc in the image.
		return nil, fmt.Errorf("%w: %s is dynamically linked (it needs %s); %s",
			ErrNoBusybox, bin, filepath.Base(libs[len(libs)-1]), busyboxInstallHint)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "--list-full")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s --list-full: %v %s; %s", ErrNoBusybox, bin, err, strings.TrimSpace(stderr.String()), busyboxInstallHint)
	}
	var applets []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		p := strings.TrimSpace(sc.Text())
		// linuxrc is busybox's boot-time init; busybox itself is the file.
		if p == "" || p == "linuxrc" || "/"+p == busyboxBinPath {
			continue
		}
		if path.IsAbs(p) || path.Clean(p) != p || strings.HasPrefix(p, "..") {
			return nil, fmt.Errorf("%s --list-full: odd applet path %q", bin, p)
		}
		applets = append(applets, p)
	}
	if !slices.Contains(applets, "bin/sh") {
		return nil, fmt.Errorf("%w: %s has no sh applet; %s", ErrNoBusybox, bin, busyboxInstallHint)
	}
	return applets, nil
}

// buildBusybox builds the image the way a Dockerfile of it would: the
// skeleton every built-in image starts from, then busybox and its applet
// links, then the configuration (PATH, CMD ["sh"]).
func (s *Store) buildBusybox(name string) (*Image, []stamp, error) {
	bin := s.Busybox
	applets, err := busyboxApplets(bin)
	if err != nil {
		return nil, nil, fmt.Errorf("build image %s: %w", name, err)
	}
	sources, err := stampAll([]string{bin})
	if err != nil {
		return nil, nil, fmt.Errorf("build image %s: %w", name, err)
	}
	now := time.Now().UTC()
	im := &Image{Name: name, Config: Config{Env: []string{busyboxEnv}, Cmd: []string{"sh"}}, Created: now}
	im.History = append(im.History, History{CreatedBy: "FROM scratch", Created: now, EmptyLayer: true})
	if err := s.addLayer(im, "ADD base / # filesystem skeleton, /etc/passwd, /etc/group, /etc/nsswitch.conf",
		func(dir string) error { return fillBase(dir, nil) }); err != nil {
		return nil, nil, err
	}
	by := fmt.Sprintf("COPY busybox %s # and %d applet links: /bin/sh, /bin/ls, /usr/bin/wget, …", busyboxBinPath, len(applets))
	if err := s.addLayer(im, by, func(dir string) error { return fillBusybox(dir, bin, applets) }); err != nil {
		return nil, nil, err
	}
	addConfigSteps(im, now, "ENV "+busyboxEnv, `CMD ["sh"]`)
	return im, sources, nil
}

// fillBusybox copies bin to /bin/busybox in dir and makes each applet a
// symlink to it.
func fillBusybox(dir, bin string, applets []string) error {
	if err := copyFile(bin, filepath.Join(dir, busyboxBinPath), 0o755); err != nil {
		return err
	}
	for _, a := range applets {
		p := filepath.Join(dir, a)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(busyboxBinPath, p); err != nil {
			return fmt.Errorf("link applet %s: %w", a, err)
		}
	}
	return nil
}
