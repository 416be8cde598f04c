package service

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchServer logs to a buffered sink writing to io.Discard, as Main logs to
// a buffered stdout: the per-request log line is part of what is measured.
func benchServer(b *testing.B) *Server {
	sink := newLogSink(io.Discard)
	b.Cleanup(sink.Close)
	return NewServer(Config{Workers: 4}, newLogger("json", sink))
}

const calcBody = `{"operation":"multiply","a":12.5,"b":4}`

func BenchmarkCalculate(b *testing.B) {
	s := benchServer(b)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/calculate", strings.NewReader(calcBody))
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body)
		}
	}
}

func BenchmarkCalculateParallel(b *testing.B) {
	s := benchServer(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/calculate", strings.NewReader(calcBody))
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
		}
	})
}

func BenchmarkHealth(b *testing.B) {
	s := benchServer(b)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/health", nil))
	}
}

// BenchmarkRequestLog is the cost of the one log line per request alone.
func BenchmarkRequestLog(b *testing.B) {
	sink := newLogSink(io.Discard)
	b.Cleanup(sink.Close)
	log := newLogger("json", sink)
	b.ReportAllocs()
	for b.Loop() {
		log.LogAttrs(nil, slog.LevelInfo, "request", slog.String("method", "POST"), slog.String("path", "/calculate"),
			slog.Int("status", 200), slog.Int64("duration_us", 12), slog.String("remote", "127.0.0.1:5555"))
	}
}

// BenchmarkDecodeCalc is the /calculate body decoder alone.
func BenchmarkDecodeCalc(b *testing.B) {
	body := []byte(calcBody)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeCalc(body); err != nil {
			b.Fatal(err)
		}
	}
}
