package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/educacao-continuada/content-transfer/internal/integrity"
	"github.com/educacao-continuada/content-transfer/internal/migrations"
)

// The integrity check reads the catalog for the tables and foreign keys to
// check, then counts with statements built from their names. Names come from
// the catalog, never from a request, and are quoted with pgx.Identifier.

// sqlTables lists the ordinary and partitioned tables (not partitions) of the
// schemas $2, or of every non-system schema when $1.
const sqlTables = `
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND CASE WHEN $1 THEN n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
           ELSE n.nspname = ANY($2::text[]) END
ORDER BY 1, 2`

// sqlForeignKeys lists the foreign keys (declared on the parent of a partition
// tree, once) of tables in the same schemas, with their columns in order.
const sqlForeignKeys = `
SELECT con.conname, cn.nspname, cc.relname, pn.nspname, pc.relname,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.i),
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.i)
FROM pg_constraint con
JOIN pg_class cc ON cc.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
JOIN pg_class pc ON pc.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
WHERE con.contype = 'f' AND con.conparentid = 0
  AND CASE WHEN $1 THEN cn.nspname NOT IN ('pg_catalog', 'information_schema') AND cn.nspname !~ '^pg_(toast|temp_)'
           ELSE cn.nspname = ANY($2::text[]) END
ORDER BY 2, 3, 1`

// sqlHasMigrations says whether goose's table is there; sqlMigrationVersion is
// the newest migration it applied (goose's provider deletes the row of a
// migration it rolls back).
const (
	sqlHasMigrations    = `SELECT to_regclass('public.goose_db_version') IS NOT NULL`
	sqlMigrationVersion = `SELECT coalesce(max(version_id), 0) FROM public.goose_db_version WHERE is_applied`
)

const sqlServerVersion = `SELECT current_setting('server_version'), current_setting('server_version_num')::int`

// IntegrityReport counts the rows of every table of scope and, with orphans, the
// rows whose foreign key points to nothing, in one consistent snapshot.
func (s *Store) IntegrityReport(ctx context.Context, scope integrity.Scope, orphans bool) (*integrity.Report, error) {
	var report *integrity.Report
	err := s.readSnapshot(ctx, func(tx pgx.Tx) error {
		var err error
		report, err = readIntegrity(ctx, tx, scope, orphans)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("integrity report: %w", dbError(err))
	}
	return report, nil
}

// readSnapshot runs fn in a REPEATABLE READ, read-only transaction, with
// row_security off so that a count that row-level security would filter fails
// instead of being wrong (as pg_dump does).
func (s *Store) readSnapshot(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only: nothing to keep
	if _, err := tx.Exec(ctx, "SET LOCAL row_security = off"); err != nil {
		return err
	}
	return fn(tx)
}

func readIntegrity(ctx context.Context, tx pgx.Tx, scope integrity.Scope, orphans bool) (*integrity.Report, error) {
	r := &integrity.Report{}
	var versionNum int
	if err := tx.QueryRow(ctx, "SELECT now()").Scan(&r.TakenAt); err != nil {
		return nil, err
	}
	r.TakenAt = r.TakenAt.UTC().Truncate(time.Millisecond)
	if err := tx.QueryRow(ctx, sqlServerVersion).Scan(&r.ServerVersion, &versionNum); err != nil {
		return nil, err
	}
	var migrated bool
	if err := tx.QueryRow(ctx, sqlHasMigrations).Scan(&migrated); err != nil {
		return nil, err
	}
	if migrated {
		if err := tx.QueryRow(ctx, sqlMigrationVersion).Scan(&r.MigrationVersion); err != nil {
			return nil, fmt.Errorf("migration version: %w", err)
		}
	}
	tables, err := countTables(ctx, tx, scope)
	if err != nil {
		return nil, err
	}
	r.Tables = integrity.Order(tables)
	if orphans {
		if r.Orphans, err = countOrphans(ctx, tx, scope); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func countTables(ctx context.Context, tx pgx.Tx, scope integrity.Scope) ([]integrity.TableCount, error) {
	rows, err := tx.Query(ctx, sqlTables, scope.All, scope.Schemas)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (integrity.TableCount, error) {
		var t integrity.TableCount
		return t, row.Scan(&t.Schema, &t.Name)
	})
	if err != nil || len(tables) == 0 {
		return tables, err
	}
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = fmt.Sprintf("SELECT %d, count(*) FROM %s", i, pgx.Identifier{t.Schema, t.Name}.Sanitize())
	}
	if err := scanCounts(ctx, tx, strings.Join(parts, " UNION ALL "), func(i int, n int64) { tables[i].Rows = n }); err != nil {
		return nil, fmt.Errorf("count rows: %w", err)
	}
	return tables, nil
}

func countOrphans(ctx context.Context, tx pgx.Tx, scope integrity.Scope) ([]integrity.OrphanCheck, error) {
	rows, err := tx.Query(ctx, sqlForeignKeys, scope.All, scope.Schemas)
	if err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	type fk struct {
		check                          integrity.OrphanCheck
		schema, table, pSchema, pTable string
		columns, parentColumns         []string
	}
	fks, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (fk, error) {
		var f fk
		err := row.Scan(&f.check.Constraint, &f.schema, &f.table, &f.pSchema, &f.pTable, &f.columns, &f.parentColumns)
		f.check.Table, f.check.Parent, f.check.Columns = f.schema+"."+f.table, f.pSchema+"."+f.pTable, f.columns
		return f, err
	})
	if err != nil || len(fks) == 0 {
		return nil, err
	}
	parts := make([]string, len(fks))
	for i, f := range fks {
		if len(f.columns) != len(f.parentColumns) || len(f.columns) == 0 {
			return nil, errors.New("foreign key " + f.check.Constraint + ": columns do not pair up")
		}
		var set, match []string
		for j, col := range f.columns {
			c := "c." + pgx.Identifier{col}.Sanitize()
			set = append(set, c+" IS NOT NULL")
			match = append(match, "p."+pgx.Identifier{f.parentColumns[j]}.Sanitize()+" = "+c)
		}
		parts[i] = fmt.Sprintf("SELECT %d, count(*) FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)",
			i, pgx.Identifier{f.schema, f.table}.Sanitize(), strings.Join(set, " AND "),
			pgx.Identifier{f.pSchema, f.pTable}.Sanitize(), strings.Join(match, " AND "))
	}
	checks := make([]integrity.OrphanCheck, len(fks))
	for i, f := range fks {
		checks[i] = f.check
	}
	if err := scanCounts(ctx, tx, strings.Join(parts, " UNION ALL "), func(i int, n int64) { checks[i].Rows = n }); err != nil {
		return nil, fmt.Errorf("count orphans: %w", err)
	}
	return checks, nil
}

