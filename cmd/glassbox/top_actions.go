package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"glassbox/cmd/calculator/service"
	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/state"
	"glassbox/sandbox/vm/compare"
)

// topActions are what the live view's keys do (ui.Actions): lifecycle calls
// through the engine, and requests to the sandbox's calculator.
type topActions struct {
	eng *lifecycle.Engine
	// start starts a new calculator sandbox and returns its name.
	start func() (string, error)
	calc  *calculatorClient
}

func newTopActions(e *lifecycle.Engine, start func() (string, error)) *topActions {
	return &topActions{eng: e, start: start, calc: newCalculatorClient(30 * time.Second)}
}

// calculator finds the running sandbox ref and where its calculator answers.
func (a *topActions) calculator(ref string) (string, error) {
	sb, err := a.eng.Get(ref)
	if err != nil {
		return "", err
	}
	if sb.Status != state.Running {
		return "", fmt.Errorf("%s is %s", sb.Name, sb.Status)
	}
	return calculatorURL(sb)
}

func (a *topActions) StressMemory(ref string, mb int) (int, error) {
	base, err := a.calculator(ref)
	if err != nil {
		return 0, err
	}
	st, err := a.calc.stressMemory(base, mb)
	return st.HeldMB, err
}

func (a *topActions) ReleaseMemory(ref string) (int, error) {
	base, err := a.calculator(ref)
	if err != nil {
		return 0, err
	}
	st, err := a.calc.release(base)
	return st.HeldMB, err
}

func (a *topActions) BurnCPU(ref string, seconds, workers int) error {
	base, err := a.calculator(ref)
	if err != nil {
		return err
	}
	_, err = a.calc.burnCPU(base, seconds, workers)
	return err
}

func (a *topActions) Calculate(ref string) (string, string, error) {
	base, err := a.calculator(ref)
	if err != nil {
		return "", "", err
	}
	res, err := a.calc.add(base, 1, 2)
	return strconv.FormatFloat(res.Result, 'g', -1, 64), res.ProcessedBy, err
}

func (a *topActions) Pause(ref string) error   { return a.eng.Pause(ref) }
func (a *topActions) Unpause(ref string) error { return a.eng.Unpause(ref) }

func (a *topActions) Stop(ref string, timeout time.Duration) (string, error) {
	r, err := a.eng.Stop(ref, timeout)
	if err != nil {
		return "", err
	}
	if r.Signal == "" {
		return "nothing (it had already exited)", nil
	}
	return r.Signal, nil
}

func (a *topActions) Kill(ref string) error { return a.eng.Kill(ref, syscall.SIGKILL) }

// Restart is the R key: glassbox start for a stopped sandbox, glassbox
// restart for a running or paused one, so that an error names the verb a
// docker user would have typed.
func (a *topActions) Restart(ref string) error {
	sb, err := a.eng.Get(ref)
	if err != nil {
		return err
	}
	if sb.Status == state.Exited {
		_, err = a.eng.Start(ref)
	} else {
		_, err = a.eng.Restart(ref)
	}
	return err
}

func (a *topActions) IgnoreSIGTERM(ref string) error {
	base, err := a.calculator(ref)
	if err != nil {
		return err
	}
	_, err = a.calc.sigterm(base, service.TermIgnore)
	return err
}

func (a *topActions) Start() (string, error) {
	if a.start == nil {
		return "", errors.New("starting sandboxes is not available here")
	}
	return a.start()
}

func (a *topActions) Remove(ref string) error { return a.eng.Remove(ref, true) }

// CompareVM is `glassbox vm-vs-container` with its defaults, for the live
// view's comparison screen.
func (a *topActions) CompareVM(ctx context.Context, report func(state.CompareEvent)) (*state.Comparison, error) {
	return compare.Run(ctx, compare.Options{}, a.eng, report)
}

// Shell is `glassbox exec -it REF sh` on the engine's state roots, run in
// the UI's terminal while the UI is suspended.
func (a *topActions) Shell(ref string) (*exec.Cmd, error) {
	sb, err := a.eng.Get(ref)
	if err != nil {
		return nil, err
	}
	if sb.Status != state.Running {
		return nil, fmt.Errorf("%s is %s: a shell needs it running", sb.Name, sb.Status)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the glassbox binary: %w", err)
	}
	cmd := exec.Command(self, "exec", "-it", sb.ID, "sh")
	cmd.Env = append(os.Environ(), "GLASSBOX_ROOT=")
	if dir := filepath.Dir(a.eng.Roots.Lib); state.RootsAt(dir) == a.eng.Roots {
		cmd.Env = append(os.Environ(), "GLASSBOX_ROOT="+dir)
	}
	return cmd, nil
}
