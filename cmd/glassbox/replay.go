package main

import (
	"os"
	"runtime"
	"strings"
	"time"

	"glassbox/ui"
	"glassbox/ui/replay"
)

func init() { verb("replay", replay.Command) }

// startRecording opens a recording of the live view (--record FILE) for
// the command line given, stamped with glassbox's version and this host's
// facts; it returns what ui.Options.Record takes, and the closer.
func startRecording(path, command string, interval time.Duration, stressMB int) (func(ui.Entry), func() error, error) {
	host := replay.HostNow()
	facts := hostFacts()
	host.Kernel, host.CgroupMode = facts.Kernel, facts.CgroupMode
	host.OS, host.Arch = runtime.GOOS, runtime.GOARCH
	w, err := replay.Create(path, replay.Header{
		Version: version, Commit: buildCommit(), Command: strings.TrimSpace(command),
		Started: time.Now(), Interval: interval, StressMB: stressMB, Host: host,
	})
	if err != nil {
		return nil, nil, err
	}
	return w.Write, w.Close, nil
}

// commandLine is how glassbox was invoked, for a recording's header.
func commandLine() string {
	return "glassbox " + strings.Join(os.Args[1:], " ")
}
