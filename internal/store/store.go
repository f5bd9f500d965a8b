// Package store is the SQL over pgx that the transfer service needs: one file per
// table family, parameterised statements only. It implements the interfaces that
// package transfer owns and turns pgx.ErrNoRows into fault.ErrNotFound.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// Store reads and writes course content in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store over pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return dbError(s.pool.Ping(ctx))
}

// dbError marks the errors that mean "the database cannot be reached" (no
// connection, server shutting down or starting) as fault.ErrUnavailable, so that
// callers learn to retry rather than that something broke.
func dbError(err error) error {
	if err == nil || errors.Is(err, fault.ErrUnavailable) {
		return err
	}
	var connErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &connErr),
		errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P03"):
		return fmt.Errorf("%w: %w", fault.ErrUnavailable, err)
	}
	return err
}

// transactRetries bounds the retries of a transaction that lost a race.
const transactRetries = 3

// transact runs fn in a read-write transaction: rollback on error, commit otherwise,
// and a retry (with a short backoff) when PostgreSQL reports a serialization
// failure or deadlock, which only means the transaction lost a race. It returns
// the value of the attempt that ended it.
func transact[T any](ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) (T, error)) (T, error) {
	return runTx(ctx, pool, isRetryable, func(tx pgx.Tx) (T, bool, error) {
		v, err := fn(tx)
		return v, true, err
	})
}

// runTx runs fn in a read-write transaction, committed when fn returns commit
// and no error, rolled back otherwise, and runs it again (up to transactRetries
// times) while retry says the failure was a lost race. Every attempt starts
// afresh and returns its own value; runTx returns the last one, with its error.
func runTx[T any](ctx context.Context, pool *pgxpool.Pool, retry func(error) bool, fn func(pgx.Tx) (v T, commit bool, err error)) (T, error) {
	var (
		v   T
		err error
	)
	for attempt := 0; attempt <= transactRetries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return v, ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 10 * time.Millisecond):
			}
		}
		v, err = runTxOnce(ctx, pool, fn)
		if err == nil || !retry(err) {
			return v, dbError(err)
		}
	}
	return v, fmt.Errorf("transaction failed after %d retries: %w", transactRetries, dbError(err))
}

func runTxOnce[T any](ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) (T, bool, error)) (T, error) {
	var zero T
	tx, err := pool.Begin(ctx)
	if err != nil {
		return zero, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	v, commit, err := fn(tx)
	if err != nil {
		return v, err
	}
	if !commit {
		return v, tx.Rollback(ctx)
	}
	return v, tx.Commit(ctx)
}

func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}
