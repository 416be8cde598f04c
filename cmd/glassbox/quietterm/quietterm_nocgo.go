//go:build !cgo

package quietterm

// Restore has nothing to restore without cgo: no constructor hid TERM.
func Restore() {}
