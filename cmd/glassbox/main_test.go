package main

import (
	"os"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

func TestMain(m *testing.M) { os.Exit(sandboxtest.Main(m)) }
