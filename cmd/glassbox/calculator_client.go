package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"time"

	"glassbox/cmd/calculator/service"
	"glassbox/sandbox/state"
	"glassbox/ui"
)

// calculatorURL is where a sandbox's calculator answers from the host
// (state.Sandbox.ServiceAddr).
func calculatorURL(sb *state.Sandbox) (string, error) {
	addr := sb.ServiceAddr()
	if addr == "" {
		return "", fmt.Errorf("%s publishes no port of its image's service and has no bridge address: its calculator cannot be reached", sb.Name)
	}
	return "http://" + addr, nil
}

// calculatorClient speaks to the calculator service in its own terms: the
// service's request and response types.
type calculatorClient struct{ http *http.Client }

func newCalculatorClient(timeout time.Duration) *calculatorClient {
	return &calculatorClient{http: &http.Client{Timeout: timeout}}
}

func (c *calculatorClient) stressMemory(base string, mb int) (service.StressStatus, error) {
	var st service.StressStatus
	err := c.do(http.MethodPost, base+"/stress/memory", service.MemoryStressRequest{MB: mb}, &st)
	return st, err
}

func (c *calculatorClient) release(base string) (service.StressStatus, error) {
	var st service.StressStatus
	err := c.do(http.MethodDelete, base+"/stress", nil, &st)
	return st, err
}

func (c *calculatorClient) burnCPU(base string, seconds, workers int) (service.StressStatus, error) {
	var st service.StressStatus
	err := c.do(http.MethodPost, base+"/stress/cpu", service.CPUStressRequest{Seconds: seconds, Workers: workers}, &st)
	return st, err
}

func (c *calculatorClient) sigterm(base string, mode string) (service.StressStatus, error) {
	var st service.StressStatus
	err := c.do(http.MethodPost, base+"/stress/sigterm", service.SIGTERMRequest{Mode: mode}, &st)
	return st, err
}

func (c *calculatorClient) add(base string, a, b float64) (service.CalcResponse, error) {
	var res service.CalcResponse
	err := c.do(http.MethodPost, base+"/calculate", service.CalcRequest{Operation: "add", A: &a, B: &b}, &res)
	return res, err
}

// startingWait bounds how long a request waits for a calculator that does
// not listen yet: `run -d` returns once the workload runs, which may be
// before the service has bound its port, and a key pressed at once (or a
// lesson's step) should reach it rather than fail.
const startingWait = 5 * time.Second

func (c *calculatorClient) do(method, url string, body, out any) error {
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		payload = b
	}
	var resp *http.Response
	var req *http.Request
	var err error
	for deadline := time.Now().Add(startingWait); ; time.Sleep(50 * time.Millisecond) {
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		if req, err = http.NewRequest(method, url, rd); err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err = c.http.Do(req)
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			break
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		// The workload died with the request in flight: at a memory
		// limit, that is the OOM killer.
		return fmt.Errorf("%s %s: %w", method, req.URL.Path, ui.ErrNoAnswer)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, req.URL.Path, resp.Status, bytes.TrimSpace(data))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode %q: %w", method, req.URL.Path, data, err)
	}
	return nil
}
