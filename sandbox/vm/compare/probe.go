package compare

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// info is the part of the calculator's GET /info this comparison reads
// (the field names are the service's contract).
type info struct {
	Hostname      string  `json:"hostname"`
	KernelRelease string  `json:"kernel_release"`
	BootID        string  `json:"boot_id"`
	KernelUptime  float64 `json:"kernel_uptime_seconds"`
}

func baseURL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

// waitHealthy polls GET /health on port until it answers 200, ctx ends,
// or gone is closed (the instance died: no point waiting).
func waitHealthy(ctx context.Context, port int, gone <-chan struct{}) error {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	url := baseURL(port) + "/health"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-gone:
			return errGone
		case <-time.After(2 * time.Millisecond):
		}
	}
}

var errGone = fmt.Errorf("it exited before /health answered")

func getInfo(ctx context.Context, port int) (*info, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, baseURL(port)+"/info", nil)
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /info: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /info: %s", resp.Status)
	}
	var in info
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
		return nil, fmt.Errorf("GET /info: %w", err)
	}
	return &in, nil
}

// loadConns is how many connections the load keeps busy (keep-alive).
const loadConns = 16

// load sends GET /health over loadConns keep-alive connections for d and
// returns the answers per second. Every answer must be a 200.
func load(ctx context.Context, port int, d time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tr := &http.Transport{
		MaxIdleConnsPerHost: loadConns, MaxConnsPerHost: loadConns,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := baseURL(port) + "/health"
	var ok atomic.Int64
	var firstErr error
	var mu sync.Mutex
	start := time.Now()
	var wg sync.WaitGroup
	for range loadConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						time.Sleep(10 * time.Millisecond)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := ok.Load(); n > 0 {
		return float64(n) / elapsed.Seconds(), nil
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("no answer in %s", d)
	}
	return 0, firstErr
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
