package server

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/auth"
	"github.com/educacao-continuada/content-transfer/internal/metrics"
)

// TestEveryRPCGoesThroughTheChainOverREST calls every method of every service,
// as the REST gateway does, through the in-process adapters without a token: a
// method the adapter forgot falls to the embedded Unimplemented server and
// answers UNIMPLEMENTED instead of the authentication interceptor's
// UNAUTHENTICATED.
func TestEveryRPCGoesThroughTheChainOverREST(t *testing.T) {
	t.Parallel()
	authn, err := auth.New(auth.Config{HS256Secret: []byte(strings.Repeat("s", 32)), Audience: "authenticated",
		RoleClaim: "app_metadata.role", AllowedRoles: []string{"gestor"}, Leeway: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	chain := unaryChain(authn, slog.New(slog.DiscardHandler), Config{RPCTimeout: time.Second, ImportTimeout: time.Second, Metrics: metrics.New()})
	adapter := newIntercepted(&contentTransfer{}, &backupService{}, chain)
	for _, c := range []struct {
		desc   grpc.ServiceDesc
		server any
	}{
		{contentv1.ContentTransferService_ServiceDesc, adapter},
		{contentv1.BackupService_ServiceDesc, adapter.backups},
	} {
		for _, m := range c.desc.Methods {
			method := reflect.ValueOf(c.server).MethodByName(m.MethodName)
			if !method.IsValid() {
				t.Errorf("%s.%s: the REST adapter has no such method", c.desc.ServiceName, m.MethodName)
				continue
			}
			req := reflect.New(method.Type().In(1).Elem())
			out := method.Call([]reflect.Value{reflect.ValueOf(context.Background()), req})
			err, _ := out[1].Interface().(error)
			if code := status.Code(err); code != codes.Unauthenticated {
				t.Errorf("%s.%s over the REST adapter: %v (%v), want UNAUTHENTICATED from the chain", c.desc.ServiceName, m.MethodName, code, err)
			}
		}
	}
}
