package union

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"glassbox/inspect/union/uniontest"
)

func courseImage(t testing.TB) *Image {
	return fixtureImage(t, uniontest.Course...)
}

func TestLayerStats(t *testing.T) {
	im := courseImage(t)
	want := []LayerStats{
		{Size: 5000 + 11 + 50 + 1000 + 2000, Files: 12},
		{Size: 120 + 10 + 30000 + 4000 + 700 + 5, Files: 15, Whiteouts: 1, Opaques: 1},
		{Size: 5000 + 130 + 300 + 1, Files: 11, Whiteouts: 1},
	}
	for i, w := range want {
		got := im.Stats[i]
		got.OpaqueUnknown = false
		if got.Size != w.Size || got.Files != w.Files || got.Whiteouts != w.Whiteouts || got.Opaques != w.Opaques {
			t.Errorf("layer #%d: got %+v, want %+v", i+1, got, w)
		}
	}
}

func TestMergedShowsWhatOverlayfsShows(t *testing.T) {
	im := courseImage(t)
	want := `
  / 39835 #2
  /big 30000 #2
  /bin 5000 #1
  /bin/busybox 5000 #1
  /bin/sh 0 #1
  /etc 120 #2
- /etc/hosts 50 #1 (whiteout /etc/hosts in #2)
  /etc/passwd 120 #2
  /tmp 0 #1
  /var 4715 #2
  /var/cache 10 #2
  /var/cache/app 10 #2
- /var/cache/app/a 1000 #1 (opaque directory /var/cache/app in #2)
- /var/cache/app/b 2000 #1 (opaque directory /var/cache/app in #2)
  /var/cache/app/c 10 #2
  /var/lib 4000 #2
  /var/lib/apt 4000 #2
  /var/lib/apt/lists 4000 #2
  /var/lib/apt/lists/deb_main 4000 #2
  /var/log 705 #2
  /var/log/build.log 700 #2
  /var/log/keep.txt 5 #2
`
	if got := flat(im.Merged(1), im.Stack); got != strings.TrimPrefix(want, "\n") {
		t.Errorf("merged up to #2:\n%s\nwant:\n%s", got, want)
	}
	top := flat(im.Merged(2), im.Stack)
	for _, line := range []string{
		"- /big 30000 #2 (whiteout /big in #3)",
		"  /bin/busybox 5000 #3",
		"  /etc/passwd 130 #3",
		"- /etc/hosts 50 #1 (whiteout /etc/hosts in #2)",
		"  /root/.cache/pip/wheel 300 #3",
		"  /tmp/x 1 #3",
	} {
		if !strings.Contains(top, line+"\n") {
			t.Errorf("merged up to #3 lacks %q:\n%s", line, top)
		}
	}
	if base := flat(im.Merged(0), im.Stack); strings.Contains(base, "-") || !strings.Contains(base, "  /var/cache/app/b 2000 #1\n") {
		t.Errorf("the base alone removes nothing and has /var/cache/app/b:\n%s", base)
	}
}

func TestChangesMarkEachLayer(t *testing.T) {
	im := courseImage(t)
	want := `
  / 34835 #2
+ /big 30000 #2
  /etc 120 #2
- /etc/hosts 50 #1 (whiteout /etc/hosts in #2)
~ /etc/passwd 120 #2
  /var 4715 #2
  /var/cache 10 #2
~ /var/cache/app 10 #2
- /var/cache/app/a 1000 #1 (opaque directory /var/cache/app in #2)
- /var/cache/app/b 2000 #1 (opaque directory /var/cache/app in #2)
+ /var/cache/app/c 10 #2
+ /var/lib 4000 #2
+ /var/lib/apt 4000 #2
+ /var/lib/apt/lists 4000 #2
+ /var/lib/apt/lists/deb_main 4000 #2
+ /var/log 705 #2
+ /var/log/build.log 700 #2
+ /var/log/keep.txt 5 #2
`
	if got := flat(im.Changes(1), im.Stack); got != strings.TrimPrefix(want, "\n") {
		t.Errorf("changes of #2:\n%s\nwant:\n%s", got, want)
	}
	want = `
  / 5431 #3
- /big 30000 #2 (whiteout /big in #3)
  /bin 5000 #3
~ /bin/busybox 5000 #3
  /etc 130 #3
~ /etc/passwd 130 #3
+ /root 300 #3
+ /root/.cache 300 #3
+ /root/.cache/pip 300 #3
+ /root/.cache/pip/wheel 300 #3
  /tmp 1 #3
+ /tmp/x 1 #3
`
	if got := flat(im.Changes(2), im.Stack); got != strings.TrimPrefix(want, "\n") {
		t.Errorf("changes of #3:\n%s\nwant:\n%s", got, want)
	}
	if got := flat(im.Changes(0), im.Stack); !strings.HasPrefix(got, "  / 8061 #1\n+ /bin 5000 #1\n") {
		t.Errorf("the base adds everything it has:\n%s", got)
	}
}

