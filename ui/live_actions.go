package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"glassbox/sandbox/lifecycle"
	"glassbox/sandbox/state"
)

// LiveActions are the real Actions: lifecycle calls through the engine, and
// HTTP to the calculator through the sandbox's published port (or, when it
// publishes none, its address on the glassbox0 bridge).
type LiveActions struct {
	Engine *lifecycle.Engine
	// Start starts a new calculator sandbox and returns its name.
	StartFunc func() (string, error)
	client    *http.Client
}

// NewLiveActions drives sandboxes through e; start starts a new sandbox.
func NewLiveActions(e *lifecycle.Engine, start func() (string, error)) *LiveActions {
	return &LiveActions{Engine: e, StartFunc: start, client: &http.Client{Timeout: 30 * time.Second}}
}

// calculatorURL is where the sandbox's calculator answers from the host.
func calculatorURL(sb *state.Sandbox) (string, error) {
	for _, p := range sb.Network.Ports {
		if p.ContainerPort == 8000 || len(sb.Network.Ports) == 1 {
			host := p.HostIP
			if host == "" || host == "0.0.0.0" {
				host = "127.0.0.1"
			}
			return "http://" + net.JoinHostPort(host, strconv.Itoa(p.HostPort)), nil
		}
	}
	if sb.Network.IP != "" {
		return "http://" + net.JoinHostPort(sb.Network.IP, "8000"), nil
	}
	return "", fmt.Errorf("%s publishes no port and has no bridge address: the calculator cannot be reached", sb.Name)
}

func (a *LiveActions) do(ref, method, path string, body any, out any) error {
	sb, err := a.Engine.Get(ref)
	if err != nil {
		return err
	}
	if sb.Status != state.Running {
		return fmt.Errorf("%s is %s", sb.Name, sb.Status)
	}
	base, err := calculatorURL(sb)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		// The workload died with the request in flight: at a memory
		// limit, that is the OOM killer.
		return fmt.Errorf("%s %s: the connection dropped: the workload died mid-request", method, path)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode %q: %w", method, path, data, err)
		}
	}
	return nil
}

func (a *LiveActions) StressMemory(ref string, mb int) error {
	return a.do(ref, http.MethodPost, "/stress/memory", map[string]int{"mb": mb}, nil)
}

func (a *LiveActions) ReleaseMemory(ref string) error {
	return a.do(ref, http.MethodDelete, "/stress", nil, nil)
}

func (a *LiveActions) BurnCPU(ref string, seconds, workers int) error {
	return a.do(ref, http.MethodPost, "/stress/cpu", map[string]int{"seconds": seconds, "workers": workers}, nil)
}

func (a *LiveActions) Calculate(ref string) (string, string, error) {
	var out struct {
		Result      json.Number `json:"result"`
		ProcessedBy string      `json:"processed_by"`
	}
	err := a.do(ref, http.MethodPost, "/calculate", map[string]any{"operation": "add", "a": 1, "b": 2}, &out)
	return out.Result.String(), out.ProcessedBy, err
}

func (a *LiveActions) Pause(ref string) error   { return a.Engine.Pause(ref) }
func (a *LiveActions) Unpause(ref string) error { return a.Engine.Unpause(ref) }

func (a *LiveActions) Stop(ref string, timeout time.Duration) (string, error) {
	r, err := a.Engine.Stop(ref, timeout)
	if err != nil {
		return "", err
	}
	if r.Signal == "" {
		return "nothing (it had already exited)", nil
	}
	return r.Signal, nil
}

func (a *LiveActions) Kill(ref string) error { return a.Engine.Kill(ref, syscall.SIGKILL) }

func (a *LiveActions) Start() (string, error) {
	if a.StartFunc == nil {
		return "", fmt.Errorf("starting sandboxes is not available here")
	}
	return a.StartFunc()
}

func (a *LiveActions) Remove(ref string) error { return a.Engine.Remove(ref, true) }
