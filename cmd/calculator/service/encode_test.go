package service

import (
	"encoding/json"
	"math"
	"net/http/httptest"
	"testing"
)

func TestFastEncodingMatchesJSON(t *testing.T) {
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 15, 2.5, 1.0 / 3, 1e-6, 9.99e-7, 1e-7, 1.5e-300, 1e20, 1e21, 123456789e15,
		-1e-9, math.MaxFloat64, math.SmallestNonzeroFloat64, 42.000001, 0.1 + 0.2}
	s := testServer(t)
	s.hostname, s.hostJSON = `sand"box\1<>&`, quoteJSON(`sand"box\1<>&`)
	for _, f := range floats {
		w := httptest.NewRecorder()
		s.writeCalc(w, f)
		want, _ := json.Marshal(CalcResponse{Result: f, ProcessedBy: s.hostname})
		if got := w.Body.String(); got != string(want)+"\n" {
			t.Errorf("calc %v: %q, want %q", f, got, want)
		}
		w = httptest.NewRecorder()
		s.writeHealth(w, 200, "healthy", math.Abs(f))
		want, _ = json.Marshal(HealthResponse{"healthy", math.Abs(f)})
		if got := w.Body.String(); got != string(want)+"\n" {
			t.Errorf("health %v: %q, want %q", f, got, want)
		}
	}
}