// removals is a base and a layer that removes a directory (a whiteout),
// puts a file over a directory and a directory over a file.
var removals = []string{`
f /d/e 40
f /d/f 60
f /a/x 10
f /q 7`, `
w /d
f /a 5
f /q/y 3`}

// A whiteout of a directory removes what is below it; a file over a
// directory hides it too, and a directory over a file ends the merge.
func TestDirectoryRemovals(t *testing.T) {
	im := fixtureImage(t, removals...)
	got := flat(im.Merged(1), im.Stack)
	for _, line := range []string{
		"- /d 100 #1 (whiteout /d in #2)",
		"  /a 5 #2",
		"  /q/y 3 #2",
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("merged lacks %q:\n%s", line, got)
		}
	}
	if strings.Contains(got, "/d/e") || strings.Contains(got, "/a/x") {
		t.Errorf("what a removed directory held is listed again:\n%s", got)
	}
	pr, err := im.Which("/d/e", 1)
	if err != nil || pr.Removed == nil || pr.Removed.Path != "/d" || pr.Removed.How != ByWhiteout || pr.Removed.Layer != 1 {
		t.Errorf("/d/e: %+v %v, want removed by whiteout /d in #2", pr.Removed, err)
	}
	pr, err = im.Which("/a/x", 1)
	if err == nil {
		t.Errorf("/a/x under the file /a: %+v, want an error", pr)
	}
	pr, err = im.Which("/a/x", 0)
	if err != nil || pr.Layer != 0 {
		t.Errorf("/a/x in the base: %+v %v", pr, err)
	}
}

func TestWhichNamesProviderAndShadows(t *testing.T) {
	im := courseImage(t)
	pr, err := im.Which("/etc/passwd", 2)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Layer != 2 || pr.Entry.Size != 130 || len(pr.Shadows) != 2 ||
		pr.Shadows[0].Layer != 1 || pr.Shadows[0].Size != 120 || pr.Shadows[1].Layer != 0 || pr.Shadows[1].Size != 11 {
		t.Errorf("/etc/passwd: layer %d, shadows %+v", pr.Layer, pr.Shadows)
	}
	pr, err = im.Which("/var/cache/app/a", 2)
	if err != nil || pr.Entry != nil || pr.Removed == nil || pr.Removed.How != ByOpaque || pr.Removed.Path != "/var/cache/app" || pr.Removed.Layer != 1 {
		t.Errorf("/var/cache/app/a: %+v %v, want removed by the opaque /var/cache/app in #2", pr, err)
	}
	if pr.LastLayer != 0 || pr.Last.Size != 1000 {
		t.Errorf("/var/cache/app/a was last in #1 with 1000 bytes: %d %+v", pr.LastLayer, pr.Last)
	}
	if pr, err := im.Which("/etc/hosts", 0); err != nil || pr.Layer != 0 || len(pr.Shadows) != 0 {
		t.Errorf("/etc/hosts in the base: %+v %v", pr, err)
	}
	if _, err := im.Which("/nope/x", 2); !errors.Is(err, ErrNotFound) {
		t.Errorf("a path no layer has: %v, want ErrNotFound", err)
	}
	if _, err := im.Which("/etc/passwd/x", 2); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a path below a file: %v", err)
	}
	if _, err := im.Which("/root", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("/root before #3 added it: %v", err)
	}
}

func TestResolveFollowsSymlinksInsideTheImage(t *testing.T) {
	im := fixtureImage(t, `
f /bin/busybox 5000
l /bin/sh busybox
l /usr/bin /bin
l /escape ../../../../etc
d /etc
t /etc/motd hello
l /loop /loop`)
	for _, tc := range []struct{ in, out string }{
		{"/bin/sh", "/bin/busybox"},
		{"/usr/bin/sh", "/bin/busybox"},
		{"/escape/motd", "/etc/motd"},
	} {
		got, pr, err := im.Resolve(tc.in, 0)
		if err != nil || got != tc.out || pr.Entry == nil {
			t.Errorf("Resolve(%s) = %q %v, want %s", tc.in, got, err, tc.out)
		}
	}
	if _, _, err := im.Resolve("/loop", 0); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("a symlink loop: %v", err)
	}
}

