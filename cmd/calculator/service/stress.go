package service

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of one stress request; anything outside gets 400.
const (
	maxStressMB      = 4096
	maxStressSeconds = 300
	maxStressWorkers = 64
)

// stress holds the memory the stress endpoints allocated and the CPU burns
// they started. They exist to drive the memory-limit (OOM kill) and CPU
// throttling demos.
type stress struct {
	mu     sync.Mutex
	blocks [][]byte
	burns  []*burn
}

type burn struct {
	Workers int       `json:"workers"`
	Seconds int       `json:"seconds"`
	Until   time.Time `json:"until"`
	stop    chan struct{}
}

func newStress() *stress { return &stress{} }

// sink keeps the compiler from dropping the spin loop's work.
var sink atomic.Uint64

// StressStatus is the answer of every stress endpoint: what is held now.
type StressStatus struct {
	HeldMB     int       `json:"held_mb"`     // memory allocated and touched by POST /stress/memory
	Blocks     int       `json:"blocks"`      // how many allocations that was
	CPUWorkers int       `json:"cpu_workers"` // goroutines burning CPU right now
	CPUUntil   time.Time `json:"cpu_until,omitzero"`
	Started    string    `json:"started,omitempty"` // what this request started, in words
	SIGTERM    string    `json:"sigterm,omitempty"` // what a SIGTERM does now, as SIGTERM_MODE says it
}

// MemoryStressRequest is the body of POST /stress/memory.
type MemoryStressRequest struct {
	MB int `json:"mb"`
}

// CPUStressRequest is the body of POST /stress/cpu.
type CPUStressRequest struct {
	Seconds int `json:"seconds"`
	Workers int `json:"workers"`
}

func (st *stress) status() StressStatus {
	st.mu.Lock()
	defer st.mu.Unlock()
	var s StressStatus
	s.Blocks = len(st.blocks)
	for _, b := range st.blocks {
		s.HeldMB += len(b) >> 20
	}
	now := time.Now()
	for _, b := range st.burns {
		if b.Until.After(now) {
			s.CPUWorkers += b.Workers
			if b.Until.After(s.CPUUntil) {
				s.CPUUntil = b.Until
			}
		}
	}
	return s
}

// allocate takes mb MiB more and writes to every page of it, so that the
// kernel really backs it with memory (and charges it to our cgroup): an
// untouched allocation would only be address space.
func (st *stress) allocate(mb int) {
	b := make([]byte, mb<<20)
	page := os.Getpagesize()
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
	st.mu.Lock()
	st.blocks = append(st.blocks, b)
	st.mu.Unlock()
}

// burnCPU starts workers goroutines that spin for seconds.
func (st *stress) burnCPU(seconds, workers int) *burn {
	b := &burn{Workers: workers, Seconds: seconds, Until: time.Now().Add(time.Duration(seconds) * time.Second), stop: make(chan struct{})}
	st.mu.Lock()
	live := st.burns[:0]
	for _, old := range st.burns {
		if old.Until.After(time.Now()) {
			live = append(live, old)
		}
	}
	st.burns = append(live, b)
	st.mu.Unlock()
	for range workers {
		go spin(b.Until, b.stop)
	}
	return b
}

func spin(until time.Time, stop <-chan struct{}) {
	x := uint64(1)
	for i := 0; ; i++ {
		// A few million multiply-adds between clock reads keep the loop
		// busy on the CPU rather than in time.Now.
		for range 1 << 16 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if time.Now().After(until) {
			break
		}
		select {
		case <-stop:
			return
		default:
		}
	}
	sink.Store(x)
}

// release drops every held block, stops the CPU burns, and gives the memory
// back to the operating system at once (without FreeOSMemory the Go runtime
// would keep it for a while and the cgroup's usage would not go down).
func (st *stress) release() {
	st.mu.Lock()
	st.blocks = nil
	for _, b := range st.burns {
		select {
		case <-b.stop:
		default:
			close(b.stop)
		}
	}
	st.burns = nil
	st.mu.Unlock()
	debug.FreeOSMemory()
}

func (s *Server) stressStatus(w http.ResponseWriter, _ *http.Request) int {
	st := s.stress.status()
	st.SIGTERM = s.term.get().String()
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) stressRelease(w http.ResponseWriter, _ *http.Request) int {
	s.stress.release()
	st := s.stress.status()
	st.Started = "released all held memory and stopped CPU burns"
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) stressMemory(w http.ResponseWriter, r *http.Request) int {
	var req MemoryStressRequest
	if err := decodeBody(w, r, &req); err != nil {
		return writeError(w, statusOf(err), err.Error())
	}
	if req.MB < 1 || req.MB > maxStressMB {
		return writeError(w, http.StatusBadRequest, fmt.Sprintf(`"mb" must be 1..%d per request, not %d`, maxStressMB, req.MB))
	}
	s.stress.allocate(req.MB)
	st := s.stress.status()
	st.Started = fmt.Sprintf("allocated and touched %d MiB", req.MB)
	s.log.Info("stress memory", "mb", req.MB, "held_mb", st.HeldMB)
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) stressCPU(w http.ResponseWriter, r *http.Request) int {
	var req CPUStressRequest
	if err := decodeBody(w, r, &req); err != nil {
		return writeError(w, statusOf(err), err.Error())
	}
	if req.Seconds < 1 || req.Seconds > maxStressSeconds {
		return writeError(w, http.StatusBadRequest, fmt.Sprintf(`"seconds" must be 1..%d, not %d`, maxStressSeconds, req.Seconds))
	}
	if req.Workers == 0 {
		req.Workers = 1
	}
	if req.Workers < 1 || req.Workers > maxStressWorkers {
		return writeError(w, http.StatusBadRequest, fmt.Sprintf(`"workers" must be 1..%d, not %d`, maxStressWorkers, req.Workers))
	}
	s.stress.burnCPU(req.Seconds, req.Workers)
	st := s.stress.status()
	st.Started = fmt.Sprintf("burning CPU with %d workers for %d s", req.Workers, req.Seconds)
	s.log.Info("stress cpu", "seconds", req.Seconds, "workers", req.Workers)
	return writeJSON(w, http.StatusAccepted, st)
}

// decodeBody reads one JSON object of at most maxBody bytes into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("malformed JSON: %s", jsonProblem(err))
	}
	return nil
}
