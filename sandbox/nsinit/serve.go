package nsinit

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Forwarded are the signals the init passes on to the workload. Everything
// else that reaches PID 1 from outside is ignored (the kernel drops signals
// to a namespace's init that it has no handler for, except SIGKILL).
var Forwarded = []os.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP,
	syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
}

// serve is the init's life once the workload runs: it reports it started,
// then reaps every child until the workload ends, forwarding signals to
// it, and reports how it ended.
func serve(pid int, enc *json.Encoder) int {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, Forwarded...)
	enc.Encode(Message{Kind: MsgStarted, PID: pid})

	go func() {
		for s := range sigs {
			syscall.Kill(pid, s.(syscall.Signal))
		}
	}()
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			// ECHILD: cannot happen while the workload lives.
			enc.Encode(Message{Kind: MsgError, Error: fmt.Sprintf("wait for the workload: %v", err)})
			return 1
		}
		if got != pid {
			continue // an orphan re-parented to us: reaped, nothing more
		}
		m := Message{Kind: MsgExit, PID: pid}
		switch {
		case ws.Signaled():
			m.Signal = int(ws.Signal())
			m.Code = 128 + m.Signal
		default:
			m.Code = ws.ExitStatus()
		}
		enc.Encode(m)
		return m.Code
	}
}
