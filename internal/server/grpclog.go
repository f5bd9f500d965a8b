package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"google.golang.org/grpc/grpclog"
)

// RouteGRPCLogs sends what gRPC and grpc-gateway log (a client gone before its
// response was written, a transport hiccup) to log as JSON lines, instead of
// plain text on stderr: info at debug level, warnings and errors as warnings,
// since they are the library's view of a call, whose outcome is logged anyway.
// Call it before any gRPC activity.
func RouteGRPCLogs(log *slog.Logger) { grpclog.SetLoggerV2(grpcLogger{log.With("component", "grpc")}) }

type grpcLogger struct{ log *slog.Logger }

func (g grpcLogger) Info(args ...any)                    { g.log.Debug(fmt.Sprint(args...)) }
func (g grpcLogger) Infoln(args ...any)                  { g.log.Debug(fmt.Sprint(args...)) }
func (g grpcLogger) Infof(format string, args ...any)    { g.log.Debug(fmt.Sprintf(format, args...)) }
func (g grpcLogger) Warning(args ...any)                 { g.log.Warn(fmt.Sprint(args...)) }
func (g grpcLogger) Warningln(args ...any)               { g.log.Warn(fmt.Sprint(args...)) }
func (g grpcLogger) Warningf(format string, args ...any) { g.log.Warn(fmt.Sprintf(format, args...)) }
func (g grpcLogger) Error(args ...any)                   { g.log.Warn(fmt.Sprint(args...)) }
func (g grpcLogger) Errorln(args ...any)                 { g.log.Warn(fmt.Sprint(args...)) }
func (g grpcLogger) Errorf(format string, args ...any)   { g.log.Warn(fmt.Sprintf(format, args...)) }
func (g grpcLogger) Fatal(args ...any)                   { g.log.Error(fmt.Sprint(args...)); os.Exit(1) }
func (g grpcLogger) Fatalln(args ...any)                 { g.log.Error(fmt.Sprint(args...)); os.Exit(1) }
func (g grpcLogger) Fatalf(format string, args ...any) {
	g.log.Error(fmt.Sprintf(format, args...))
	os.Exit(1)
}
func (g grpcLogger) V(level int) bool {
	return level <= 0 && g.log.Enabled(context.Background(), slog.LevelDebug)
}
