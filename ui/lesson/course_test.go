package lesson

import (
	"testing"
	"testing/fstest"
)

// The course as shipped loads: every step has one thing to do, a check
// that exists, at most six lines of narration, and only known variables.
func TestBuiltinCourse(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Namespaces", "The union filesystem", "Cgroups: limits the kernel enforces", "Building an image",
		"Running: the flags of run", "Lifecycle", "A container-friendly service", "VMs and containers"}
	if len(c.Chapters) != len(want) {
		t.Fatalf("%d chapters, want %d", len(c.Chapters), len(want))
	}
	for i, ch := range c.Chapters {
		if ch.Title != want[i] {
			t.Errorf("chapter %d is %q, want %q", i+1, ch.Title, want[i])
		}
	}
}

// A course with a mistake is refused, and the error says where.
func TestCourseMistakes(t *testing.T) {
	for name, text := range map[string]string{
		"no do":          "# C\n## S\ncheck: running {a}\n",
		"unknown check":  "# C\n## S\ndo: x\ncheck: nosuch {a}\n",
		"unknown var":    "# C\n## S\ndo: glassbox run --name {z}\ncheck: running {a}\n",
		"long narration": "# C\n## S\ndo: x\ncheck: running {a}\n1\n2\n3\n4\n5\n6\n7\n",
		"bad panel":      "# C\n## S\npanel: nowhere\ndo: x\ncheck: running {a}\n",
		"no title":       "## S\ndo: x\ncheck: running {a}\n",
		"unknown helper": "# C\n## S\ndo: x\nhelper: dragon\ncheck: running {a}\n",
		"too few args":   "# C\n## S\ndo: x\ncheck: shared {a}\n",
	} {
		_, err := Load(fstest.MapFS{"c/01.txt": {Data: []byte(text)}}, "c")
		if err == nil {
			t.Errorf("%s: loaded", name)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
}
