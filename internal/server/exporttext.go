package server

import (
	"context"

	"google.golang.org/grpc/stats"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

// exportText pools the blocks that hold an export's text (store.ReadCourse
// copies every string of the course into them, and pools the course's messages
// until their Release too): each export takes its blocks from here, in its
// call's context, and gives them back once its response is written, gRPC's
// after the codec has marshalled it (exportTextHandler), REST's after the route
// has written it (exportRoute). Allocating and clearing them anew for each
// export was a twentieth of a small export's CPU, and its messages a tenth.
// Nothing keeps the course past its response: the file name and the logs are
// copies, and the metrics count bytes.
var exportText textblock.Pool

// exportTextHandler is a gRPC stats handler that gives each ExportCourse call
// blocks of exportText in its context, and gives them back at the call's end,
// which gRPC reports after the response is marshalled and sent, or the call
// failed.
type exportTextHandler struct{}

func (exportTextHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if info.FullMethodName != contentv1.ContentTransferService_ExportCourse_FullMethodName {
		return ctx
	}
	return textblock.NewContext(ctx, exportText.Blocks())
}

func (exportTextHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.End); ok {
		textblock.FromContext(ctx).Release()
	}
}

func (exportTextHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

func (exportTextHandler) HandleConn(context.Context, stats.ConnStats) {}
