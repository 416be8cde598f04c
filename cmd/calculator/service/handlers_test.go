package service

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func testServer(t testing.TB) *Server {
	t.Helper()
	cfg := Config{Port: 8000, Workers: 2, LogFormat: "json"}
	return NewServer(cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
}

func do(s *Server, method, path, body string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func TestCalculate(t *testing.T) {
	host, _ := os.Hostname()
	tests := []struct {
		name   string
		body   string
		status int
		result float64
		errHas string
	}{
		{"add", `{"operation":"add","a":10,"b":5}`, 200, 15, ""},
		{"subtract", `{"operation":"subtract","a":10,"b":5}`, 200, 5, ""},
		{"multiply", `{"operation":"multiply","a":10,"b":5}`, 200, 50, ""},
		{"divide", `{"operation":"divide","a":10,"b":4}`, 200, 2.5, ""},
		{"power", `{"operation":"power","a":2,"b":10}`, 200, 1024, ""},
		{"modulo", `{"operation":"modulo","a":10,"b":3}`, 200, 1, ""},
		{"negative and fractional", `{"operation":"add","a":-1.5,"b":0.25}`, 200, -1.25, ""},
		{"zero operands are given operands", `{"operation":"multiply","a":0,"b":0}`, 200, 0, ""},
		{"extra fields are ignored", `{"operation":"add","a":1,"b":2,"note":"x"}`, 200, 3, ""},
		{"trailing whitespace", "{\"operation\":\"add\",\"a\":1,\"b\":2}\n\n", 200, 3, ""},

		{"malformed JSON", `{"operation":"add","a":10,`, 400, 0, "malformed JSON"},
		{"not JSON", `add 10 5`, 400, 0, "malformed JSON"},
		{"empty body", ``, 400, 0, "empty body"},
		{"array body", `[1,2]`, 400, 0, "JSON object"},
		{"two objects", `{"operation":"add","a":1,"b":2}{"operation":"add","a":1,"b":2}`, 400, 0, "after top-level value"},
		{"operand a string", `{"operation":"add","a":"10","b":5}`, 400, 0, `"a" must be a number`},
		{"operation a number", `{"operation":7,"a":1,"b":5}`, 400, 0, `"operation" must be a string`},
		{"number too large for float64", `{"operation":"add","a":1e400,"b":5}`, 400, 0, "malformed JSON"},
		{"unknown operation", `{"operation":"sqrt","a":10,"b":5}`, 400, 0, `unknown operation "sqrt"`},
		{"missing operation", `{"a":10,"b":5}`, 400, 0, `missing "operation"`},
		{"missing a", `{"operation":"add","b":5}`, 400, 0, `missing operand "a"`},
		{"missing b", `{"operation":"add","a":5}`, 400, 0, `missing operand "b"`},
		{"missing both", `{"operation":"add"}`, 400, 0, `missing operands "a" and "b"`},
		{"null operand", `{"operation":"add","a":null,"b":5}`, 400, 0, `missing operand "a"`},

		{"division by zero", `{"operation":"divide","a":10,"b":0}`, 422, 0, "division by zero"},
		{"modulo by zero", `{"operation":"modulo","a":10,"b":0}`, 422, 0, "modulo by zero"},
		{"overflow", `{"operation":"power","a":10,"b":400}`, 422, 0, "not a finite number"},
		{"multiply overflow", `{"operation":"multiply","a":1e308,"b":10}`, 422, 0, "not a finite number"},
		{"negative to a fractional power", `{"operation":"power","a":-8,"b":0.5}`, 422, 0, "not a finite number"},

		{"body over 64 KiB", `{"operation":"add","a":1,"b":2,"pad":"` + strings.Repeat("x", 64<<10) + `"}`, 413, 0, "larger than 65536 bytes"},
	}
	s := testServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(s, http.MethodPost, "/calculate", tt.body)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tt.status == 200 {
				var got CalcResponse
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
					t.Fatal(err)
				}
				if got.Result != tt.result || got.ProcessedBy != host {
					t.Errorf("got %+v, want result %v processed by %q", got, tt.result, host)
				}
				return
			}
			var e ErrorResponse
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
				t.Fatalf("error body %q is not JSON: %v", w.Body, err)
			}
			if !strings.Contains(e.Error, tt.errHas) {
				t.Errorf("error %q, want it to contain %q", e.Error, tt.errHas)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/health", 200, ""},
		{"GET", "/info", 200, ""},
		{"GET", "/stress", 200, ""},
		{"POST", "/health", 405, "GET"},
		{"DELETE", "/info", 405, "GET"},
		{"GET", "/calculate", 405, "POST"},
		{"PUT", "/calculate", 405, "POST"},
		{"POST", "/stress", 405, "GET, DELETE"},
		{"GET", "/stress/memory", 405, "POST"},
		{"GET", "/stress/cpu", 405, "POST"},
		{"GET", "/", 404, ""},
		{"GET", "/nope", 404, ""},
		{"GET", "/health/", 404, ""},
		{"POST", "/calculate/add", 404, ""},
	}
	s := testServer(t)
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := do(s, tt.method, tt.path, "")
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			var v map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
				t.Fatalf("body %q is not JSON: %v", w.Body, err)
			}
			if tt.status >= 400 && v["error"] == nil {
				t.Errorf("no error in %s", w.Body)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	s := testServer(t)
	w := do(s, "GET", "/health", "")
	var h HealthResponse
	if err := json.Unmarshal(w.Body.Bytes(), &h); err != nil || w.Code != 200 || h.Status != "healthy" || h.UptimeSeconds < 0 {
		t.Fatalf("%d %s %v", w.Code, w.Body, err)
	}
	if !strings.Contains(w.Body.String(), `"uptime_seconds":`) {
		t.Errorf("body %s", w.Body)
	}
	s.BeginShutdown()
	w = do(s, "GET", "/health", "")
	if err := json.Unmarshal(w.Body.Bytes(), &h); err != nil || w.Code != 503 || h.Status != "shutting_down" {
		t.Fatalf("after BeginShutdown: %d %s %v", w.Code, w.Body, err)
	}
}

