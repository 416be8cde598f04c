package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
)

// CalcRequest is the body of POST /calculate.
type CalcRequest struct {
	Operation string   `json:"operation"`
	A         *float64 `json:"a"`
	B         *float64 `json:"b"`
}

// CalcResponse is the answer of POST /calculate.
type CalcResponse struct {
	Result      float64 `json:"result"`
	ProcessedBy string  `json:"processed_by"` // the hostname of the sandbox that answered
}

// Operations are the names /calculate understands, in the order error
// messages list them.
var Operations = []string{"add", "subtract", "multiply", "divide", "power", "modulo"}

// requestError is bad input: it carries the HTTP status to answer with.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func unprocessable(format string, args ...any) error {
	return &requestError{http.StatusUnprocessableEntity, fmt.Sprintf(format, args...)}
}

// statusOf maps an error to the status it is answered with.
func statusOf(err error) int {
	var re *requestError
	if errors.As(err, &re) {
		return re.status
	}
	return http.StatusInternalServerError
}

// decodeCalc parses and validates a /calculate body: exactly one JSON
// object with a known operation and both operands.
func decodeCalc(body []byte) (CalcRequest, error) {
	var req CalcRequest
	// Unmarshal, unlike a Decoder, also rejects anything after the object.
	if err := json.Unmarshal(body, &req); err != nil {
		return req, badRequest("malformed JSON: %s", jsonProblem(err))
	}
	if req.Operation == "" {
		return req, badRequest(`missing "operation" (one of %s)`, strings.Join(Operations, ", "))
	}
	if !knownOperation(req.Operation) {
		return req, badRequest("unknown operation %q (one of %s)", req.Operation, strings.Join(Operations, ", "))
	}
	switch {
	case req.A == nil && req.B == nil:
		return req, badRequest(`missing operands "a" and "b"`)
	case req.A == nil:
		return req, badRequest(`missing operand "a"`)
	case req.B == nil:
		return req, badRequest(`missing operand "b"`)
	}
	return req, nil
}

// jsonProblem words a decoding error for a person; the decoder's own
// messages mention Go types.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		if syn.Error() == "unexpected end of JSON input" {
			if syn.Offset == 0 {
				return "empty body"
			}
			return "the body ends in the middle of a JSON value"
		}
		return fmt.Sprintf("%s at byte %d", syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%q must be a %s, not a JSON %s", typ.Field, wantKind(typ.Field), typ.Value)
		}
		return fmt.Sprintf("the body must be a JSON object, not a JSON %s", typ.Value)
	case errors.Is(err, io.EOF):
		return "empty body"
	default:
		return err.Error()
	}
}

func wantKind(field string) string {
	if field == "operation" {
		return "string"
	}
	return "number"
}

func knownOperation(op string) bool {
	for _, o := range Operations {
		if o == op {
			return true
		}
	}
	return false
}

// Calculate applies op to a and b. A division or modulo by zero, and a
// result that is not a finite number (overflow, a negative number to a
// fractional power), is an error answered with 422.
func Calculate(op string, a, b float64) (float64, error) {
	var r float64
	switch op {
	case "add":
		r = a + b
	case "subtract":
		r = a - b
	case "multiply":
		r = a * b
	case "divide":
		if b == 0 {
			return 0, unprocessable("division by zero")
		}
		r = a / b
	case "power":
		r = math.Pow(a, b)
	case "modulo":
		if b == 0 {
			return 0, unprocessable("modulo by zero")
		}
		r = math.Mod(a, b)
	default:
		return 0, badRequest("unknown operation %q (one of %s)", op, strings.Join(Operations, ", "))
	}
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, unprocessable("%s of %g and %g is not a finite number", op, a, b)
	}
	return r, nil
}
