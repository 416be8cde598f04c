package service

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"
)

// FuzzDecodeCalc feeds arbitrary bodies to the /calculate decoder: it must
// never panic, must accept only complete requests with a known operation,
// reject everything else as 400, and what it accepts must calculate to a
// finite number or a 422.
func FuzzDecodeCalc(f *testing.F) {
	for _, seed := range []string{
		`{"operation":"add","a":10,"b":5}`,
		`{"operation":"divide","a":1,"b":0}`,
		`{"operation":"power","a":-8,"b":0.5}`,
		`{"operation":"modulo","a":1e308,"b":1e-308}`,
		`{"operation":"add","a":null,"b":5}`,
		`{"operation":"ADD","a":1,"b":2}`,
		`{"Operation":"add","A":1,"B":2}`,
		`{"operation":"add","a":1,"b":2}{}`,
		`{"operation":"add","a":1e400,"b":2}`,
		`[]`, `null`, `""`, `{`, ``, "\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeCalc(body)
		if err != nil {
			if statusOf(err) != http.StatusBadRequest {
				t.Fatalf("decode error %q has status %d, want 400", err, statusOf(err))
			}
			return
		}
		if !knownOperation(req.Operation) || req.A == nil || req.B == nil {
			t.Fatalf("accepted an incomplete request %+v from %q", req, body)
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		res, err := Calculate(req.Operation, *req.A, *req.B)
		if err != nil {
			if statusOf(err) != http.StatusUnprocessableEntity {
				t.Fatalf("calculate error %q has status %d, want 422", err, statusOf(err))
			}
			return
		}
		if math.IsNaN(res) || math.IsInf(res, 0) {
			t.Fatalf("%s(%v, %v) = %v passed as a result", req.Operation, *req.A, *req.B, res)
		}
		want, err := json.Marshal(res)
		if err != nil {
			t.Fatalf("result %v cannot be answered: %v", res, err)
		}
		if got := appendJSONFloat(nil, res); string(got) != string(want) {
			t.Fatalf("result %v encoded as %s, encoding/json says %s", res, got, want)
		}
	})
}