func TestReadFile(t *testing.T) {
	im := fixtureImage(t, `
t /etc/passwd root:x:0:0
z /bin/blob 4096
f /big 100000
d /dir
l /bin/pw /etc/passwd`, `
w /etc/passwd`)
	c, err := im.ReadFile("/bin/pw", 0, 1<<20)
	if err != nil || string(c.Data) != "root:x:0:0\n" || c.Binary || c.Type != "text" || c.Resolved != "/etc/passwd" || c.Layer != 0 {
		t.Errorf("/bin/pw → /etc/passwd: %+v %v", c, err)
	}
	c, err = im.ReadFile("/bin/blob", 1, 1<<20)
	if err != nil || !c.Binary || c.Size != 4096 {
		t.Errorf("/bin/blob: %+v %v, want binary", c, err)
	}
	c, err = im.ReadFile("/big", 1, 1000)
	if err != nil || len(c.Data) != 1000 || !c.Truncated || c.Size != 100000 {
		t.Errorf("/big cut to 1000 bytes: %d bytes, truncated %v, %v", len(c.Data), c.Truncated, err)
	}
	if _, err := im.ReadFile("/etc/passwd", 1, 100); err == nil || !strings.Contains(err.Error(), "removed in layer #2 (whiteout /etc/passwd)") {
		t.Errorf("a removed file: %v", err)
	}
	if _, err := im.ReadFile("/dir", 1, 100); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("a directory: %v", err)
	}
	if _, err := im.ReadFile("/nope", 1, 100); !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing file: %v", err)
	}
}

func TestSniff(t *testing.T) {
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	head := make([]byte, 4096)
	n, _ := self.Read(head)
	if bin, what := Sniff(self, head[:n]); !bin || !strings.HasPrefix(what, "ELF 64-bit executable") {
		t.Errorf("the test binary: %v %q", bin, what)
	}
	for _, tc := range []struct {
		data   string
		binary bool
		what   string
	}{
		{"", false, "empty"},
		{"#!/bin/sh\necho hi\n", false, "script, #!/bin/sh"},
		{"héllo\n", false, "text"},
		{"\x1f\x8b\x08\x00\x00\x00\x00\x00", true, "gzip data"},
		{"a\x00b", true, "data"},
	} {
		bin, what := Sniff(nil, []byte(tc.data))
		if bin != tc.binary || what != tc.what {
			t.Errorf("Sniff(%q) = %v %q, want %v %q", tc.data, bin, what, tc.binary, tc.what)
		}
	}
}

// A sandbox's upper layer is read again on each refresh; the layers below
// are not, and an unchanged upper gives the same Image back.
func TestRereadUpper(t *testing.T) {
	lower := uniontest.Layer(t, "f /data/big 50000\nt /etc/motd hi")
	upper := t.TempDir()
	st := &Stack{Image: "fixture", Sandbox: "box", Layers: []Layer{{Dir: lower}, {Dir: upper, Upper: true}}}
	im, err := Read(st)
	if err != nil {
		t.Fatal(err)
	}
	again, err := im.Reread()
	if err != nil || again != im {
		t.Fatalf("unchanged upper: %v, same image %v", err, again == im)
	}
	// What overlayfs does on a write to a lower file: the whole file is
	// copied up first, then changed.
	uniontest.Write(t, upper, "f /data/big 50001")
	next, err := im.Reread()
	if err != nil || next == im {
		t.Fatalf("changed upper: %v, new image %v", err, next != im)
	}
	if next.Stats[1].Size != 50001 || next.Stats[0].Size != im.Stats[0].Size || next.layers[0] != im.layers[0] {
		t.Errorf("upper %+v, lower %+v", next.Stats[1], next.Stats[0])
	}
	ch := next.Changes(1)
	big := ch.Kids[0].Kids[0]
	if big.Path() != "/data/big" || big.Mark != Modified || big.Below == nil || big.Below.Size != 50000 || big.BelowLayer != 0 {
		t.Errorf("the copied-up file: %s %v below %+v in %d", big.Path(), big.Mark, big.Below, big.BelowLayer)
	}
	if Number(st, 1) != "upper" || Number(st, 0) != "#1" {
		t.Errorf("numbers: %s %s", Number(st, 1), Number(st, 0))
	}
}

// A layer's record may list its opaque directories (the store does, so
// that reading needs no root); the reader honours the record.
func TestRecordedOpaque(t *testing.T) {
	base := uniontest.Layer(t, "f /cache/a 10")
	top := uniontest.Layer(t, "d /cache\nf /cache/b 5")
	st := &Stack{Layers: []Layer{{Dir: base}, {Dir: top, Opaque: []string{"/cache"}}}}
	im, err := Read(st)
	if err != nil {
		t.Fatal(err)
	}
	if pr, err := im.Which("/cache/a", 1); err != nil || pr.Removed == nil || pr.Removed.How != ByOpaque {
		t.Errorf("/cache/a below a recorded opaque directory: %+v %v", pr, err)
	}
	if im.Stats[1].OpaqueUnknown || im.Stats[1].Opaques != 1 {
		t.Errorf("stats %+v", im.Stats[1])
	}
}

func TestReadErrors(t *testing.T) {
	if _, err := Read(&Stack{}); err == nil {
		t.Error("an empty stack read")
	}
	_, err := Read(&Stack{Layers: []Layer{{Dir: filepath.Join(t.TempDir(), "gone")}}})
	if err == nil || !strings.Contains(err.Error(), "read layer #1") {
		t.Errorf("a missing layer directory: %v", err)
	}
}
