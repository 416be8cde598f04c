// Package service is the calculator: a small, container-friendly HTTP service
// (configured by environment, /health, graceful shutdown, logs on stdout).
// Both cmd/calculator and the glassbox binary (as "glassbox calculator", or
// when invoked under the name "calculator") run it through Main.
//
// Endpoints (all JSON; errors are {"error": "..."}):
//
//	GET    /health         200 {"status":"healthy","uptime_seconds":…}; 503 "shutting_down" once stopping
//	GET    /info           the service's view from inside (Info)
//	POST   /calculate      {"operation":"add","a":10,"b":5} → {"result":15,"processed_by":"<hostname>"}
//	POST   /stress/memory  {"mb":64}: allocate, touch and hold 64 MiB more
//	POST   /stress/cpu     {"seconds":10,"workers":2}: burn CPU in the background
//	POST   /stress/sigterm {"mode":"ignore"}: on SIGTERM go on serving ("slow" with "seconds": drain later; "drain")
//	GET    /stress         what is held; DELETE /stress releases it all
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Main runs the calculator until SIGTERM or SIGINT and returns its exit
// status: 0 after a clean drain; 1 when it could not listen, or in-flight
// requests outlived SHUTDOWN_TIMEOUT, or a second signal cut the drain
// short; 2 for a bad configuration or arguments.
func Main() int {
	// Ask for the signals before anything else: as PID 1 of a PID
	// namespace the kernel drops every signal that has no handler, so a
	// SIGTERM arriving before Notify would be lost, not fatal.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	if code, done := handleArgs(os.Args, os.Stdout, os.Stderr); done {
		return code
	}
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "calculator: bad configuration:", err)
		return 2
	}
	out := newLogSink(os.Stdout)
	defer out.Close()
	log := newLogger(cfg.LogFormat, out)

	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		log.Error("exited", "error", fmt.Sprintf("listen on port %d: %v", cfg.Port, err))
		return 1
	}
	return Run(cfg, ln, log, out.Flush, sigs)
}

// usage is what --help prints.
const usage = `calculator: a small container-friendly HTTP service. It takes no
arguments; configure it with the environment:

  SERVER_PORT       TCP port to listen on (default 8000; 0 = any free port)
  WORKER_COUNT      calculations worked on at once, 1..1024 (default 4)
  LOG_FORMAT        json or text (default json)
  SHUTDOWN_TIMEOUT  how long in-flight requests may finish after SIGTERM (default 10s)
  SIGTERM_MODE      what SIGTERM does: drain (default), ignore (only SIGKILL
                    ends it), or a delay such as 15s (serve on, then drain)

Endpoints: GET /health, GET /info, POST /calculate, POST /stress/memory,
POST /stress/cpu, POST /stress/sigterm, GET|DELETE /stress.
`

// handleArgs deals with command-line arguments when the calculator runs as
// its own program (argv[0] "calculator"; "glassbox calculator" checks its
// own). Only --help and --version are known; anything else is refused
// rather than ignored, so that "/app/calculator --port 9000" does not
// silently serve on 8000.
func handleArgs(argv []string, stdout, stderr io.Writer) (code int, done bool) {
	if len(argv) < 2 || filepath.Base(argv[0]) != "calculator" {
		return 0, false
	}
	switch argv[1] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0, true
	case "-version", "--version", "version":
		fmt.Fprintf(stdout, "calculator (glassbox) %s\n", runtime.Version())
		return 0, true
	}
	fmt.Fprintf(stderr, "calculator: unexpected argument %q: it takes none; configure it with SERVER_PORT, WORKER_COUNT, LOG_FORMAT, SHUTDOWN_TIMEOUT and SIGTERM_MODE (see --help)\n", argv[1])
	return 2, true
}

// handlerHook lets tests see a request enter its handler. A connection
// whose request headers have been read is not enough: net/http drops a
// request that has not reached its handler when Shutdown begins, so only a
// request inside the handler is truly in flight.
var handlerHook func(*http.Request)

// awaitShutdown serves until a signal says to shut down, as the SIGTERM
// mode in force has it; false when serving failed first.
func awaitShutdown(srv *Server, sigs <-chan os.Signal, served <-chan error, log *slog.Logger, flush func()) bool {
	var slow <-chan time.Time // the end of a slow shutdown's delay
	for {
		select {
		case sig := <-sigs:
			mode := srv.term.get()
			switch {
			case sig != syscall.SIGTERM || slow != nil:
				// Ctrl-C, or a second signal during a slow shutdown: now.
				log.Info("signal received", "signal", sig.String())
				return true
			case mode.Mode == TermIgnore:
				log.Warn("signal received, ignored", "signal", sig.String(), "sigterm_mode", mode.String(),
					"reason", "SIGTERM_MODE ignore: only SIGKILL ends the service")
				flush()
			case mode.Mode == TermSlow:
				log.Warn("signal received, draining later", "signal", sig.String(), "sigterm_mode", mode.String(),
					"reason", "SIGTERM_MODE slow: serving on for "+mode.Delay.String())
				flush()
				slow = time.After(mode.Delay)
			default:
				log.Info("signal received", "signal", sig.String())
				return true
			}
		case <-slow:
			return true
		case err := <-served:
			log.Error("exited", "error", fmt.Sprintf("serve: %v", err))
			flush()
			return false
		}
	}
}

// Run serves on ln until a signal arrives on sigs, then drains and returns
// the exit status. flush pushes buffered log lines out (lifecycle events are
// written at once).
func Run(cfg Config, ln net.Listener, log *slog.Logger, flush func(), sigs <-chan os.Signal) int {
	srv := NewServer(cfg, log)
	srv.port.Store(int64(ln.Addr().(*net.TCPAddr).Port))
	var handler http.Handler = srv
	if hook := handlerHook; hook != nil {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hook(r)
			srv.ServeHTTP(w, r)
		})
	}
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("started", "port", srv.port.Load(), "workers", cfg.Workers, "pid", os.Getpid(),
		"hostname", srv.hostname, "shutdown_timeout", cfg.ShutdownTimeout.String())
	flush()

	if !awaitShutdown(srv, sigs, served, log, flush) {
		return 1
	}

	// Stop accepting, let in-flight requests finish, close idle
	// keep-alive connections.
	srv.BeginShutdown()
	log.Info("draining", "timeout", cfg.ShutdownTimeout.String())
	flush()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	drained := make(chan error, 1)
	go func() { drained <- hs.Shutdown(ctx) }()
	var err error
	select {
	case err = <-drained:
	case sig := <-sigs:
		// A second Ctrl-C (or SIGTERM) means "now": don't wait any more.
		cancel()
		<-drained
		hs.Close()
		srv.stress.release()
		log.Warn("exited", "status", 1, "reason", "second signal ("+sig.String()+") while draining: in-flight requests cut off")
		flush()
		return 1
	}
	srv.stress.release()
	if errors.Is(err, context.DeadlineExceeded) {
		hs.Close()
		log.Warn("exited", "status", 1, "reason", "in-flight requests outlived SHUTDOWN_TIMEOUT "+cfg.ShutdownTimeout.String())
		flush()
		return 1
	}
	log.Info("exited", "status", 0, "uptime_seconds", time.Since(srv.started).Seconds())
	flush()
	return 0
}
