package dockerfile

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	f, err := Parse("Dockerfile", strings.NewReader(`# syntax=docker/dockerfile:1
# a comment
ARG BASE=busybox
FROM ${BASE}
RUN echo a \
    # a comment inside
    && echo b
COPY --chown=1:2 ["a b", "dst/"]
HEALTHCHECK --interval=5s CMD ["wget", "-q", "http://x/"]
cmd ["sh"]
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range f.Instructions {
		got = append(got, in.String())
	}
	want := []string{"ARG BASE=busybox", "FROM ${BASE}", "RUN echo a && echo b",
		`COPY --chown=1:2 ["a b", "dst/"]`, `HEALTHCHECK --interval=5s CMD ["wget", "-q", "http://x/"]`, `CMD ["sh"]`}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if f.Instructions[2].Line != 5 || f.Instructions[3].Line != 8 {
		t.Errorf("lines %d %d", f.Instructions[2].Line, f.Instructions[3].Line)
	}
	if cp := f.Instructions[3]; !cp.IsJSON || !slices.Equal(cp.JSON, []string{"a b", "dst/"}) {
		t.Errorf("COPY exec form %v %q", cp.IsJSON, cp.JSON)
	}
	if len(f.Notes) != 1 || !strings.Contains(f.Notes[0], "syntax") {
		t.Errorf("notes %q", f.Notes)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"", "Dockerfile: the Dockerfile is empty"},
		{"# only a comment\n", "empty"},
		{"FROM busybox\nFROB x\n", "Dockerfile:2: unknown instruction FROB"},
		{"FROM busybox\nVOLUME /x\n", "Dockerfile:2: VOLUME is not supported"},
		{"RUN true\n", "Dockerfile:1: RUN before FROM"},
		{"FROM a\nFROM b\n", "Dockerfile:2: a second FROM"},
		{"FROM busybox\nCOPY --from=x a b\n", "multi-stage"},
		{"FROM busybox\nRUN --mount=type=cache true\n", "RUN: unknown option --mount"},
		{"FROM busybox\nRUN\n", "Dockerfile:2: RUN needs arguments"},
		{"# escape=x\nFROM busybox\n", "invalid escape directive"},
		{"FROM busybox\nRUN a\x00b\n", "NUL"},
	} {
		_, err := Parse("Dockerfile", strings.NewReader(tc.src))
		var de *Error
		if err == nil || !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want an error saying %q", tc.src, err, tc.want)
		}
	}
}

func TestWords(t *testing.T) {
	vars := func(n string) (string, bool) {
		v, ok := map[string]string{"A": "x y", "E": ""}[n]
		return v, ok
	}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`$A`, []string{"x y"}},
		{`"$A"`, []string{"x y"}},
		{`'$A'`, []string{"$A"}},
		{`\$A`, []string{"$A"}},
		{`${A}b`, []string{"x yb"}},
		{`${B:-def}`, []string{"def"}},
		{`${E:-def} ${E-def}`, []string{"def"}},
		{`${A:+alt} ${B:+alt}.`, []string{"alt", "."}},
		{`a  b`, []string{"a", "b"}},
	} {
		got, err := Words(tc.in, vars, '\\')
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Words(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := Words(`${A`, vars, '\\'); err == nil {
		t.Error("unterminated ${ accepted")
	}
	kv, err := KeyValues(`A=1 B="two words" C=$A`, true, vars, '\\')
	if err != nil || len(kv) != 3 || kv[1][1] != "two words" || kv[2][1] != "x y" {
		t.Errorf("KeyValues = %q, %v", kv, err)
	}
	kv, err = KeyValues(`LEGACY value with spaces`, true, vars, '\\')
	if err != nil || len(kv) != 1 || kv[0] != [2]string{"LEGACY", "value with spaces"} {
		t.Errorf("legacy ENV = %q, %v", kv, err)
	}
}

// FuzzParse: no input makes the parser panic, and every instruction it
// returns is a supported one at a line inside the file.
func FuzzParse(f *testing.F) {
	f.Add("FROM busybox\nRUN echo hi \\\n && echo there\nCOPY . /app\n")
	f.Add("# escape=`\nFROM scratch\nENV A=`\"b\nLABEL a=\"b c\"\n")
	f.Add("ARG X\nFROM ${X:-busybox}\nHEALTHCHECK NONE\nCMD [\"a\"]\n")
	f.Fuzz(func(t *testing.T, src string) {
		df, err := Parse("Dockerfile", strings.NewReader(src))
		if err != nil {
			return
		}
		lines := strings.Count(src, "\n") + 1
		for _, in := range df.Instructions {
			if !slices.Contains(Supported, in.Cmd) || in.Line < 1 || in.Line > lines {
				t.Fatalf("instruction %q at line %d of %d", in.Cmd, in.Line, lines)
			}
			for _, w := range []string{in.Args} {
				Words(w, func(string) (string, bool) { return "v", true }, df.Escape)
			}
		}
	})
}
