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
// failure or deadlock, which only means the transaction lost a race.
func (s *Store) transact(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.runTx(ctx, false, isRetryable, fn)
}

// runTx runs fn in a read-write transaction, committed unless rollbackOnly or fn
// fails, and runs it again (up to transactRetries times) while retry says the
// failure was a lost race.
func (s *Store) runTx(ctx context.Context, rollbackOnly bool, retry func(error) bool, fn func(pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt <= transactRetries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 10 * time.Millisecond):
			}
		}
		err = s.runTxOnce(ctx, rollbackOnly, fn)
		if err == nil || !retry(err) {
			return dbError(err)
		}
	}
	return fmt.Errorf("transaction failed after %d retries: %w", transactRetries, dbError(err))
}

func (s *Store) runTxOnce(ctx context.Context, rollbackOnly bool, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if rollbackOnly {
		return tx.Rollback(ctx)
	}
	return tx.Commit(ctx)
}

func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}
