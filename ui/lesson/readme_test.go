package lesson

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// The README tells a teacher how to add a chapter: its example chapter
// loads as it stands, and its table names every check there is.
func TestReadmeTeachesTheFormat(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	_, sec, ok := strings.Cut(readme, "## The course as a lesson")
	if !ok {
		t.Fatal("the README has no section on the lesson")
	}
	_, example, ok := strings.Cut(sec, "```text\n")
	if !ok {
		t.Fatal("the README's lesson section has no example chapter")
	}
	example, rest, _ := strings.Cut(example, "```")
	table, _, _ := strings.Cut(rest, "\n## ")
	c, err := Load(fstest.MapFS{"c/09-example.txt": {Data: []byte(example)}}, "c")
	if err != nil {
		t.Fatalf("the README's example chapter does not load: %v", err)
	}
	if len(c.Chapters) != 1 || len(c.Chapters[0].Steps) != 1 {
		t.Errorf("the README's example: %d chapters", len(c.Chapters))
	}
	for _, name := range CheckNames() {
		if !strings.Contains(table, "| `"+name+"` | "+CheckDoc(name)+" |") {
			t.Errorf("the README's table of checks lacks %s (%s)", name, CheckDoc(name))
		}
	}
}
