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
	sizes := flag.String("sizes", "S,M,L,R", "course sizes to measure: S, M, L, XL (generated) and R (the demo course, a real export, grown to about L's size)")
	reps := flag.Int("reps", 3, "repetitions of each timing, for every size (the median is shown)")
	clients := flag.Int("clients", 16, "concurrent clients of the throughput runs")
	duration := flag.Duration("duration", 4*time.Second, "length of each throughput run")
	rounds := flag.Int("rounds", 4, "rounds of throughput runs (gRPC, REST and pgbench in turn)")
	budget := flag.Bool("budget", true, "apply the XL course (about 250 MiB) on a server held to 1 GiB")
	loadOnly := flag.Bool("load", false, "run only the mixed load of several replicas on one database")
	replicas := flag.Int("replicas", 2, "contentd serve processes of the load run")
	loadClients := flag.Int("load-clients", 32, "concurrent clients of the load run")
	loadDuration := flag.Duration("load-duration", 30*time.Second, "length of the load run")
	flag.Parse()
	// pgbench runs for whole seconds.
	if *duration < time.Second || *duration%time.Second != 0 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "contentbench: -duration must be whole seconds, at least 1s, and -rounds at least 1")
		os.Exit(2)
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *loadOnly {
		os.Exit(runLoad(ctx, bench.LoadOptions{Contentd: *contentd, Replicas: *replicas, Clients: *loadClients, Duration: *loadDuration, DBConns: 10}))
	}
	report, err := bench.Run(ctx, bench.Options{
		Contentd: *contentd, Sizes: strings.Split(*sizes, ","), Reps: *reps,
		Clients: *clients, Duration: *duration, Rounds: *rounds, Budget: *budget, Log: log,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "contentbench:", err)
		os.Exit(1)
	}
	report.Write(os.Stdout)
}

// runLoad runs the load, prints its table and every problem; its exit status
// is 1 when a call or the database check went wrong.
func runLoad(ctx context.Context, opt bench.LoadOptions) int {
	report, err := bench.RunLoad(ctx, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "contentbench:", err)
		return 1
	}
	report.Result.WriteMarkdown(os.Stdout, report.Options)
	problems := append(report.Result.Problems, report.Problems...)
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "problem:", p)
	}
	if len(problems) > 0 {
		return 1
	}
	return 0
}
