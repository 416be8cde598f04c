package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"glassbox/inspect/union/uniontest"
	"glassbox/sandbox/image"
	"glassbox/sandbox/state"
	"glassbox/ui/words"
)

// fixtureStore makes a store in a temporary root holding "course" (the
// three layers of uniontest.Course, built FROM "base", its first layer:
// a hit and a miss in the build record) and "blob" (a binary file and a
// text one). It returns the root, for --root.
func fixtureStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s := image.NewStore(state.RootsAt(dir))
	unlock, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	put := func(spec, by string) state.Layer {
		st, err := s.StageLayer()
		if err != nil {
			t.Fatal(err)
		}
		defer st.Discard()
		uniontest.Write(t, st.Dir, spec)
		l, err := st.Commit(by)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	at := time.Date(2026, 11, 28, 15, 4, 5, 0, time.UTC)
	var layers []state.Layer
	var hist []image.History
	steps := []*image.StepRecord{nil, {Cached: true}, {Why: "app.py changed"}}
	for i, spec := range uniontest.Course {
		by := fmt.Sprintf("RUN step %d", i+1)
		l := put(spec, by)
		layers = append(layers, l)
		hist = append(hist, image.History{CreatedBy: by, Created: at, Layer: l.Digest, Size: l.Size, Build: steps[i]})
	}
	if _, err := s.Put(&image.Image{Layers: layers[:1], History: hist[:1], Created: at}, []string{"base"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(&image.Image{Layers: layers, History: hist, Created: at}, []string{"course"}); err != nil {
		t.Fatal(err)
	}
	blob := put("z /blob 100\nt /hello hi there", "COPY blob /")
	if _, err := s.Put(&image.Image{Layers: []state.Layer{blob}, History: []image.History{{CreatedBy: "COPY blob /", Layer: blob.Digest}}, Created: at}, []string{"blob"}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestImageLs(t *testing.T) {
	root := fixtureStore(t)
	out, err := runCLI(t, "--root", root, "image", "ls", "course")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"MODE UID:GID SIZE LAYER PATH",
		"-rw-r--r-- 0:0 130 #3 /etc/passwd",
		"lrwxrwxrwx 0:0 0 #1 /bin/sh -> busybox",
		"-rw-r--r-- 0:0 10 #2 /var/cache/app/c",
	} {
		if !strings.Contains(squeeze(out), want+"\n") {
			t.Errorf("image ls course lacks %q:\n%s", want, out)
		}
	}
	for _, gone := range []string{"/big", "/etc/hosts", "/var/cache/app/a"} {
		if strings.Contains(out, gone+"\n") {
			t.Errorf("image ls lists %s, which a later layer removed:\n%s", gone, out)
		}
	}
	out, err = runCLI(t, "--root", root, "image", "ls", "course@1", "/var/cache")
	if err != nil || !strings.Contains(out, " /var/cache/app/a\n") || strings.Contains(out, "/etc") {
		t.Errorf("image ls course@1 /var/cache: %v\n%s", err, out)
	}
	out, err = runCLI(t, "--root", root, "image", "ls", "--changes", "course@2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"D -rw-r--r-- 0:0 50 #1 /etc/hosts (whiteout /etc/hosts in #2)",
		"C -rw-r--r-- 0:0 120 #2 /etc/passwd",
		"C drwxr-xr-x 0:0 10 #2 /var/cache/app",
		"D -rw-r--r-- 0:0 1000 #1 /var/cache/app/a (opaque directory /var/cache/app in #2)",
		"A -rw-r--r-- 0:0 4000 #2 /var/lib/apt/lists/deb_main",
	} {
		if !strings.Contains(squeeze(out), want+"\n") {
			t.Errorf("image ls --changes course@2 lacks %q:\n%s", want, out)
		}
	}
}

// squeeze turns every run of spaces into one, so that tests do not depend
// on column widths.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestImageLsJSON(t *testing.T) {
	root := fixtureStore(t)
	out, err := runCLI(t, "--root", root, "image", "ls", "--json", "course", "/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	var rows []words.FileRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 1 || rows[0].Layer != "#3" || rows[0].Size != 130 || len(rows[0].Shadows) != 2 ||
		rows[0].Shadows[0] != (words.ShadowRow{Layer: "#2", Type: "file", Size: 120}) || rows[0].Shadows[1] != (words.ShadowRow{Layer: "#1", Type: "file", Size: 11}) {
		t.Errorf("image ls --json course /etc/passwd:\n%s", out)
	}
	out, err = runCLI(t, "--root", root, "image", "ls", "--json", "--changes", "course@3", "/big")
	if err != nil || !strings.Contains(out, `"change": "D"`) || !strings.Contains(out, `"by": "whiteout"`) {
		t.Errorf("image ls --json --changes course@3 /big: %v\n%s", err, out)
	}
}

func TestImageCat(t *testing.T) {
	root := fixtureStore(t)
	for _, tc := range []struct{ args, want string }{
		{"course@1 /etc/passwd", "root:x:0:0\n"},
		{"blob /hello", "hi there\n"},
		{"--force blob /blob", string(make([]byte, 100))},
	} {
		out, err := runCLI(t, append([]string{"--root", root, "image", "cat"}, strings.Fields(tc.args)...)...)
		if err != nil || out != tc.want {
			t.Errorf("image cat %s = %q, %v; want %q", tc.args, out, err, tc.want)
		}
	}
}

// Bad input gets an error that says what is wrong and what to do.
func TestImageVerbsRefuseBadInput(t *testing.T) {
	root := fixtureStore(t)
	for _, tc := range []struct{ args, want string }{
		{"ls nope", `unknown image "nope"`},
		{"ls course@4", "course has 3 layers: @4 is out of range (1–3, 1 is the base)"},
		{"ls course@0", "out of range"},
		{"ls course@zz", `course has no layer "zz"`},
		{"ls course /nope", "course has no /nope: no such file or directory"},
		{"ls course /etc/hosts", "course has no /etc/hosts: removed in layer #2 (whiteout /etc/hosts)"},
		{"ls course /etc/passwd/x", "not a directory"},
		{"ls --changes course@3 /etc/hosts", "/etc/hosts"},
		{"ls @2", "name an image"},
		{"cat blob /blob", "/blob is binary (data, 100 B): glassbox image cat --force writes it anyway"},
		{"cat course /etc", "is a directory"},
		{"cat course /big", "/big: removed in layer #3 (whiteout /big)"},
		{"cat course@9 /etc/passwd", "out of range"},
		{"cat course /nope", "no such file or directory"},
		{"waste --lowest-efficiency 0.5 course", "--lowest-efficiency is a CI threshold: use it with --ci"},
		{"waste --ci --lowest-efficiency 1.5 course", "an efficiency is between 0 and 1"},
		{"waste --ci --highest-wasted-bytes lots course", `--highest-wasted-bytes "lots"`},
		{"waste --top -1 course", "--top -1"},
		{"waste nope", `unknown image "nope"`},
		{"explore nope", `unknown image "nope" (glassbox images lists them; built in: calculator, busybox) (and no sandbox is called nope`},
		{"explore --interval 10ms course", "--interval 10ms is too short"},
		{"explore course", "the Image view needs a terminal; for text use glassbox image ls, cat or waste"},
	} {
		out, err := runCLI(t, append([]string{"--root", root, "image"}, strings.Fields(tc.args)...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("image %s: %v, want an error saying %q\n%s", tc.args, err, tc.want, out)
		}
	}
}

func TestImageWaste(t *testing.T) {
	root := fixtureStore(t)
	out, err := runCLI(t, "--root", root, "image", "waste", "course")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"efficiency 10.6%: 42.17 KiB wasted of 47.19 KiB counted",
		"base image base counted (1 layer); --exclude-base leaves it out",
		"29.3 KiB deleted #2 #3 /big (whiteout /big)",
		"3.906 KiB leftover #2 #2 /var/lib/apt/lists/deb_main (apt package lists)",
		"120 B overwritten #2 #3 /etc/passwd",
		"11 B overwritten #1 #2 /etc/passwd",
	} {
		if !strings.Contains(squeeze(out), want) {
			t.Errorf("image waste course lacks %q:\n%s", want, out)
		}
	}
	var doc struct {
		Wasted     int64   `json:"wasted_bytes"`
		Total      int64   `json:"total_bytes"`
		Efficiency float64 `json:"efficiency"`
		Base       string  `json:"base_image"`
		Items      []struct {
			Path   string   `json:"path"`
			Copies []string `json:"copies"`
			By     string   `json:"by"`
		} `json:"items"`
		Pass *bool `json:"pass"`
	}
	out, err = runCLI(t, "--root", root, "image", "waste", "--json", "course")
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Wasted != 43181 || doc.Total != 48327 || doc.Base != "base" || len(doc.Items) != 10 || doc.Items[0].Path != "/big" ||
		doc.Items[0].By != "#3" || doc.Items[0].Copies[0] != "#2" || doc.Pass != nil {
		t.Errorf("image waste --json course: %+v", doc)
	}
	out, err = runCLI(t, "--root", root, "image", "waste", "--json", "--exclude-base", "course")
	if json.Unmarshal([]byte(out), &doc) != nil || doc.Wasted != 35120 || doc.Total != 40266 {
		t.Errorf("image waste --exclude-base: %v %+v", err, doc)
	}
}

// --ci exits 1 when a threshold fails, as dive's CI mode does.
func TestImageWasteCI(t *testing.T) {
	root := fixtureStore(t)
	for _, tc := range []struct {
		args string
		pass bool
		want string
	}{
		{"--ci course", false, "[FAIL] lowest efficiency: 0.1065, beyond the limit 0.9"},
		{"--ci --lowest-efficiency 0.1 course", true, "[PASS] lowest efficiency: 0.1065, within the limit 0.1"},
		{"--ci --lowest-efficiency 0.1 --highest-wasted-bytes 40k course", false, "[FAIL] highest wasted bytes: 42.17 KiB, beyond the limit 40 KiB"},
		{"--ci --lowest-efficiency 0.1 --highest-wasted-bytes 43181 course", true, "Result: PASS"},
		{"--ci --exclude-base --lowest-efficiency 0.12 course", true, "[PASS] lowest efficiency: 0.1278"},
		{"--ci blob", true, "Result: PASS"},
	} {
		out, err := runCLI(t, append([]string{"--root", root, "image", "waste"}, strings.Fields(tc.args)...)...)
		var ee exitError
		failed := errors.As(err, &ee) && ee.code == 1
		if (err == nil) != tc.pass || (!tc.pass && !failed) || !strings.Contains(out, tc.want) {
			t.Errorf("image waste %s: %v (pass %v), want %q in:\n%s", tc.args, err, tc.pass, tc.want, out)
		}
	}
}
