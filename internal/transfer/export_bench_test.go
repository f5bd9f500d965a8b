package transfer_test

import (
	"context"
	"io"
	"runtime/debug"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/gcpace"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/store"
	"github.com/educacao-continuada/content-transfer/internal/textblock"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// BenchmarkExportS exports the generator's S course, eight at a time per core,
// and renders it as the gRPC response (protobuf) or as the REST file, with
// contentd serve's pace of the collector (gcpace). The time per export includes PostgreSQL's; cpu-µs/op is this process's CPU alone (user and
// system, the collector's included): the server's share of an export, what
// bounds the exports a machine shared with PostgreSQL can serve. As in the
// server, each export's text is in pooled blocks, given back once it is
// rendered.
func BenchmarkExportS(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(gcpace.Percent))
	gcpace.Tune()
	defer gcpace.Stop()
	ctx := context.Background()
	svc := transfer.New(store.New(pgtest.NewDB(b)), transfer.Config{MaxFileBytes: 1 << 30})
	file := generatedFile(b, coursegen.S, 1)
	applied, err := svc.ApplyImport(ctx, raw(file), "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	responses := sync.Pool{New: func() any { return new([]byte) }}
	renders := []struct {
		name   string
		render func(*transfer.Export) error
	}{
		{"grpc", func(e *transfer.Export) error { // as the server's codec writes it, into a pooled buffer
			out := responses.Get().(*[]byte)
			*out = coursefile.AppendExportResponse(nil, &contentv1.ExportCourseResponse{File: e.File, Filename: e.Filename}, func(size int) []byte {
				return slices.Grow((*out)[:0], size)
			})
			responses.Put(out)
			return nil
		}},
		{"rest", func(e *transfer.Export) error { return coursefile.WriteWhole(io.Discard, e.File, func(int) {}) }}, // as the server writes it
	}
	var text textblock.Pool
	for _, r := range renders {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8) // 16 exports at a time on 2 cores, as contentbench's throughput runs
			start := cpuTime(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					blocks := text.Blocks()
					export, err := svc.ExportCourse(textblock.NewContext(ctx, blocks), applied.GetCourseId())
					if err == nil {
						err = r.render(export)
					}
					blocks.Release()
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64((cpuTime(b)-start).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// cpuTime is the CPU this process has used, in user and system mode.
func cpuTime(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
