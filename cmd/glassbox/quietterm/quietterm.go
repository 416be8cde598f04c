//go:build cgo

// Package quietterm keeps bubbletea's package init from asking the
// terminal anything (quietterm.c): the glassbox binary imports it, and
// main calls Restore first.
package quietterm

// const char *gb_term_hidden(void);
import "C"

import "os"

// Restore gives TERM back the value quietterm.c hid from the package
// inits. main calls it before anything else.
func Restore() {
	if v := C.gb_term_hidden(); v != nil {
		os.Setenv("TERM", C.GoString(v))
	}
}
