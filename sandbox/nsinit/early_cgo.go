//go:build cgo

package nsinit

// The init is init.c, run from an ELF constructor: with cgo the Go side
// of the init never runs.

// #cgo CFLAGS: -O2 -Wall
import "C"

const haveInit = true
