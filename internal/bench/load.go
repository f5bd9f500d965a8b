package bench

// The mixed load of several replicas on one database (package load), with the
// cluster, database and binary of a benchmark run.

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/load"
	"github.com/educacao-continuada/content-transfer/internal/pgcluster"
)

// LoadOptions shape RunLoad.
type LoadOptions struct {
	// Contentd is the binary each replica runs.
	Contentd string
	Replicas int
	Clients  int
	Duration time.Duration
	// DBConns is each replica's pool size (DB_MAX_CONNS).
	DBConns int
}

// LoadReport is a load run and what the database check found.
type LoadReport struct {
	Options  load.Options
	Result   *load.Result
	Problems []string // of the check of the database
}

// RunLoad starts a cluster, a database holding the demo course and Replicas
// `contentd serve` processes on it, drives the mixed load (the demo and three
// generated S courses, applied, analysed and exported), then checks the database.
func RunLoad(ctx context.Context, opt LoadOptions) (*LoadReport, error) {
	cluster, err := pgcluster.Start()
	if err != nil {
		return nil, err
	}
	defer cluster.Stop()
	r := &runner{cluster: cluster}
	pool, err := r.newDB(ctx, benchDB)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	fx, err := load.NewFixture(ctx, pool)
	if err != nil {
		return nil, err
	}
	lo := load.Options{Clients: opt.Clients, Duration: opt.Duration, Seed: 1, Files: fx.Files, Token: fx.Token}
	for range opt.Replicas {
		rep, err := load.StartReplica(ctx, opt.Contentd, "DATABASE_URL="+cluster.URL(benchDB), "SUPABASE_JWT_SECRET="+fx.Secret,
			"DB_MAX_CONNS="+strconv.Itoa(opt.DBConns))
		if err != nil {
			return nil, err
		}
		defer func() { _ = rep.Stop() }()
		lo.Targets = append(lo.Targets, rep.URL)
	}
	before, err := load.Deadlocks(ctx, pool)
	if err != nil {
		return nil, err
	}
	res, err := load.Run(ctx, lo)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return &LoadReport{Options: lo, Result: res, Problems: load.Check(ctx, pool, lo, res, before)}, nil
}
