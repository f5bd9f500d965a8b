package load_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/educacao-continuada/content-transfer/internal/load"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestTwoReplicasUnderMixedLoad: 32 clients for a few seconds against two
// `contentd serve` processes on one database (through PgBouncer too, in
// make test-pooler). The rates are for docs/benchmarks.md (contentbench
// -load); here only the outcome counts.
func TestTwoReplicasUnderMixedLoad(t *testing.T) {
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "contentd")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/contentd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	url := pgtest.NewDBURL(t)
	pool := pgtest.Open(t, url)
	fx, err := load.NewFixture(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	opt := load.Options{Token: fx.Token, Clients: 32, Duration: 5 * time.Second, Seed: 1, Files: fx.Files}
	for range 2 {
		r, err := load.StartReplica(ctx, bin, append([]string{"DATABASE_URL=" + url, "SUPABASE_JWT_SECRET=" + fx.Secret, "DB_MAX_CONNS=8"}, pgtest.PoolerEnv()...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := r.Stop(); err != nil {
				t.Errorf("replica exit: %v\n%s", err, r.Output())
			}
			if out := r.Output(); strings.Contains(out, `"level":"ERROR"`) {
				t.Errorf("a replica logged errors:\n%s", out)
			}
		})
		opt.Targets = append(opt.Targets, r.URL)
	}

	before, err := load.Deadlocks(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	res, err := load.Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	var report strings.Builder
	res.WriteMarkdown(&report, opt)
	t.Log("\n" + report.String())
	for _, p := range res.Problems {
		t.Error(p)
	}
	for _, p := range load.Check(ctx, pool, opt, res, before) {
		t.Error(p)
	}
	if len(res.Applied) == 0 || res.Calls() < 100 {
		t.Errorf("the load did little: %d calls, %d applies", res.Calls(), len(res.Applied))
	}
}
