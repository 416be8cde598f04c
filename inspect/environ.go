package inspect

// Environ is the workload's environment as the kernel keeps it: the block
// execve(2) copied onto its stack, read from /proc/PID/environ. It is the
// environment the workload started with (a later setenv inside the
// process changes its own copy, not this block).
type Environ struct {
	Vars   []string `json:"vars"`             // KEY=VALUE, in the order of the block
	Source string   `json:"source,omitempty"` // /proc/PID/environ
}