// scanCounts runs a UNION of "SELECT <index>, count(*) …" and hands each count to set.
func scanCounts(ctx context.Context, tx pgx.Tx, sql string, set func(i int, n int64)) error {
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return err
	}
	var i int
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&i, &n}, func() error { set(i, n); return nil })
	return err
}

// ServerVersion returns the server's version ("15.18") and its number (150018).
func (s *Store) ServerVersion(ctx context.Context) (string, int, error) {
	var text string
	var num int
	if err := s.pool.QueryRow(ctx, sqlServerVersion).Scan(&text, &num); err != nil {
		return "", 0, fmt.Errorf("server version: %w", dbError(err))
	}
	return text, num, nil
}

// OpenSnapshot begins a REPEATABLE READ, read-only transaction, exports its
// snapshot for pg_dump (--snapshot) and reads the row counts of scope in it, so
// that a backup's manifest counts exactly what its dump holds. The transaction
// holds a connection until release, which may be called more than once.
func (s *Store) OpenSnapshot(ctx context.Context, scope integrity.Scope) (string, *integrity.Report, func(context.Context), error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return "", nil, nil, dbError(err)
	}
	var once sync.Once
	release := func(ctx context.Context) {
		once.Do(func() { _ = tx.Rollback(context.WithoutCancel(ctx)) })
	}
	var id string
	if _, err := tx.Exec(ctx, "SET LOCAL row_security = off"); err != nil {
		release(ctx)
		return "", nil, nil, dbError(err)
	}
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&id); err != nil {
		release(ctx)
		return "", nil, nil, dbError(err)
	}
	report, err := readIntegrity(ctx, tx, scope, false)
	if err != nil {
		release(ctx)
		return "", nil, nil, dbError(err)
	}
	return id, report, release, nil
}

// ExistingSchemas returns which of names are schemas of the database.
func (s *Store) ExistingSchemas(ctx context.Context, names []string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[]) ORDER BY 1`, names)
	if err != nil {
		return nil, dbError(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, dbError(err)
}

// Identity names the database: its name, its oid and the server's start time.
// Two URLs of one database (direct, or through a pooler) give the same identity.
func (s *Store) Identity(ctx context.Context) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, `
SELECT d.datname || '/' || d.oid::text || '@' || pg_postmaster_start_time()::text
FROM pg_database d WHERE d.datname = current_database()`).Scan(&id)
	return id, dbError(err)
}

// Migrate applies this service's pending migrations.
func (s *Store) Migrate(ctx context.Context) error {
	_, err := migrations.Up(ctx, s.pool)
	return err
}

// CreateDatabase creates an empty database on the server.
func (s *Store) CreateDatabase(ctx context.Context, name string) error {
	_, err := s.pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return dbError(err)
}

// DropDatabase drops a database of the server, closing its connections.
func (s *Store) DropDatabase(ctx context.Context, name string) error {
	_, err := s.pool.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return dbError(err)
}
