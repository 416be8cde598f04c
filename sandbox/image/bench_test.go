package image

import "testing"

// BenchmarkGetBuilt is what every `glassbox run` pays for the image once it
// is built: read the record, stat Self and its libraries, check the layers.
func BenchmarkGetBuilt(b *testing.B) {
	s := testStore(b)
	if _, err := s.Get(""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild is a full build of the image with its layers already
// stored (a rebuild that reuses both): copy, digest, compare.
func BenchmarkBuild(b *testing.B) {
	s := testStore(b)
	if _, err := s.Get(""); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := s.buildCalculator(Builtin); err != nil {
			b.Fatal(err)
		}
	}
}
