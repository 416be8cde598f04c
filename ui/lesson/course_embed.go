package lesson

import "embed"

// builtin holds the course's chapters.
//
//go:embed course/*.txt
var builtin embed.FS

// Builtin is glassbox's course.
func Builtin() (*Course, error) { return Load(builtin, "course") }
