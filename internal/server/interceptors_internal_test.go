package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestPanicsBecomeInternalWithoutDetails(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	info := &grpc.UnaryServerInfo{FullMethod: "/educacao.content.v1.ContentTransferService/ExportCourse"}
	handler := func(context.Context, any) (any, error) {
		panic("SELECT segredo FROM tabela: índice fora do intervalo")
	}
	recovered := func(ctx context.Context, req any) (any, error) {
		return recoverInterceptor(log)(ctx, req, info, handler)
	}
	_, err := statusInterceptor(log)(context.Background(), nil, info, recovered)
	s := status.Convert(err)
	if s.Code() != codes.Internal || s.Message() != internalMessage {
		t.Fatalf("status = %v %q", s.Code(), s.Message())
	}
	if strings.Contains(err.Error(), "segredo") {
		t.Errorf("the caller sees the panic: %v", err)
	}
	if !strings.Contains(logs.String(), "panic in handler") || !strings.Contains(logs.String(), "stack") {
		t.Errorf("the log lacks the panic: %s", logs.String())
	}
}
