package dbpool_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/educacao-continuada/content-transfer/internal/dbpool"
)

func TestQueryModeFollowsThePooler(t *testing.T) {
	tests := []struct {
		url    string
		pooler dbpool.Pooler
		want   pgx.QueryExecMode
	}{
		{"postgres://u@db.ref.supabase.co:5432/postgres", dbpool.Auto, pgx.QueryExecModeCacheStatement},
		{"postgres://u@aws-0-sa-east-1.pooler.supabase.com:6543/postgres", dbpool.Auto, pgx.QueryExecModeExec},
		{"postgres://u@pgbouncer:6432/app", dbpool.Transaction, pgx.QueryExecModeExec},
		{"postgres://u@pooler:6543/app", dbpool.Direct, pgx.QueryExecModeCacheStatement},
		// The operator's own choice in the URL stands.
		{"postgres://u@pooler:6543/app?default_query_exec_mode=simple_protocol", dbpool.Transaction, pgx.QueryExecModeSimpleProtocol},
	}
	for _, tt := range tests {
		cfg, err := dbpool.Config(tt.url, tt.pooler, 7)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		if got := cfg.ConnConfig.DefaultQueryExecMode; got != tt.want || cfg.MaxConns != 7 {
			t.Errorf("%s with %q: mode %v, max %d; want %v", tt.url, tt.pooler, got, cfg.MaxConns, tt.want)
		}
	}
	for in, want := range map[string]dbpool.Pooler{"": dbpool.Auto, "auto": dbpool.Auto, "Transaction": dbpool.Transaction, "session": dbpool.Direct, "none": dbpool.Direct} {
		if got, err := dbpool.ParsePooler(in); err != nil || got != want {
			t.Errorf("ParsePooler(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := dbpool.ParsePooler("statement"); err == nil {
		t.Error("statement pooling accepted: contentd needs transactions")
	}
}
