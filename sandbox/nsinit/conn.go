package nsinit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is the parent's end of the socket to the C side (the init, or a
// process stepping into a sandbox): JSON lines in, which may carry a
// descriptor (a MsgPTY's master), and the spec and go bytes out.
type Conn struct {
	c    *net.UnixConn
	buf  []byte // read but not yet returned
	fds  []*os.File
	oob  []byte
	read []byte
}

// NewConn takes over f, one end of a socketpair (f is closed).
func NewConn(f *os.File) (*Conn, error) {
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("socket to the sandbox: %w", err)
	}
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		nc.Close()
		return nil, errors.New("socket to the sandbox: not a unix socket")
	}
	return &Conn{c: uc, oob: make([]byte, unix.CmsgSpace(4*4)), read: make([]byte, 4096)}, nil
}

// Write sends bytes to the C side.
func (c *Conn) Write(b []byte) (int, error) { return c.c.Write(b) }

// SetDeadline bounds the reads and writes to come.
func (c *Conn) SetDeadline(t time.Time) error { return c.c.SetDeadline(t) }

// Close closes the socket and any descriptor received but not handed out.
func (c *Conn) Close() error {
	for _, f := range c.fds {
		f.Close()
	}
	c.fds = nil
	return c.c.Close()
}

// Read returns the next message; io.EOF when the other side has closed
// the socket (exited, or exec'd: the socket is close-on-exec) with
// nothing more to say.
func (c *Conn) Read() (*Message, error) {
	for {
		if i := bytes.IndexByte(c.buf, '\n'); i >= 0 {
			line := c.buf[:i]
			c.buf = c.buf[i+1:]
			var m Message
			if err := json.Unmarshal(line, &m); err != nil {
				return nil, fmt.Errorf("decode a message from the sandbox: %w (%q)", err, line)
			}
			if m.Kind == MsgPTY {
				if len(c.fds) == 0 {
					return nil, errors.New("the sandbox sent a terminal without its descriptor")
				}
				m.File, c.fds = c.fds[0], c.fds[1:]
			}
			return &m, nil
		}
		n, oobn, _, _, err := c.c.ReadMsgUnix(c.read, c.oob)
		if oobn > 0 {
			c.takeRights(c.oob[:oobn])
		}
		if n > 0 {
			c.buf = append(c.buf, c.read[:n]...)
		}
		if n <= 0 && err == nil {
			err = io.EOF
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, net.ErrClosed) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("read from the sandbox: %w", err)
		}
	}
}

// takeRights keeps the descriptors of SCM_RIGHTS messages, in order.
func (c *Conn) takeRights(oob []byte) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd)
			// Non-blocking, so that the file goes through Go's poller: a
			// read can then be given a deadline, and is ended by Close.
			unix.SetNonblock(fd, true)
			c.fds = append(c.fds, os.NewFile(uintptr(fd), "pty-master"))
		}
	}
}
