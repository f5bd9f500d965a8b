package pgtest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/educacao-continuada/content-transfer/internal/dbpool"
	"github.com/educacao-continuada/content-transfer/internal/migrations"
	"github.com/educacao-continuada/content-transfer/internal/pgcluster"
)

// Exec runs sql on pool and fails the test if it fails.
func Exec(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Count runs a query of one integer (a count, say) and returns it.
func Count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// NewEmptyDBURL creates a database without any table — as the public schema of
// a new Supabase project is — and returns its connection string. It is dropped
// when the test ends.
func NewEmptyDBURL(t testing.TB) string {
	t.Helper()
	url := NewDBURL(t)
	pool, err := dbpool.New(context.Background(), url, Pooler(), 0)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer pool.Close()
	Exec(t, pool, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`)
	return url
}

// Snapshot is the row count and a digest of the content of every table of the
// public schema but goose's and those in skip: two equal snapshots say that
// nothing was written in between.
func Snapshot(t testing.TB, pool *pgxpool.Pool, skip ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, table := range tables {
		if slices.Contains(skip, table) {
			continue
		}
		var n int
		var sum *string
		q := fmt.Sprintf(`SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM %s t`, pgx.Identifier{table}.Sanitize())
		if err := pool.QueryRow(ctx, q).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		digest := "-"
		if sum != nil {
			digest = *sum
		}
		out[table] = fmt.Sprintf("%d rows, %s", n, digest)
	}
	return out
}

// NewCluster starts a cluster of the test's own, for a test that stops or
// restarts the server, and returns it with the URL of a migrated database on
// it. The cluster is removed when the test ends.
func NewCluster(t testing.TB) (*pgcluster.Cluster, string) {
	t.Helper()
	c, err := pgcluster.Start()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(c.Stop)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE app"); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	pool, err := pgxpool.New(ctx, c.URL("app"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer pool.Close()
	if _, err := migrations.Up(ctx, pool); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return c, c.URL("app")
}
