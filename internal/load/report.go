package load

import (
	"fmt"
	"io"
	"time"
)

// WriteMarkdown writes the rates and latency percentiles of a run as a table.
func (r *Result) WriteMarkdown(w io.Writer, opt Options) {
	secs := r.Elapsed.Seconds()
	fmt.Fprintf(w, "%d clients, %d replicas, %s: %d calls, %.0f calls/s, %d courses imported, %d problems\n\n",
		opt.Clients, len(opt.Targets), r.Elapsed.Round(time.Millisecond), r.Calls(), float64(r.Calls())/secs, len(r.Applied), len(r.Problems))
	fmt.Fprintln(w, "| call | calls | calls/s | p50 | p90 | p99 | max |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range r.Stats {
		fmt.Fprintf(w, "| %s | %d | %.1f | %s | %s | %s | %s |\n", s.Op, s.Calls, float64(s.Calls)/secs,
			ms(s.Percentile(.5)), ms(s.Percentile(.9)), ms(s.Percentile(.99)), ms(s.Percentile(1)))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
