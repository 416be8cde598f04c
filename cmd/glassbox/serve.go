package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"glassbox/inspect"
	"glassbox/sandbox/lifecycle"
)

func init() { verb("serve", newServeCmd) }

func newServeCmd() *cobra.Command {
	var listen string
	var o topOptions
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] [--engines]",
		Short: "Serve snapshots over HTTP, read-only: what top --once --json prints, on request",
		Long: `serve answers GET /snapshots with the JSON array that glassbox top --once
--json prints: a snapshot of every running sandbox (with --engines, of every
running container of the other engines too), every figure with the kernel
file it was read from, taken when asked. GET /snapshots?ref=NAME names the
ones to take (repeatable; sandbox names and ENGINE:REF, as top takes them).

It answers GET and HEAD only, and nothing it does changes a sandbox or a
container: a snapshot endpoint for a Kubernetes node (a DaemonSet, see the
README) or a classroom's dashboard. It listens on 127.0.0.1:9110 unless told
otherwise; it has no authentication of its own, so put another address
only behind what guards the machine. Ctrl-C or SIGTERM stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := needRoot(); err != nil {
				return err
			}
			l, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", listen, err)
			}
			eng := lifecycle.New(rootsOf(cmd))
			take := func(refs []string) ([]*inspect.Snapshot, error) {
				rounds, err := takeRounds(eng, refs, o)
				if err != nil {
					return nil, err
				}
				return rounds[len(rounds)-1], nil
			}
			srv := &http.Server{Handler: snapshotHandler(take), ReadHeaderTimeout: 10 * time.Second}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				srv.Shutdown(shut)
			}()
			fmt.Fprintf(cmd.ErrOrStderr(), "glassbox: serving snapshots read-only on http://%s/snapshots\n", l.Addr())
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9110", "the address to listen on")
	cmd.Flags().BoolVar(&o.engines, "engines", false, "also every running container of the other engines (read-only)")
	return cmd
}

// snapshotHandler serves GET /snapshots[?ref=…]: what take returns, as JSON.
func snapshotHandler(take func(refs []string) ([]*inspect.Snapshot, error)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/snapshots", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			httpError(w, http.StatusMethodNotAllowed, "read-only: GET /snapshots")
			return
		}
		refs := r.URL.Query()["ref"]
		snaps, err := take(refs)
		if err != nil {
			code := http.StatusInternalServerError
			if len(refs) > 0 {
				code = http.StatusNotFound // a name that resolves to nothing, most likely
			}
			httpError(w, code, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(snaps)
	})
	return mux
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
