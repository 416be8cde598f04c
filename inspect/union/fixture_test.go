package union

import (
	"strconv"
	"strings"
	"testing"

	"glassbox/inspect/union/uniontest"
)

// fixtureImage reads a stack of fixture layers, base first.
func fixtureImage(t testing.TB, specs ...string) *Image {
	t.Helper()
	st := &Stack{Image: "fixture"}
	for i, s := range specs {
		st.Layers = append(st.Layers, Layer{Dir: uniontest.Layer(t, s), CreatedBy: "layer " + strconv.Itoa(i+1)})
	}
	im, err := Read(st)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// flat lists a view as "MARK PATH SIZE [LAYER] [why]" lines, depth first.
func flat(it *Item, st *Stack) string {
	var b strings.Builder
	var walk func(*Item)
	walk = func(it *Item) {
		mark := map[Mark]string{Unchanged: " ", Added: "+", Modified: "~", Removed: "-"}[it.Mark]
		line := mark + " " + it.Path() + " " + strconv.FormatInt(it.Size, 10) + " " + Number(st, it.Layer)
		if it.Removal != nil {
			line += " (" + it.Removal.Describe() + " in " + Number(st, it.Removal.Layer) + ")"
		}
		b.WriteString(line + "\n")
		for _, k := range it.Kids {
			walk(k)
		}
	}
	walk(it)
	return b.String()
}
