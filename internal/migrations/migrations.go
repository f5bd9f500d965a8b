// Package migrations holds the database schema as numbered goose migrations,
// embedded in the binary, and applies them.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

//go:embed sql/*.sql
var files embed.FS

// Up applies every pending migration, each in its own transaction, and returns the
// versions it applied.
func Up(ctx context.Context, pool *pgxpool.Pool) ([]int64, error) {
	provider, db, err := newProvider(pool)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	results, err := provider.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply migrations: %w", err)
	}
	versions := make([]int64, 0, len(results))
	for _, r := range results {
		versions = append(versions, r.Source.Version)
	}
	return versions, nil
}

// Pending says whether some migration is not applied yet.
func Pending(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	provider, db, err := newProvider(pool)
	if err != nil {
		return false, err
	}
	defer db.Close()
	pending, err := provider.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("look for pending migrations: %w", err)
	}
	return pending, nil
}

// newProvider returns goose's provider of the embedded migrations over pool,
// and the database/sql handle to close after it.
func newProvider(pool *pgxpool.Pool) (*goose.Provider, *sql.DB, error) {
	db := stdlib.OpenDBFromPool(pool)
	dir, err := fs.Sub(files, "sql")
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, dir)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("load migrations: %w", err)
	}
	return provider, db, nil
}
