// Command static is a statically linked binary for the ELF tests.
package main

func main() {}
