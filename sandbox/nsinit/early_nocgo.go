//go:build !cgo

package nsinit

const haveInit = false
