package main

import (
	"strings"
	"testing"

	"glassbox/sandbox/sandboxtest"
)

// A built image with USER: its RUN steps after USER run as that user, and
// so does `glassbox run` of it; run -u overrides it; exec runs as the
// sandbox's user unless -u says otherwise; inspect says who; an unknown
// user is docker's error and creates nothing.
func TestRunAsTheImagesUser(t *testing.T) {
	sandboxtest.RequireRoot(t)
	roots := sandboxtest.TempRoots(t)
	buildImage(t, "userapp", `FROM busybox
RUN echo app:x:1000:1000:app:/home/app:/bin/sh >> /etc/passwd && echo app:x:1000: >> /etc/group && \
    echo staff:x:50:app >> /etc/group && mkdir -p /home/app && chown 1000:1000 /home/app
USER app
RUN id -u > /home/app/built-as && touch /home/app/mine
WORKDIR /home/app
CMD ["sh", "-c", "echo run-as=$(id -u):$(id -g) groups=$(id -G) home=$HOME built-as=$(cat built-as) mine=$(stat -c %u mine)"]
`)
	out, code := gbCLI(t, "run", "--rm", "userapp")
	if code != 0 || !strings.Contains(out, "run-as=1000:1000 groups=1000 50 home=/home/app built-as=1000 mine=1000") {
		t.Errorf("glassbox run userapp: exit %d\n%s", code, out)
	}
	for user, want := range map[string]string{"root": "0:0", "0:50": "0:50", "nobody": "65534:65534", "app:root": "1000:0"} {
		out, code := gbCLI(t, "run", "-u", user, "userapp", "sh", "-c", "echo $(id -u):$(id -g)")
		if code != 0 || strings.TrimSpace(out) != want {
			t.Errorf("glassbox run -u %s: exit %d, %q; want %s", user, code, out, want)
		}
	}
	out, code = gbCLI(t, "run", "--user", "ghost", "busybox", "true")
	if code == 0 || !strings.Contains(out, "unable to find user ghost: no matching entries in passwd file") {
		t.Errorf("glassbox run --user ghost: exit %d\n%s", code, out)
	}
	if out, _ := gbCLI(t, "ps", "-a", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("an unknown user left sandboxes behind: %q", out)
	}

	name := "user-exec"
	if out, code := gbCLI(t, "run", "-d", "--name", name, "userapp", "sleep", "1000"); code != 0 {
		t.Fatalf("run -d: exit %d\n%s", code, out)
	}
	t.Cleanup(func() { gbCLI(t, "rm", "-f", name) })
	for args, want := range map[string]string{"": "1000", "-u root": "0", "-u 4242": "4242"} {
		argv := append(append([]string{"exec"}, strings.Fields(args)...), name, "id", "-u")
		if out, code := gbCLI(t, argv...); code != 0 || strings.TrimSpace(out) != want {
			t.Errorf("glassbox %s: exit %d, %q; want %s", strings.Join(argv, " "), code, out, want)
		}
	}
	out, code = gbCLI(t, "inspect", name)
	if code != 0 || !strings.Contains(out, "user: uid 1000, gid 1000 — app, as the image's USER or run -u asked; supplementary groups [50]") {
		t.Errorf("glassbox inspect does not say who the workload runs as: exit %d\n%s", code, out)
	}
	_ = roots
}
