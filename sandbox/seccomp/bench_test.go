package seccomp

import "testing"

// BenchmarkDefaultFilter is what every run pays to resolve and compile
// docker's profile before it starts (once per start, in the CLI).
func BenchmarkDefaultFilter(b *testing.B) {
	for b.Loop() {
		if _, err := DefaultFilter(defaultCaps); err != nil {
			b.Fatal(err)
		}
	}
}
