package service

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serve runs the calculator with cfg on a free port; it returns its
// address, its signals and its exit status.
func serve(t *testing.T, cfg Config, logs *syncBuffer) (string, chan<- os.Signal, <-chan int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sigs := make(chan os.Signal, 1)
	exit := make(chan int, 1)
	go func() { exit <- Run(cfg, ln, slog.New(slog.NewJSONHandler(logs, nil)), func() {}, sigs) }()
	return ln.Addr().String(), sigs, exit
}

// waitLog waits until the log holds what.
func waitLog(t *testing.T, logs *syncBuffer, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), what) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %s:\n%s", what, logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func healthy(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/health")
	if err != nil {
		t.Fatalf("GET /health after SIGTERM: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /health after SIGTERM: %s, want 200 (still serving)", resp.Status)
	}
}

// Deaf to SIGTERM: the signal is logged and serving goes on, healthy; only
// another way (here Ctrl-C's SIGINT; in a sandbox, SIGKILL) ends it.
func TestSIGTERMIgnored(t *testing.T) {
	var logs syncBuffer
	addr, sigs, exit := serve(t, Config{Workers: 2, ShutdownTimeout: time.Minute, SIGTERM: SIGTERMMode{Mode: TermIgnore}}, &logs)
	waitLog(t, &logs, `"msg":"started"`)
	for range 2 {
		sigs <- syscall.SIGTERM
		waitLog(t, &logs, `"msg":"signal received, ignored"`)
		healthy(t, addr)
	}
	select {
	case code := <-exit:
		t.Fatalf("exited with %d on SIGTERM while told to ignore it", code)
	default:
	}
	sigs <- syscall.SIGINT
	if code := <-exit; code != 0 {
		t.Errorf("exit status %d after SIGINT, want 0 (a clean drain)", code)
	}
}

// A slow shutdown serves on for its delay after SIGTERM, then drains.
func TestSIGTERMSlow(t *testing.T) {
	var logs syncBuffer
	addr, sigs, exit := serve(t, Config{Workers: 2, ShutdownTimeout: time.Minute, SIGTERM: SIGTERMMode{Mode: TermSlow, Delay: 2 * time.Second}}, &logs)
	waitLog(t, &logs, `"msg":"started"`)
	sigs <- syscall.SIGTERM
	waitLog(t, &logs, `"msg":"signal received, draining later"`)
	healthy(t, addr)
	if code := <-exit; code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	out := logs.String()
	if i, j := strings.Index(out, "draining later"), strings.Index(out, `"msg":"draining"`); j < 0 || j < i {
		t.Errorf("the drain did not follow the delay:\n%s", out)
	}
}

// POST /stress/sigterm changes the mode while the service runs; what it
// refuses changes nothing.
func TestSIGTERMEndpoint(t *testing.T) {
	s := testServer(t)
	bad := []struct{ body, errHas string }{
		{`{"mode":"deaf"}`, `"mode" must be "drain", "ignore" or "slow", not "deaf"`},
		{`{}`, `"mode" must be "drain", "ignore" or "slow", not ""`},
		{`{"mode":"slow"}`, `"seconds" must be above 0 and up to 600 for "slow"`},
		{`{"mode":"slow","seconds":601}`, `"seconds" must be above 0 and up to 600 for "slow"`},
		{`{"mode":"ignore","seconds":5}`, `"seconds" goes with "slow" only`},
		{`nope`, `malformed JSON`},
	}
	for _, b := range bad {
		w := do(s, "POST", "/stress/sigterm", b.body)
		var e ErrorResponse
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != 400 || !strings.Contains(e.Error, b.errHas) {
			t.Errorf("POST /stress/sigterm %s: %d %s, want 400 with %q", b.body, w.Code, w.Body, b.errHas)
		}
	}
	if m := s.term.get(); m.Mode != TermDrain {
		t.Fatalf("a refused request changed the mode to %+v", m)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"mode":"ignore"}`, "ignore"}, {`{"mode":"slow","seconds":1.5}`, "1.5s"}, {`{"mode":"drain"}`, "drain"},
	} {
		w := do(s, "POST", "/stress/sigterm", tc.body)
		var st StressStatus
		if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || w.Code != 200 || st.SIGTERM != tc.want {
			t.Errorf("POST /stress/sigterm %s: %d %s, want 200 saying %q", tc.body, w.Code, w.Body, tc.want)
		}
		w = do(s, "GET", "/stress", "")
		json.Unmarshal(w.Body.Bytes(), &st)
		if st.SIGTERM != tc.want {
			t.Errorf("GET /stress after %s says sigterm %q, want %q", tc.body, st.SIGTERM, tc.want)
		}
	}
}
