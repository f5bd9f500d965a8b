// Package dbpool opens contentd's pgx pools in the query mode the connection
// allows. Behind a transaction pooler (Supabase's pooler on port 6543, PgBouncer
// with pool_mode=transaction) each transaction may run on another server
// connection, so pgx's default of named prepared statements fails ("prepared
// statement … does not exist"); there the pool uses unnamed statements instead.
package dbpool

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Pooler says what sits between contentd and PostgreSQL.
type Pooler string

const (
	// Auto takes the transaction pooler when the port is 6543, Supabase's
	// transaction pooler port, and a direct connection otherwise.
	Auto Pooler = ""
	// Direct is PostgreSQL itself, or a pooler in session mode: session state
	// and prepared statements last as long as the connection.
	Direct Pooler = "none"
	// Transaction is a pooler in transaction mode.
	Transaction Pooler = "transaction"
)

// TransactionPoolerPort is the port of Supabase's transaction pooler.
const TransactionPoolerPort = 6543

// ParsePooler reads DB_POOLER: "", "auto", "none", "session" or "transaction".
func ParsePooler(s string) (Pooler, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "none", "direct", "session":
		return Direct, nil
	case "transaction":
		return Transaction, nil
	}
	return Auto, fmt.Errorf("DB_POOLER=%q: want transaction, session, none or auto", s)
}

// Resolve turns Auto into Direct or Transaction for the connection string.
func (p Pooler) Resolve(url string) (Pooler, error) {
	if p != Auto {
		return p, nil
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return p, err
	}
	if cfg.Port == TransactionPoolerPort {
		return Transaction, nil
	}
	return Direct, nil
}

// Config parses the connection string into a pool configuration for the pooler.
// A default_query_exec_mode in the URL is kept: the operator chose it.
func Config(url string, p Pooler, maxConns int32) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.BuildFrontend = bufferedFrontend
	resolved, err := p.Resolve(url)
	if err != nil {
		return nil, err
	}
	if resolved == Transaction && !strings.Contains(url, "default_query_exec_mode") {
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
		cfg.ConnConfig.StatementCacheCapacity = 0
		cfg.ConnConfig.DescriptionCacheCapacity = 0
	}
	return cfg, nil
}

// New opens a pool for the pooler; see Config.
func New(ctx context.Context, url string, p Pooler, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := Config(url, p, maxConns)
	if err != nil {
		return nil, err
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// readBuffer is how much a connection reads from PostgreSQL at a time.
const readBuffer = 64 << 10

// bufferedFrontend is pgx's protocol reader behind a buffer of readBuffer
// bytes. pgx's own reads ask for 8 KiB at a time, the size of PostgreSQL's
// send buffer; a result that arrives faster than it is decoded (an export's
// rows) then takes one system call per 8 KiB. Through this buffer, one read
// takes whatever has arrived: an S export makes half as many reads. pgx
// looks past its reader only in PgConn.SyncConn (before a Hijack), which this
// service does not use.
func bufferedFrontend(r io.Reader, w io.Writer) *pgproto3.Frontend {
	return pgproto3.NewFrontend(bufio.NewReaderSize(r, readBuffer), w)
}
