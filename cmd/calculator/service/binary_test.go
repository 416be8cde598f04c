package service

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"glassbox/sandbox/sandboxtest"
)

var (
	buildOnce sync.Once
	calcBin   string
	buildErr  error
)

// calculatorBinary builds cmd/calculator once per test process.
func calculatorBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "calcbin-")
		if err != nil {
			buildErr = err
			return
		}
		calcBin = filepath.Join(dir, "calculator")
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-buildvcs=false", "-o", calcBin, "glassbox/cmd/calculator")
		cmd.Dir = filepath.Dir(file)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errorString("go build: " + err.Error() + ": " + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return calcBin
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestMain(m *testing.M) {
	code := sandboxtest.Main(m)
	if calcBin != "" {
		os.RemoveAll(filepath.Dir(calcBin))
	}
	os.Exit(code)
}

// running is a calculator process under test.
type running struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:<port>
	addr   string
	stdout *syncBuffer
	exited chan struct{}
}

// start runs argv with SERVER_PORT=0 plus env and waits for its "started"
// line, which names the port the kernel gave it.
func start(t *testing.T, argv []string, env ...string) *running {
	t.Helper()
	return startWith(t, nil, argv, env...)
}

func startWith(t *testing.T, attr *syscall.SysProcAttr, argv []string, env ...string) *running {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), append([]string{"SERVER_PORT=0", "LOG_FORMAT=json"}, env...)...)
	cmd.SysProcAttr = attr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &running{cmd: cmd, stdout: &syncBuffer{}, exited: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			cmd.Process.Kill()
			<-r.exited
		}
	})
	ports := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			r.stdout.Write([]byte(line + "\n"))
			var ev struct {
				Msg  string
				Port int
			}
			if json.Unmarshal([]byte(line), &ev) == nil && ev.Msg == "started" {
				ports <- ev.Port
			}
		}
		cmd.Wait()
		close(r.exited)
	}()
	select {
	case p := <-ports:
		r.addr = "127.0.0.1:" + strconv.Itoa(p)
		r.base = "http://" + r.addr
	case <-r.exited:
		t.Fatalf("%v exited before it started: %s", argv, r.stdout)
	case <-time.After(30 * time.Second):
		t.Fatalf("%v did not log \"started\"", argv)
	}
	return r
}

func (r *running) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("did not exit")
	}
	return r.cmd.ProcessState.ExitCode()
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode
}

func TestBinaryServesAndDrains(t *testing.T) {
	r := start(t, []string{calculatorBinary(t)}, "WORKER_COUNT=3")

	var h HealthResponse
	if code := getJSON(t, r.base+"/health", &h); code != 200 || h.Status != "healthy" {
		t.Errorf("/health: %d %+v", code, h)
	}
	resp, err := http.Post(r.base+"/calculate", "application/json", strings.NewReader(`{"operation":"power","a":2,"b":8}`))
	if err != nil {
		t.Fatal(err)
	}
	var c CalcResponse
	json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if resp.StatusCode != 200 || c.Result != 256 || c.ProcessedBy == "" {
		t.Errorf("/calculate: %d %+v", resp.StatusCode, c)
	}
	var in Info
	if code := getJSON(t, r.base+"/info", &in); code != 200 || in.ProcessID != r.cmd.Process.Pid || in.Workers != 3 || in.Port == 0 {
		t.Errorf("/info: %d %+v", code, in)
	}
	var e ErrorResponse
	if code := getJSON(t, r.base+"/nope", &e); code != 404 || e.Error == "" {
		t.Errorf("/nope: %d %+v", code, e)
	}

	// A request in flight when SIGTERM arrives still gets its answer; new
	// connections are refused meanwhile; then a clean exit.
	_, finish := startSlowRequest(t, r.addr)
	time.Sleep(200 * time.Millisecond) // let the server read the headers (a new conn is waited for either way)
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitRefused(t, r.addr)
	resp = finish()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"result":42`) {
		t.Errorf("in-flight request: %d %s", resp.StatusCode, body)
	}
	if code := r.wait(t); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	out := r.stdout.String()
	for _, ev := range []string{`"msg":"started"`, `"msg":"request"`, `"msg":"signal received"`, `"msg":"draining"`, `"msg":"exited"`} {
		if !strings.Contains(out, ev) {
			t.Errorf("stdout lacks %s:\n%s", ev, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
}

func TestBinaryRefusesBadConfig(t *testing.T) {
	bin := calculatorBinary(t)
	for _, v := range []string{"SERVER_PORT=99999", "WORKER_COUNT=0", "LOG_FORMAT=xml", "SHUTDOWN_TIMEOUT=never"} {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), v)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		name, _, _ := strings.Cut(v, "=")
		if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(stderr.String(), name) {
			t.Errorf("%s: %v, stderr %q; want exit 2 naming %s", v, err, stderr.String(), name)
		}
	}
}

func TestBinaryTextLogs(t *testing.T) {
	bin := calculatorBinary(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "SERVER_PORT=0", "LOG_FORMAT=text")
	pipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(pipe).ReadString('\n')
	cmd.Process.Signal(syscall.SIGINT)
	io.Copy(io.Discard, pipe)
	cmd.Wait()
	if err != nil || !strings.Contains(line, "msg=started") || json.Valid([]byte(line)) {
		t.Errorf("first line %q (%v), want slog text", line, err)
	}
	if cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("exit %d after SIGINT", cmd.ProcessState.ExitCode())
	}
}

// The glassbox binary serves the calculator as a verb and, multi-call
// style, under the name "calculator" (how the image carries it).
func TestGlassboxCalculator(t *testing.T) {
	gb := sandboxtest.Binary(t)
	link := filepath.Join(t.TempDir(), "calculator")
	if err := os.Symlink(gb, link); err != nil {
		t.Fatal(err)
	}
	for _, argv := range [][]string{{gb, "calculator"}, {link}} {
		r := start(t, argv)
		var h HealthResponse
		if code := getJSON(t, r.base+"/health", &h); code != 200 || h.Status != "healthy" {
			t.Errorf("%v /health: %d %+v", argv, code, h)
		}
		r.cmd.Process.Signal(syscall.SIGTERM)
		if code := r.wait(t); code != 0 {
			t.Errorf("%v exit %d", argv, code)
		}
	}
	cmd := exec.Command(gb, "calculator")
	cmd.Env = append(os.Environ(), "WORKER_COUNT=-3")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "WORKER_COUNT") {
		t.Errorf("glassbox calculator with a bad WORKER_COUNT: exit %d %q", cmd.ProcessState.ExitCode(), out)
	}
}