func TestInfo(t *testing.T) {
	s := testServer(t)
	w := do(s, "GET", "/info", "")
	if w.Code != 200 {
		t.Fatal(w.Code, w.Body)
	}
	var in Info
	if err := json.Unmarshal(w.Body.Bytes(), &in); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if in.Hostname != host || in.ProcessID != os.Getpid() || in.ParentProcessID != os.Getppid() ||
		in.UID != os.Getuid() || in.Workers != 2 || in.Port != 8000 || in.GoVersion == "" || in.KernelRelease == "" {
		t.Errorf("info %+v", in)
	}
	// The namespace inodes are this process's own.
	for _, kind := range []string{"pid", "net", "mnt", "uts", "ipc", "user"} {
		link, err := os.Readlink("/proc/self/ns/" + kind)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := parseNSLink(link); in.Namespaces[kind] != want || want == 0 {
			t.Errorf("namespace %s = %d, want %d (%s)", kind, in.Namespaces[kind], want, link)
		}
	}
	if b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id"); in.BootID != strings.TrimSpace(string(b)) || len(in.BootID) != 36 {
		t.Errorf("boot id %q, want this kernel's %q", in.BootID, b)
	}
	if in.KernelUptime <= 0 {
		t.Errorf("kernel uptime %v, want more than 0", in.KernelUptime)
	}
	if in.Cgroup.Path == "" || len(in.Cgroup.Paths) == 0 || in.Cgroup.MemoryLimit == "" || in.Cgroup.CPUQuota == "" {
		t.Errorf("cgroup view %+v", in.Cgroup)
	}
	// Field names are a contract with the UI.
	for _, key := range []string{`"hostname"`, `"process_id"`, `"parent_process_id"`, `"uid"`, `"gid"`, `"kernel_release"`,
		`"namespaces"`, `"cgroup"`, `"memory_limit"`, `"cpu_quota"`, `"worker_count"`, `"port"`, `"started_at"`, `"go_version"`,
		`"boot_id"`, `"kernel_uptime_seconds"`} {
		if !strings.Contains(w.Body.String(), key) {
			t.Errorf("no %s in %s", key, w.Body)
		}
	}
}

