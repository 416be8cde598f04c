package service

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// maxBody is the largest request body accepted; bigger ones get 413.
const maxBody = 64 << 10

// Server is the calculator's HTTP handler and the state behind it.
type Server struct {
	cfg      Config
	log      *slog.Logger
	hostname string
	hostJSON []byte // hostname as a JSON string
	started  time.Time
	port     atomic.Int64 // the port actually listened on (SERVER_PORT may be 0)
	workers  chan struct{}
	stress   *stress
	term     termMode
	stopping atomic.Bool
}

// NewServer returns the handler for cfg, logging one line per request to log.
func NewServer(cfg Config, log *slog.Logger) *Server {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		hostname: host,
		hostJSON: quoteJSON(host),
		started:  time.Now(),
		workers:  make(chan struct{}, cfg.Workers),
		stress:   newStress(),
	}
	s.port.Store(int64(cfg.Port))
	if cfg.SIGTERM.Mode == "" {
		cfg.SIGTERM.Mode = TermDrain
	}
	s.term.set(cfg.SIGTERM)
	return s
}

// BeginShutdown makes /health answer 503 "shutting_down" from now on, so
// that a health checker or load balancer stops sending traffic here.
func (s *Server) BeginShutdown() { s.stopping.Store(true) }

// route is one path's handlers by method.
type route map[string]func(*Server, http.ResponseWriter, *http.Request) int

var routes = map[string]route{
	"/health":         {http.MethodGet: (*Server).health},
	"/info":           {http.MethodGet: (*Server).info},
	"/calculate":      {http.MethodPost: (*Server).calculate},
	"/stress":         {http.MethodGet: (*Server).stressStatus, http.MethodDelete: (*Server).stressRelease},
	"/stress/memory":  {http.MethodPost: (*Server).stressMemory},
	"/stress/cpu":     {http.MethodPost: (*Server).stressCPU},
	"/stress/sigterm": {http.MethodPost: (*Server).stressSIGTERM},
}

// allowed is each path's Allow header, computed once.
var allowed = func() map[string]string {
	order := []string{http.MethodGet, http.MethodPost, http.MethodDelete}
	out := map[string]string{}
	for path, r := range routes {
		v := ""
		for _, m := range order {
			if r[m] != nil {
				if v != "" {
					v += ", "
				}
				v += m
			}
		}
		out[path] = v
	}
	return out
}()

// ServeHTTP routes the request and logs one line about it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status := s.dispatch(w, r)
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("duration_us", time.Since(start).Microseconds()),
		slog.String("remote", r.RemoteAddr),
	}
	if ua := r.UserAgent(); ua != "" {
		// Who asked: a reader of the log tells a health checker's polls
		// (glassbox's say glassbox-healthcheck) from real traffic.
		attrs = append(attrs, slog.String("user_agent", ua))
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) int {
	rt, ok := routes[r.URL.Path]
	if !ok {
		return writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path+" (try /health, /info, /calculate, /stress)")
	}
	h := rt[r.Method]
	if h == nil {
		w.Header().Set("Allow", allowed[r.URL.Path])
		return writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path+" (allowed: "+allowed[r.URL.Path]+")")
	}
	return h(s, w, r)
}

// HealthResponse is the answer of GET /health.
type HealthResponse struct {
	Status        string  `json:"status"` // "healthy" or "shutting_down"
	UptimeSeconds float64 `json:"uptime_seconds"`
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) int {
	up := float64(time.Since(s.started).Milliseconds()) / 1000
	if s.stopping.Load() {
		return s.writeHealth(w, http.StatusServiceUnavailable, "shutting_down", up)
	}
	return s.writeHealth(w, http.StatusOK, "healthy", up)
}

func (s *Server) calculate(w http.ResponseWriter, r *http.Request) int {
	body, err := readBody(w, r)
	if err != nil {
		return writeError(w, statusOf(err), err.Error())
	}
	req, err := decodeCalc(body)
	if err != nil {
		return writeError(w, statusOf(err), err.Error())
	}
	// WORKER_COUNT bounds how many calculations run at once; the rest wait
	// here until a worker is free or their client gives up.
	select {
	case s.workers <- struct{}{}:
	case <-r.Context().Done():
		return writeError(w, http.StatusServiceUnavailable, "gave up waiting for a free worker")
	}
	res, err := Calculate(req.Operation, *req.A, *req.B)
	<-s.workers
	if err != nil {
		return writeError(w, statusOf(err), err.Error())
	}
	return s.writeCalc(w, res)
}

// readBody reads a request body of at most maxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &requestError{http.StatusRequestEntityTooLarge, "request body larger than " + strconv.Itoa(maxBody) + " bytes"}
	}
	if err != nil {
		return nil, badRequest("read request body: %v", err)
	}
	return body, nil
}

// ErrorResponse is the body of every answer that is not a success.
type ErrorResponse struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) int {
	return writeJSON(w, status, ErrorResponse{msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"error":"encode response"}`)
	}
	return writeBytes(w, status, append(data, '\n'))
}
