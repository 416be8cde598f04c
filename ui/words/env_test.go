package words

import (
	"reflect"
	"testing"

	"glassbox/sandbox/state"
)

func TestEnvOrigins(t *testing.T) {
	image := []string{"PATH=/usr/bin:/bin", "SERVER_PORT=8000", "WORKER_COUNT=4"}
	rec := &state.Sandbox{ImageEnv: image, Env: []string{"PATH=/usr/bin:/bin", "SERVER_PORT=8000", "WORKER_COUNT=2", "LOG_FORMAT=text"}}
	tests := []struct {
		name string
		live []string
		sb   *state.Sandbox
		want []EnvVar
	}{
		{"image, override, -e and glassbox's own", []string{"PATH=/usr/bin:/bin", "SERVER_PORT=8000", "WORKER_COUNT=2", "LOG_FORMAT=text", "HOSTNAME=calc"}, rec, []EnvVar{
			{Key: "PATH", Value: "/usr/bin:/bin", From: "image ENV"},
			{Key: "SERVER_PORT", Value: "8000", From: "image ENV"},
			{Key: "WORKER_COUNT", Value: "2", From: "-e (image ENV: 4)", Overrides: true},
			{Key: "LOG_FORMAT", Value: "text", From: "-e"},
			{Key: "HOSTNAME", Value: "calc", From: "glassbox (the hostname)"},
		}},
		{"the process gone: the record's", nil, rec, []EnvVar{
			{Key: "PATH", Value: "/usr/bin:/bin", From: "image ENV"},
			{Key: "SERVER_PORT", Value: "8000", From: "image ENV"},
			{Key: "WORKER_COUNT", Value: "2", From: "-e (image ENV: 4)", Overrides: true},
			{Key: "LOG_FORMAT", Value: "text", From: "-e"},
		}},
		{"a default PATH", []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1"},
			&state.Sandbox{ImageEnv: []string{}, Env: []string{"A=1"}}, []EnvVar{
				{Key: "PATH", Value: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", From: "glassbox (a default PATH)"},
				{Key: "A", Value: "1", From: "-e"},
			}},
		{"a record from before the image's ENV was kept", []string{"A=1"}, &state.Sandbox{Env: []string{"A=1"}},
			[]EnvVar{{Key: "A", Value: "1", From: "glassbox run"}}},
		{"another engine's container: no origin", []string{"A=1=2"}, &state.Sandbox{Engine: "docker"},
			[]EnvVar{{Key: "A", Value: "1=2"}}},
		{"no record", []string{"A=1"}, nil, []EnvVar{{Key: "A", Value: "1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Env(tc.live, tc.sb); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Env:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestLayerWords(t *testing.T) {
	for _, tc := range []struct {
		i, n int
		want string
	}{{0, 2, "#2"}, {1, 2, "#1"}, {0, 1, "#1"}} {
		if got := LayerNumber(tc.i, tc.n); got != tc.want {
			t.Errorf("LayerNumber(%d, %d) = %q, want %q", tc.i, tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n     int
		names []string
		want  string
	}{
		{2, []string{"calc", "calc2"}, "shared by 2 (calc, calc2)"},
		{1, []string{"calc"}, "shared by 1 (calc only)"},
		{5, []string{"a", "b", "c", "d", "e"}, "shared by 5 (a, b, c and 2 more)"},
		{0, nil, "shared by 0"},
	} {
		if got := SharedBy(tc.n, tc.names); got != tc.want {
			t.Errorf("SharedBy(%d, %q) = %q, want %q", tc.n, tc.names, got, tc.want)
		}
	}
}