func TestStress(t *testing.T) {
	s := testServer(t)
	defer s.stress.release()
	status := func(w *httptest.ResponseRecorder) StressStatus {
		t.Helper()
		var st StressStatus
		if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
			t.Fatalf("%s: %v", w.Body, err)
		}
		return st
	}
	bad := []struct{ path, body, errHas string }{
		{"/stress/memory", `{"mb":0}`, `"mb" must be 1..4096`},
		{"/stress/memory", `{"mb":-5}`, `"mb" must be 1..4096`},
		{"/stress/memory", `{"mb":4097}`, `"mb" must be 1..4096`},
		{"/stress/memory", `{}`, `"mb" must be 1..4096`},
		{"/stress/memory", `{"mb":"lots"}`, `"mb" must be a number`},
		{"/stress/memory", `{"mb":1.5}`, `malformed JSON`},
		{"/stress/memory", `nope`, `malformed JSON`},
		{"/stress/cpu", `{"seconds":0,"workers":1}`, `"seconds" must be 1..300`},
		{"/stress/cpu", `{"seconds":301,"workers":1}`, `"seconds" must be 1..300`},
		{"/stress/cpu", `{"seconds":1,"workers":65}`, `"workers" must be 1..64`},
		{"/stress/cpu", `{"seconds":1,"workers":-1}`, `"workers" must be 1..64`},
		{"/stress/cpu", `[]`, `malformed JSON`},
	}
	for _, b := range bad {
		w := do(s, "POST", b.path, b.body)
		var e ErrorResponse
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != 400 || !strings.Contains(e.Error, b.errHas) {
			t.Errorf("POST %s %s: %d %s, want 400 with %q", b.path, b.body, w.Code, w.Body, b.errHas)
		}
	}
	if st := status(do(s, "GET", "/stress", "")); st.HeldMB != 0 || st.CPUWorkers != 0 {
		t.Fatalf("bad requests held something: %+v", st)
	}

	w := do(s, "POST", "/stress/memory", `{"mb":8}`)
	if w.Code != 200 || status(w).HeldMB != 8 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	do(s, "POST", "/stress/memory", `{"mb":4}`)
	if st := status(do(s, "GET", "/stress", "")); st.HeldMB != 12 || st.Blocks != 2 {
		t.Errorf("held %+v, want 12 MiB in 2 blocks", st)
	}
	w = do(s, "POST", "/stress/cpu", `{"seconds":30,"workers":2}`)
	if st := status(w); w.Code != 202 || st.CPUWorkers != 2 || st.CPUUntil.IsZero() {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w = do(s, "DELETE", "/stress", "")
	if st := status(w); w.Code != 200 || st.HeldMB != 0 || st.Blocks != 0 || st.CPUWorkers != 0 {
		t.Errorf("after DELETE: %d %s", w.Code, w.Body)
	}
}

func TestRequestLog(t *testing.T) {
	var buf strings.Builder
	s := NewServer(Config{Workers: 1}, slog.New(slog.NewJSONHandler(&buf, nil)))
	do(s, "POST", "/calculate", `{"operation":"divide","a":1,"b":0}`)
	var line struct {
		Msg, Method, Path string
		Status            int
	}
	if err := json.Unmarshal([]byte(buf.String()), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	if line.Msg != "request" || line.Method != "POST" || line.Path != "/calculate" || line.Status != 422 {
		t.Errorf("log line %+v", line)
	}
	if strings.Contains(buf.String(), "user_agent") {
		t.Errorf("a request without a User-Agent logs one: %s", buf.String())
	}
	// A health checker's polls say who they are: the log can tell them
	// from real traffic.
	buf.Reset()
	r := httptest.NewRequest("GET", "/health", nil)
	r.Header.Set("User-Agent", "glassbox-healthcheck")
	s.ServeHTTP(httptest.NewRecorder(), r)
	if !strings.Contains(buf.String(), `"user_agent":"glassbox-healthcheck"`) {
		t.Errorf("the poll's log line does not name its agent: %s", buf.String())
	}
}

// WORKER_COUNT bounds the calculations in progress: with every worker busy
// a request waits, and gets its answer once a worker is free, or a 503 if
// its client gives up first.
func TestWorkersBoundCalculations(t *testing.T) {
	s := NewServer(Config{Workers: 1}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	s.workers <- struct{}{} // the only worker is busy

	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest("POST", "/calculate", strings.NewReader(`{"operation":"add","a":1,"b":2}`)).WithContext(ctx)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { s.ServeHTTP(w, req); close(done) }()
	select {
	case <-done:
		t.Fatalf("answered %d with no free worker", w.Code)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	<-done
	if w.Code != 503 || !strings.Contains(w.Body.String(), "free worker") {
		t.Errorf("gave up: %d %s, want 503", w.Code, w.Body)
	}

	w = httptest.NewRecorder()
	done = make(chan struct{})
	go func() {
		s.ServeHTTP(w, httptest.NewRequest("POST", "/calculate", strings.NewReader(`{"operation":"add","a":1,"b":2}`)))
		close(done)
	}()
	<-s.workers // the worker becomes free
	<-done
	if w.Code != 200 {
		t.Errorf("after the worker was freed: %d %s", w.Code, w.Body)
	}
}
