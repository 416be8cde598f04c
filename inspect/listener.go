//go:build linux

package inspect

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Listener is a process that listens on a TCP port of the host: who holds
// a port a sandbox wanted to publish.
type Listener struct {
	PID     int    `json:"pid"`
	Command string `json:"command"` // its comm, as /proc/PID/comm says it
	Source  string `json:"source"`  // the /proc/net/tcp* file the socket was found in
}

// tcpListen is the state of a listening socket in /proc/net/tcp
// (the kernel's TCP_LISTEN).
const tcpListen = "0A"

// ListenerOn finds the process listening on TCP port of the host's
// network namespace: the socket's inode from /proc/net/tcp and tcp6, then
// the process holding a descriptor to it (/proc/PID/fd links read
// "socket:[INODE]"). ok is false when no listening socket was found; a
// socket found but no process (one of another namespace, or /proc/PID/fd
// unreadable without root) gives PID 0.
func ListenerOn(fs FS, port int) (l Listener, ok bool) {
	for _, name := range []string{"tcp", "tcp6"} {
		path := filepath.Join(fs.ProcRoot, "net", name)
		ino := listeningInode(path, port)
		if ino == "" {
			continue
		}
		l.Source = path
		l.PID = socketOwner(fs, ino)
		if l.PID > 0 {
			if b, err := os.ReadFile(fs.procPath(l.PID, "comm")); err == nil {
				l.Command = strings.TrimSpace(string(b))
			}
		}
		return l, true
	}
	return Listener{}, false
}

// listeningInode is the inode of the socket listening on port in one of
// /proc/net/tcp{,6}, "" when there is none. A line reads
//
//	sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
//	0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 4242 …
//
// with the port in hex after the address.
func listeningInode(path string, port int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(f)
	sc.Scan() // the heading
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != tcpListen || !strings.HasSuffix(fields[1], want) {
			continue
		}
		return fields[9]
	}
	return ""
}

// socketOwner is the first process with a descriptor open on socket inode
// ino, 0 when none can be found.
func socketOwner(fs FS, ino string) int {
	entries, err := os.ReadDir(fs.ProcRoot)
	if err != nil {
		return 0
	}
	want := []byte("socket:[" + ino + "]")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(fs.procPath(pid, "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if link, err := os.Readlink(fs.procPath(pid, "fd", fd.Name())); err == nil && bytes.Equal([]byte(link), want) {
				return pid
			}
		}
	}
	return 0
}
