package lesson

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"glassbox/sandbox/state"
)

// Helpers are what a step starts beside what the student does: a second
// sandbox, a load generator. A sandbox belongs to the session (removed with
// the chapter); a load generator runs until the step ends.

type helper struct {
	// start begins the helper; the stop it returns (nil: nothing to
	// stop) ends it and waits until it has.
	start func(ctx context.Context, w World, s *Session, args []string) (stop func(), err error)
}

var helpers = map[string]helper{
	"sandbox": {start: startSandbox},
	"load":    {start: startLoad},
}

// startSandbox runs "glassbox run -d --name NAME ARGS…", as a student would.
func startSandbox(ctx context.Context, w World, s *Session, args []string) (func(), error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("helper sandbox: no name")
	}
	line := "glassbox run -d --name " + strings.Join(args, " ")
	out, code, err := w.Run(ctx, line)
	if err != nil || code != 0 {
		return nil, fmt.Errorf("%s: exit %d %v: %s", line, code, err, strings.TrimSpace(out))
	}
	list, err := w.Sandboxes()
	if err == nil {
		s.Adopt(list)
	}
	return nil, err
}

// startLoad sends /calculate requests to the named calculator sandboxes
// in turn, ten a second, until stopped.
func startLoad(ctx context.Context, w World, s *Session, names []string) (func(), error) {
	var urls []string
	deadline := time.Now().Add(10 * time.Second)
	for len(urls) < len(names) {
		urls = urls[:0]
		list, err := w.Sandboxes()
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if sb := owned(s, list, n); sb != nil && sb.Status == state.Running && sb.Network.IP != "" {
				urls = append(urls, "http://"+sb.Network.IP+":8000/calculate")
			}
		}
		if len(urls) < len(names) {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("load: %s not all running", strings.Join(names, ", "))
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
				w.HTTP("POST", urls[i%len(urls)], `{"operation":"add","a":1,"b":2}`)
			}
		}
	}()
	return func() { cancel(); wg.Wait() }, nil
}

// owned is the session's sandbox of a name in a listing.
func owned(s *Session, list []*state.Sandbox, name string) *state.Sandbox {
	for _, sb := range list {
		if sb.Name == name && s.Owns(sb) {
			return sb
		}
	}
	return nil
}

// buildContext is what {dir} holds: the course's Dockerfile in small, in
// the course's order (base, system step, working directory, dependencies
// before code, configuration, command).
var buildContext = map[string]string{
	"Dockerfile": `# The course's Dockerfile, small. Which instructions make a layer?
FROM busybox
RUN mkdir -p /var/log/app
WORKDIR /app
COPY requirements.txt .
RUN echo "installing $(grep -vc '^#' requirements.txt) dependencies" && cp requirements.txt .installed
COPY app.sh .
ENV GREETING=hello
CMD ["sh", "/app/app.sh"]
`,
	"requirements.txt": "# what the app needs\nflask\nrequests\n",
	"app.sh":           "echo \"$GREETING from $(hostname)\"\n",
}
