package config_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/educacao-continuada/content-transfer/internal/config"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
)

func env(vars map[string]string) config.Getenv {
	return func(k string) string { return vars[k] }
}

func TestLoadServe(t *testing.T) {
	got, err := config.LoadServe([]string{"-http-addr", ":7000"}, env(map[string]string{
		"DATABASE_URL":        "postgres://x@h/db",
		"HTTP_ADDR":           ":9999", // the flag wins
		"GRPC_ADDR":           "127.0.0.1:7001",
		"ENVIRONMENT":         "staging",
		"LOG_LEVEL":           "debug",
		"SHUTDOWN_TIMEOUT":    "3s",
		"DB_MAX_CONNS":        "4",
		"SUPABASE_JWT_SECRET": "0123456789abcdef0123456789abcdef",
		"AUTH_ALLOWED_ROLES":  " gestor, admin ,",
		"IMPORT_TIMEOUT":      "10m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := &config.Serve{
		Database: config.Database{URL: "postgres://x@h/db", MaxConns: 4},
		Auth: config.Auth{JWTSecret: "0123456789abcdef0123456789abcdef", Audience: "authenticated",
			RoleClaim: "app_metadata.role", AllowedRoles: []string{"gestor", "admin"}, Leeway: 30 * time.Second},
		RPCTimeout:        time.Minute,
		ImportTimeout:     10 * time.Minute,
		GRPCAddr:          "127.0.0.1:7001",
		HTTPAddr:          ":7000",
		Environment:       "staging",
		LogLevel:          slog.LevelDebug,
		MaxRequestBytes:   64 << 20,
		ShutdownTimeout:   3 * time.Second,
		ReadinessInterval: 5 * time.Second,
		BackupTimeZone:    "America/Sao_Paulo",
		Backup: config.Backup{URL: "postgres://x@h/db", Dest: "./backups", Keep: 4,
			Scope: integrity.Scope{Schemas: []string{"public"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LoadServe (-want +got):\n%s", diff)
	}
}

func TestLoadServeRejects(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no database", nil, map[string]string{}, "DATABASE_URL is required"},
		{"bad duration", nil, map[string]string{"DATABASE_URL": "x", "SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT"},
		{"bad number", nil, map[string]string{"DATABASE_URL": "x", "DB_MAX_CONNS": "many"}, "DB_MAX_CONNS"},
		{"bad level", nil, map[string]string{"DATABASE_URL": "x", "LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{"zero pool", []string{"-db-max-conns", "0"}, map[string]string{"DATABASE_URL": "x", "SUPABASE_JWT_SECRET": strings.Repeat("s", 32)}, "db-max-conns"},
		{"unknown flag", []string{"-database-url", "x"}, map[string]string{"DATABASE_URL": "x"}, "database-url"},
		{"no auth", nil, map[string]string{"DATABASE_URL": "x"}, "authentication cannot be turned off"},
		{"short secret", nil, map[string]string{"DATABASE_URL": "x", "SUPABASE_JWT_SECRET": "curto"}, "too short"},
		{"no roles", []string{"-auth-allowed-roles", " , "}, map[string]string{"DATABASE_URL": "x", "SUPABASE_JWKS_URL": "/k.json"}, "must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.LoadServe(tt.args, env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
