package bench

// Export throughput of the S course under concurrent clients.

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// throughput runs gRPC, REST and pgbench Rounds times each, for Duration each
// time: in a round, in the order gRPC, REST, pgbench, and in the next in the
// mirrored order (gRPC, REST, pgbench, pgbench, REST, gRPC, gRPC…). It reports
// the rates over all rounds, and each round's ratios to its pgbench run, which
// ran within seconds of them. This machine's speed moves by a tenth from one
// second to the next, and by a third from one minute to the next: short runs
// taken in turn weigh that on the three alike.
func (r *runner) throughput(ctx context.Context) (*Throughput, error) {
	if r.sCourse == "" {
		return nil, nil
	}
	if err := r.settle(ctx, r.pool); err != nil {
		return nil, err
	}
	t := &Throughput{Clients: r.opt.Clients, Duration: r.opt.Duration, Rounds: r.opt.Rounds}
	var cpuGRPC, cpuREST, cpuPGBench CPUUse
	for k := range t.Rounds {
		var round RoundRates
		// serviceRun hammers the server with call, one export a call.
		serviceRun := func(cpu *CPUUse, exports *int, rate *float64, call func(context.Context, string) error) func() error {
			return func() error {
				return r.withCPU(cpu, func() error {
					n, err := r.hammer(ctx, func(ctx context.Context) error { return call(ctx, r.sCourse) })
					*exports += n
					*rate = float64(n) / r.opt.Duration.Seconds()
					return err
				})
			}
		}
		grpcRun := serviceRun(&cpuGRPC, &t.ServiceGRPCExports, &round.GRPC, r.grpcExport)
		restRun := serviceRun(&cpuREST, &t.ServiceRESTExports, &round.REST, r.restExport)
		pgbenchRun := func() error {
			return r.withCPU(&cpuPGBench, func() error {
				tps, n, err := r.pgbench(ctx)
				round.PGBench = tps // pgbench's own rate, without its connections' start
				t.PGBenchTransactions += n
				return err
			})
		}
		runs := []func() error{grpcRun, restRun, pgbenchRun}
		if k%2 == 1 {
			slices.Reverse(runs)
		}
		for _, run := range runs {
			if err := run(); err != nil {
				return nil, err
			}
		}
		t.PGBench += round.PGBench / float64(t.Rounds)
		t.ByRound = append(t.ByRound, round)
	}
	secs := float64(t.Rounds) * r.opt.Duration.Seconds()
	t.GRPC, t.REST = float64(t.ServiceGRPCExports)/secs, float64(t.ServiceRESTExports)/secs
	t.CPUGRPC, t.CPUREST = cpuGRPC.per(t.ServiceGRPCExports), cpuREST.per(t.ServiceRESTExports)
	t.CPUPGBench = cpuPGBench.per(t.PGBenchTransactions)
	return t, nil
}

// withCPU runs fn and adds the CPU each party used during it to sum.
func (r *runner) withCPU(sum *CPUUse, fn func() error) error {
	before, err := r.cpuNow()
	if err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	after, err := r.cpuNow()
	if err != nil {
		return err
	}
	*sum = sum.add(after.sub(before))
	return nil
}

// hammer runs call from Clients goroutines for Duration and counts the calls.
func (r *runner) hammer(ctx context.Context, call func(context.Context) error) (int, error) {
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	ctx, cancel := context.WithTimeout(ctx, r.opt.Duration)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var wg sync.WaitGroup
	for range r.opt.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := call(ctx); err != nil {
					// A call cut by the end of the run is not a failure; gRPC's own
					// timer can fire a moment before the context's.
					if ctx.Err() == nil && !time.Now().After(deadline.Add(-100*time.Millisecond)) {
						once.Do(func() { firstErr = err })
					}
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(done.Load()), firstErr
}
