package main

import (
	"github.com/spf13/cobra"

	"glassbox/cmd/calculator/service"
)

func init() { verb("calculator", newCalculatorCmd) }

func newCalculatorCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "calculator",
		Short: "Serve the calculator service here, on the host (what the built-in image runs)",
		Long: `Serve the calculator service in this process, outside any sandbox. It is
configured by the environment only:

  SERVER_PORT       TCP port to listen on (default 8000; 0 = any free port)
  WORKER_COUNT      calculations worked on at once (default 4)
  LOG_FORMAT        json or text (default json)
  SHUTDOWN_TIMEOUT  how long in-flight requests may finish after SIGTERM (default 10s)

Endpoints: GET /health, GET /info, POST /calculate, POST /stress/memory,
POST /stress/cpu, GET|DELETE /stress.`,
		Example: `  SERVER_PORT=8080 glassbox calculator
  curl -s localhost:8080/calculate -d '{"operation":"add","a":10,"b":5}'`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if code := service.Main(); code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
}
