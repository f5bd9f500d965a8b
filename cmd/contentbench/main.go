// Command contentbench measures contentd against PostgreSQL's own limits on this
// machine and prints the tables of docs/benchmarks.md. It starts its own
// PostgreSQL cluster and its own contentd server; `make bench` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/bench"
)

func main() {
	contentd := flag.String("contentd", "bin/contentd", "contentd binary to run as the server")
	sizes := flag.String("sizes", "S,M,L", "course sizes to measure")
	reps := flag.Int("reps", 3, "repetitions of each timing (the median is shown; L runs a third as many)")
	clients := flag.Int("clients", 16, "concurrent clients of the throughput runs")
	duration := flag.Duration("duration", 5*time.Second, "length of each throughput run")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	report, err := bench.Run(ctx, bench.Options{
		Contentd: *contentd, Sizes: strings.Split(*sizes, ","), Reps: *reps,
		Clients: *clients, Duration: *duration, Log: log,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "contentbench:", err)
		os.Exit(1)
	}
	report.Write(os.Stdout)
}
