// Command calculator is the calculator service on its own.
package main

import (
	"os"

	"glassbox/cmd/calculator/service"
)

func main() { os.Exit(service.Main()) }
