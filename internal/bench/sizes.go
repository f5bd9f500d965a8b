package bench

// One course size: apply, analysis and export over gRPC and REST, beside the database baselines.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

func (r *runner) measureSize(ctx context.Context, size string) (*SizeResult, error) {
	// Each size has seeds of its own: a course's competency codes carry its seed.
	seeds := uint64(1000 * (1 + strings.Index("SMLR", size)))
	course := func(seed uint64) ([]byte, error) {
		c, err := coursegen.Named(size, seeds+seed)
		if err != nil {
			return nil, err
		}
		return coursefile.Marshal(c)
	}
	res := &SizeResult{Size: size}
	var apply, analyze, exportGRPC, exportREST, copyOut, copyIn, pgRestore, pgRestoreInPlace, pgDump []time.Duration
	var lastCourse string
	for rep := range r.reps() {
		pid := r.server.Pid()
		// Each repetition of each size imports new content (competency codes carry
		// the seed), so that every apply creates everything and does the same work.
		file, err := course(uint64(rep + 1))
		if err != nil {
			return nil, err
		}
		res.FileBytes = len(file)
		r.log.Info("measuring", "size", size, "rep", rep+1, "bytes", len(file))

		if err := r.settle(ctx, r.pool); err != nil {
			return nil, err
		}
		d, _, err := measure(pid, func() error { return r.analyze(ctx, file) })
		if err != nil {
			return nil, fmt.Errorf("analyze: %w", err)
		}
		analyze = append(analyze, d)

		if err := r.settle(ctx, r.pool); err != nil { // the analysis's rows, rolled back
			return nil, err
		}
		var applied *contentv1.ApplyImportResponse
		d, _, err = measure(pid, func() error {
			var err error
			applied, err = r.apply(ctx, file)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("apply: %w", err)
		}
		apply = append(apply, d)
		courseID := applied.GetCourseId()
		lastCourse = courseID
		if size == "S" && r.sCourse == "" {
			r.sCourse = courseID
		}

		if err := r.settle(ctx, r.pool); err != nil { // the rows just applied
			return nil, err
		}
		d, _, err = measure(pid, func() error { return r.grpcExport(ctx, courseID) })
		if err != nil {
			return nil, fmt.Errorf("gRPC export: %w", err)
		}
		exportGRPC = append(exportGRPC, d)

		if err := r.settle(ctx, r.pool); err != nil { // as before the gRPC export
			return nil, err
		}
		d, _, err = measure(pid, func() error { return r.restExport(ctx, courseID) })
		if err != nil {
			return nil, fmt.Errorf("REST export: %w", err)
		}
		exportREST = append(exportREST, d)

		dump, dOut, err := r.copyOut(ctx, courseID, applied.GetImportBatchId())
		if err != nil {
			return nil, fmt.Errorf("COPY out: %w", err)
		}
		copyOut = append(copyOut, dOut)
		b, err := r.baselines(ctx, dump, courseID, applied.GetImportBatchId())
		if err != nil {
			return nil, fmt.Errorf("baselines: %w", err)
		}
		copyIn, pgRestore, pgDump = append(copyIn, b.CopyIn), append(pgRestore, b.PGRestore), append(pgDump, b.PGDump)
		pgRestoreInPlace = append(pgRestoreInPlace, b.PGRestoreInPlace)
		res.Reps = append(res.Reps, RepTimes{Apply: apply[rep], Analyze: analyze[rep], ExportGRPC: exportGRPC[rep],
			ExportREST: exportREST[rep], PGRestore: b.PGRestore, PGRestoreInPlace: b.PGRestoreInPlace, PGDump: b.PGDump})
		r.log.Info("measured", "size", size, "rep", rep+1, "apply", apply[rep], "pg_restore", b.PGRestore, "pg_restore_in_place", b.PGRestoreInPlace, "copy_in", b.CopyIn,
			"analyze", analyze[rep], "export_grpc", exportGRPC[rep], "export_rest", exportREST[rep], "pg_dump", b.PGDump)
	}
	// Memory: each operation once more, each on a fresh server. The apply imports
	// new content, so that it creates everything, as the timed ones did.
	file, err := course(999)
	if err != nil {
		return nil, err
	}
	if res.PeakAnalyze, err = r.peakOnFreshServer(ctx, func() error { return r.analyze(ctx, file) }); err != nil {
		return nil, err
	}
	if res.PeakApply, err = r.peakOnFreshServer(ctx, func() error { _, err := r.apply(ctx, file); return err }); err != nil {
		return nil, err
	}
	if res.PeakAnalyzeREST, err = r.peakOnFreshServer(ctx, func() error { return r.restImport(ctx, "analyze", file) }); err != nil {
		return nil, err
	}
	restFile, err := course(998)
	if err != nil {
		return nil, err
	}
	if res.PeakApplyREST, err = r.peakOnFreshServer(ctx, func() error { return r.restImport(ctx, "apply", restFile) }); err != nil {
		return nil, err
	}
	if res.PeakExportGRPC, err = r.peakOnFreshServer(ctx, func() error { return r.grpcExport(ctx, lastCourse) }); err != nil {
		return nil, err
	}
	if res.PeakREST, err = r.peakOnFreshServer(ctx, func() error { return r.restExport(ctx, lastCourse) }); err != nil {
		return nil, err
	}
	res.Apply, res.Analyze = median(apply), median(analyze)
	res.ExportGRPC, res.ExportREST, res.CopyOut, res.CopyIn = median(exportGRPC), median(exportREST), median(copyOut), median(copyIn)
	res.PGRestore, res.PGRestoreInPlace, res.PGDump = median(pgRestore), median(pgRestoreInPlace), median(pgDump)
	return res, nil
}

// analyze and apply send the file as its own bytes (fileRequest), as the REST
// client sends its body, rather than copied into a new message for each call.
func (r *runner) analyze(ctx context.Context, file []byte) error {
	var resp contentv1.AnalyzeImportResponse
	return r.conn.Invoke(r.authed(ctx), contentv1.ContentTransferService_AnalyzeImport_FullMethodName,
		&fileRequest{field: analyzeFileField, file: file}, &resp, grpc.ForceCodecV2(discardCodec{}))
}

func (r *runner) apply(ctx context.Context, file []byte) (*contentv1.ApplyImportResponse, error) {
	var resp contentv1.ApplyImportResponse
	err := r.conn.Invoke(r.authed(ctx), contentv1.ContentTransferService_ApplyImport_FullMethodName,
		&fileRequest{field: applyFileField, file: file}, &resp, grpc.ForceCodecV2(discardCodec{}))
	return &resp, err
}

// restImport posts the file to /gestor/import/analyze or /apply, as the
// managers' page does.
func (r *runner) restImport(ctx context.Context, op string, file []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.server.URL+"/gestor/import/"+op, bytes.NewReader(file))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("REST %s: %d %.300s", op, resp.StatusCode, body)
	}
	return nil
}

// grpcExport exports a course over gRPC and reads the response without
// parsing it (discardCodec).
func (r *runner) grpcExport(ctx context.Context, courseID string) error {
	var resp receivedBytes
	err := r.conn.Invoke(r.authed(ctx), contentv1.ContentTransferService_ExportCourse_FullMethodName,
		&contentv1.ExportCourseRequest{CourseId: courseID}, &resp, grpc.ForceCodecV2(discardCodec{}))
	if err == nil && resp.n == 0 {
		return errors.New("gRPC export: empty response")
	}
	return err
}

func (r *runner) restExport(ctx context.Context, courseID string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.server.URL+"/gestor/export/course/"+courseID, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
