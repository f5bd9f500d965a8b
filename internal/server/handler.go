// Package server exposes the transfer service over gRPC (with reflection and
// health) and over REST/JSON through grpc-gateway, which calls the gRPC endpoint
// so that every interceptor runs for REST too.
package server

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/transfer"
)

// contentDispositionKey is the gRPC header that carries the export's file name; the
// gateway turns it into the HTTP Content-Disposition header.
const contentDispositionKey = "content-disposition"

// contentTransfer adapts transfer.Service to the generated gRPC interface.
type contentTransfer struct {
	contentv1.UnimplementedContentTransferServiceServer
	svc *transfer.Service
}

func (h *contentTransfer) ListCourses(ctx context.Context, req *contentv1.ListCoursesRequest) (*contentv1.ListCoursesResponse, error) {
	return h.svc.ListCourses(ctx, req)
}

func (h *contentTransfer) ListImportBatches(ctx context.Context, req *contentv1.ListImportBatchesRequest) (*contentv1.ListImportBatchesResponse, error) {
	return h.svc.ListImportBatches(ctx, req)
}

func (h *contentTransfer) ExportCourse(ctx context.Context, req *contentv1.ExportCourseRequest) (*contentv1.ExportCourseResponse, error) {
	export, err := h.svc.ExportCourse(ctx, req.GetCourseId())
	if err != nil {
		return nil, err
	}
	disposition := fmt.Sprintf("attachment; filename=%q", export.Filename)
	if err := grpc.SetHeader(ctx, metadata.Pairs(contentDispositionKey, disposition)); err != nil {
		return nil, fmt.Errorf("set content-disposition: %w", err)
	}
	// The codec counts the bytes gRPC sends (fileCodec), REST the JSON it
	// writes (exportRoute).
	return &contentv1.ExportCourseResponse{File: export.File, Filename: export.Filename}, nil
}

func (h *contentTransfer) AnalyzeImport(ctx context.Context, req *contentv1.AnalyzeImportRequest) (*contentv1.AnalyzeImportResponse, error) {
	in := transfer.ImportInput{Body: fileBody(ctx), Raw: req.GetFileJson(), File: req.GetFile()}
	req.Source = nil // so that the file's bytes can be collected once parsed
	report, err := h.svc.AnalyzeImport(ctx, in)
	if err != nil {
		return nil, err
	}
	return &contentv1.AnalyzeImportResponse{Report: report}, nil
}

func (h *contentTransfer) ApplyImport(ctx context.Context, req *contentv1.ApplyImportRequest) (*contentv1.ApplyImportResponse, error) {
	in := transfer.ImportInput{Body: fileBody(ctx), Raw: req.GetFileJson(), File: req.GetFile()}
	req.Source = nil // so that the file's bytes can be collected once parsed
	return h.svc.ApplyImport(ctx, in, req.GetIdempotencyKey(), req.GetExpectedDigest())
}
