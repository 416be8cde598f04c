package image

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The built-in calculator image's configuration, as the course's Dockerfile
// sets it.
const (
	calculatorPath = "/app/calculator"
	calculatorPort = 8000
)

func calculatorConfig() Config {
	return Config{
		Env:          []string{"SERVER_PORT=8000", "WORKER_COUNT=4"},
		Cmd:          []string{calculatorPath},
		WorkingDir:   "/app",
		ExposedPorts: []string{fmt.Sprintf("%d/tcp", calculatorPort)},
		Healthcheck: &Healthcheck{
			Path: "/health", Port: calculatorPort,
			Interval: 5 * time.Second, Timeout: 2 * time.Second,
			StartPeriod: 5 * time.Second, Retries: 3,
		},
	}
}

// buildCalculator builds the image in the Dockerfile's steps. Each layer
// step goes through putLayer, so a step whose output did not change reuses
// the stored layer: a new glassbox binary rebuilds the app layer only.
//
// The app layer carries the lean calculator (Store.Lean: a static build of
// the same service, with nothing else to load), or, from a glassbox built
// without one, glassbox itself with its shared libraries in the base layer
// (a multi-call binary: under the name calculator it is the calculator).
// Either way Self's stamp decides when the image is rebuilt; an app layer
// whose content did not change is reused.
func (s *Store) buildCalculator(name string) (*Image, []stamp, error) {
	if _, err := stampOf(s.Self); err != nil {
		return nil, nil, fmt.Errorf("build image %s: the binary to carry: %w", name, err)
	}
	lean := s.Lean != nil
	var libs []string
	if !lean {
		var err error
		if libs, err = SharedLibraries(s.Self); err != nil {
			return nil, nil, fmt.Errorf("build image %s: %w", name, err)
		}
	}
	sources, err := stampAll(append([]string{s.Self}, libs...))
	if err != nil {
		return nil, nil, fmt.Errorf("build image %s: %w", name, err)
	}

	now := time.Now().UTC()
	im := &Image{Name: name, Config: calculatorConfig(), Created: now}
	im.History = append(im.History, History{CreatedBy: "FROM scratch", Created: now, EmptyLayer: true})

	baseBy := "ADD base / # filesystem skeleton, /etc/passwd, /etc/group, /etc/nsswitch.conf"
	if len(libs) > 0 {
		baseBy += ", the shared libraries " + baseNames(libs)
	}
	if err := s.addLayer(im, baseBy, func(dir string) error { return fillBase(dir, libs) }); err != nil {
		return nil, nil, err
	}
	if err := s.addLayer(im, "COPY calculator "+calculatorPath, func(dir string) error {
		dst := filepath.Join(dir, calculatorPath)
		if lean {
			return writeLean(s.Lean, dst)
		}
		return copyFile(s.Self, dst, 0o755)
	}); err != nil {
		return nil, nil, err
	}

	addConfigSteps(im, now,
		"ENV "+strings.Join(im.Config.Env, " "),
		fmt.Sprintf("EXPOSE %d", calculatorPort),
		im.Config.Healthcheck.String(),
		`CMD ["`+calculatorPath+`"]`,
	)
	return im, sources, nil
}

// writeLean writes the lean calculator to dst, executable.
func writeLean(lean func(io.Writer) (int64, error), dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := lean(out); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, 0o755) // the umask may have narrowed it
}
