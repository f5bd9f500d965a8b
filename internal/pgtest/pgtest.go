// Package pgtest runs tests against a real PostgreSQL: one throwaway cluster per
// test binary (package pgcluster), a template database migrated once, and a
// fresh clone of it for every test.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and in a test:
//
//	pool := pgtest.NewDB(t)
//
// With PGTEST_POOLER=pgbouncer the tests run through PgBouncer in transaction
// mode, as contentd does behind Supabase's pooler on port 6543: NewDB and
// NewDBURL go through it, PoolerEnv is the environment a `contentd serve` needs
// there, and DirectURL gives the direct connection that migrations, backups
// and restores want.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/educacao-continuada/content-transfer/internal/dbpool"
	"github.com/educacao-continuada/content-transfer/internal/migrations"
	"github.com/educacao-continuada/content-transfer/internal/pgcluster"
)

const templateDB = "pgtest_template"

var (
	current *harness
	// cloneMu serialises CREATE DATABASE ... TEMPLATE, which fails while another
	// clone of the same template is in progress.
	cloneMu sync.Mutex
	seq     atomic.Int64
)

// Main starts the cluster, migrates the template, runs the tests and removes the
// cluster whatever happened.
func Main(m *testing.M) {
	h, err := start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		os.Exit(1)
	}
	current = h
	code := m.Run()
	h.stop()
	os.Exit(code)
}

// NewDB returns a pool on a fresh, migrated database that is dropped when the test ends.
func NewDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return Open(t, NewDBURL(t))
}

// Open returns a pool on url in the query mode of the harness's connections
// (see package dbpool), closed when the test ends.
func Open(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := dbpool.New(context.Background(), url, Pooler(), 0)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Pooler is what the tests' connections go through: dbpool.Transaction with
// PGTEST_POOLER=pgbouncer, else dbpool.Direct.
func Pooler() dbpool.Pooler {
	if current != nil && current.bouncer != nil {
		return dbpool.Transaction
	}
	return dbpool.Direct
}

// PoolerEnv is what `contentd serve` needs in its environment to use the
// harness's connections: DB_POOLER=transaction behind PgBouncer, else nothing.
func PoolerEnv() []string {
	if Pooler() == dbpool.Transaction {
		return []string{"DB_POOLER=" + string(dbpool.Transaction)}
	}
	return nil
}

// DirectURL is url without the pooler: the connection string of the same
// database on PostgreSQL itself.
func DirectURL(url string) string {
	if current == nil || current.bouncer == nil {
		return url
	}
	return strings.Replace(url, fmt.Sprintf(":%d/", current.bouncer.Port()), fmt.Sprintf(":%d/", current.cluster.Port()), 1)
}

// NewDBURL creates a fresh, migrated database and returns its connection string.
// The database is dropped when the test ends.
func NewDBURL(t testing.TB) string {
	t.Helper()
	if current == nil {
		t.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), seq.Add(1))
	ctx := context.Background()
	cloneMu.Lock()
	_, err := current.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+templateDB)
	cloneMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := current.admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	if current.bouncer != nil {
		return current.bouncer.URL(name)
	}
	return current.cluster.URL(name)
}

// harness is the cluster of this test binary and a pool on its postgres database.
type harness struct {
	cluster *pgcluster.Cluster
	bouncer *pgcluster.Bouncer // nil without PGTEST_POOLER
	admin   *pgxpool.Pool
}

func start() (*harness, error) {
	c, err := pgcluster.Start()
	if err != nil {
		return nil, err
	}
	h := &harness{cluster: c}
	if err := h.migrateTemplate(); err != nil {
		h.stop()
		return nil, err
	}
	switch mode := os.Getenv("PGTEST_POOLER"); mode {
	case "":
	case "pgbouncer":
		if h.bouncer, err = c.StartBouncer(); err != nil {
			h.stop()
			return nil, err
		}
	default:
		h.stop()
		return nil, fmt.Errorf("PGTEST_POOLER=%q: want pgbouncer or nothing", mode)
	}
	return h, nil
}

func (h *harness) migrateTemplate() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := pgxpool.New(ctx, h.cluster.URL("postgres"))
	if err != nil {
		return err
	}
	h.admin = admin
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+templateDB); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	tmpl, err := pgxpool.New(ctx, h.cluster.URL(templateDB))
	if err != nil {
		return err
	}
	defer tmpl.Close()
	if _, err := migrations.Up(ctx, tmpl); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}

func (h *harness) stop() {
	if h.admin != nil {
		h.admin.Close()
	}
	if h.bouncer != nil {
		h.bouncer.Stop()
	}
	h.cluster.Stop()
}
