package service

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	drain := SIGTERMMode{Mode: TermDrain}
	defaults := Config{Port: 8000, Workers: 4, LogFormat: "json", ShutdownTimeout: 10 * time.Second, SIGTERM: drain}
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantVar string // the variable the error must name
	}{
		{"defaults", nil, defaults, ""},
		{"empty values are unset", map[string]string{"SERVER_PORT": "", "WORKER_COUNT": " "}, defaults, ""},
		{"all set", map[string]string{"SERVER_PORT": "9000", "WORKER_COUNT": "16", "LOG_FORMAT": "TEXT", "SHUTDOWN_TIMEOUT": "1500ms"},
			Config{Port: 9000, Workers: 16, LogFormat: "text", ShutdownTimeout: 1500 * time.Millisecond, SIGTERM: drain}, ""},
		{"port 0 is any free port", map[string]string{"SERVER_PORT": "0"}, Config{Port: 0, Workers: 4, LogFormat: "json", ShutdownTimeout: 10 * time.Second, SIGTERM: drain}, ""},
		{"timeout in whole seconds", map[string]string{"SHUTDOWN_TIMEOUT": "3"}, Config{Port: 8000, Workers: 4, LogFormat: "json", ShutdownTimeout: 3 * time.Second, SIGTERM: drain}, ""},
		{"deaf to SIGTERM", map[string]string{"SIGTERM_MODE": "Ignore"}, Config{Port: 8000, Workers: 4, LogFormat: "json", ShutdownTimeout: 10 * time.Second, SIGTERM: SIGTERMMode{Mode: TermIgnore}}, ""},
		{"a slow shutdown", map[string]string{"SIGTERM_MODE": "15s"}, Config{Port: 8000, Workers: 4, LogFormat: "json", ShutdownTimeout: 10 * time.Second, SIGTERM: SIGTERMMode{Mode: TermSlow, Delay: 15 * time.Second}}, ""},
		{"a slow shutdown in whole seconds", map[string]string{"SIGTERM_MODE": "20"}, Config{Port: 8000, Workers: 4, LogFormat: "json", ShutdownTimeout: 10 * time.Second, SIGTERM: SIGTERMMode{Mode: TermSlow, Delay: 20 * time.Second}}, ""},
		{"drain said outright", map[string]string{"SIGTERM_MODE": "drain"}, defaults, ""},
		{"sigterm mode unknown", map[string]string{"SIGTERM_MODE": "deaf"}, Config{}, "SIGTERM_MODE"},
		{"sigterm delay zero", map[string]string{"SIGTERM_MODE": "0s"}, Config{}, "SIGTERM_MODE"},
		{"sigterm delay too long", map[string]string{"SIGTERM_MODE": "1h"}, Config{}, "SIGTERM_MODE"},
		{"port not a number", map[string]string{"SERVER_PORT": "http"}, Config{}, "SERVER_PORT"},
		{"port negative", map[string]string{"SERVER_PORT": "-1"}, Config{}, "SERVER_PORT"},
		{"port too big", map[string]string{"SERVER_PORT": "65536"}, Config{}, "SERVER_PORT"},
		{"workers zero", map[string]string{"WORKER_COUNT": "0"}, Config{}, "WORKER_COUNT"},
		{"workers too many", map[string]string{"WORKER_COUNT": "100000"}, Config{}, "WORKER_COUNT"},
		{"workers not a number", map[string]string{"WORKER_COUNT": "four"}, Config{}, "WORKER_COUNT"},
		{"log format unknown", map[string]string{"LOG_FORMAT": "xml"}, Config{}, "LOG_FORMAT"},
		{"timeout garbage", map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, Config{}, "SHUTDOWN_TIMEOUT"},
		{"timeout zero", map[string]string{"SHUTDOWN_TIMEOUT": "0s"}, Config{}, "SHUTDOWN_TIMEOUT"},
		{"timeout negative", map[string]string{"SHUTDOWN_TIMEOUT": "-5"}, Config{}, "SHUTDOWN_TIMEOUT"},
		{"timeout too long", map[string]string{"SHUTDOWN_TIMEOUT": "2h"}, Config{}, "SHUTDOWN_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadConfig(func(k string) string { return tt.env[k] })
			if tt.wantVar != "" {
				var ce *ConfigError
				if !errors.As(err, &ce) || ce.Var != tt.wantVar || !strings.Contains(err.Error(), tt.wantVar) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantVar)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestHandleArgs(t *testing.T) {
	tests := []struct {
		argv   []string
		code   int
		done   bool
		stdout string
		stderr string
	}{
		{[]string{"/app/calculator"}, 0, false, "", ""},
		{[]string{"glassbox", "calculator"}, 0, false, "", ""}, // the verb checks its own arguments
		{[]string{"/app/calculator", "--help"}, 0, true, "SERVER_PORT", ""},
		{[]string{"calculator", "--version"}, 0, true, "calculator (glassbox) go", ""},
		{[]string{"/app/calculator", "--port", "9000"}, 2, true, "", `unexpected argument "--port"`},
	}
	for _, tt := range tests {
		var out, errOut strings.Builder
		code, done := handleArgs(tt.argv, &out, &errOut)
		if code != tt.code || done != tt.done || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errOut.String(), tt.stderr) ||
			(tt.stdout == "" && out.Len() > 0) || (tt.stderr == "" && errOut.Len() > 0) {
			t.Errorf("%v: %d %v stdout %q stderr %q", tt.argv, code, done, out.String(), errOut.String())
		}
	}
}
