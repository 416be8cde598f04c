package service

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
)

// The two hot answers, /calculate and /health, are encoded by hand into a
// pooled buffer: reflection-based json.Marshal was a visible share of a
// request's cost. TestFastEncodingMatchesJSON keeps the bytes identical to
// what encoding/json writes.

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// Shared header values: net/http only reads them.
var (
	jsonContentType = []string{"application/json"}
)

// appendJSONFloat appends f the way encoding/json does: shortest decimal,
// exponent form only for very small or large magnitudes, "e-7" not "e-07".
func appendJSONFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func quoteJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func (s *Server) writeCalc(w http.ResponseWriter, result float64) int {
	bp := bufPool.Get().(*[]byte)
	b := append((*bp)[:0], `{"result":`...)
	b = appendJSONFloat(b, result)
	b = append(b, `,"processed_by":`...)
	b = append(b, s.hostJSON...)
	b = append(b, "}\n"...)
	status := writeBytes(w, http.StatusOK, b)
	*bp = b
	bufPool.Put(bp)
	return status
}

func (s *Server) writeHealth(w http.ResponseWriter, status int, state string, uptime float64) int {
	bp := bufPool.Get().(*[]byte)
	b := append((*bp)[:0], `{"status":"`...)
	b = append(b, state...) // "healthy" or "shutting_down": nothing to escape
	b = append(b, `","uptime_seconds":`...)
	b = appendJSONFloat(b, uptime)
	b = append(b, "}\n"...)
	status = writeBytes(w, status, b)
	*bp = b
	bufPool.Put(bp)
	return status
}

func writeBytes(w http.ResponseWriter, status int, b []byte) int {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	w.Write(b)
	return status
}
