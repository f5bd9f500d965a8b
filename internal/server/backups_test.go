package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/backup"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
	"github.com/educacao-continuada/content-transfer/internal/pgtools"
	"github.com/educacao-continuada/content-transfer/internal/store"
)

func TestIntegrityReportOverGRPCAndREST(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	client := contentv1.NewBackupServiceClient(e.conn)

	got, err := client.GetIntegrityReport(ctx, &contentv1.GetIntegrityReportRequest{})
	if err != nil {
		t.Fatal(err)
	}
	r := got.GetReport()
	var labels []string
	counts := map[string]int64{}
	for _, tc := range r.GetTables() {
		if tc.GetLabel() != "" {
			labels = append(labels, tc.GetLabel())
		}
		counts[tc.GetName()] = tc.GetRows()
	}
	if strings.Join(labels, ",") != "cursos,modulos,aulas,quizzes,usuarios,certificados" || r.GetTables()[0].GetName() != "courses" {
		t.Errorf("core tables %v", labels)
	}
	if counts["courses"] != 1 || counts["modules"] == 0 || counts["lessons"] == 0 || counts["users"] != 0 {
		t.Errorf("counts %v", counts)
	}
	if r.GetMigrationVersion() < 6 || len(r.GetOrphanChecks()) < 20 || r.GetOrphanRows() != 0 || r.GetTakenAt() == nil {
		t.Errorf("report: migration %d, %d orphan checks, %d orphan rows", r.GetMigrationVersion(), len(r.GetOrphanChecks()), r.GetOrphanRows())
	}

	resp, body := e.get(t, "/gestor/integrity")
	var rest contentv1.GetIntegrityReportResponse
	if resp.StatusCode != http.StatusOK || protojson.Unmarshal(body, &rest) != nil {
		t.Fatalf("GET /gestor/integrity = %d %s", resp.StatusCode, body)
	}
	if len(rest.GetReport().GetTables()) != len(r.GetTables()) || rest.GetReport().GetTables()[0].GetLabel() != "cursos" {
		t.Errorf("REST report differs from gRPC's: %s", body)
	}
	// Every report is audited, with who asked.
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM audit_logs WHERE action = $1 AND actor_id = '5e0b3b1a-gestora' AND outcome = 'OK'`,
		integrity.ActionReport).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d audit rows for two reports (%v)", n, err)
	}

	// Gestor and admin only.
	claims := e.keys.gestorClaims()
	claims["app_metadata"] = map[string]any{"role": "aluno"}
	for auth, want := range map[string]int{"": http.StatusUnauthorized, "Bearer " + e.keys.token(t, claims): http.StatusForbidden} {
		resp, body := e.do(t, http.MethodGet, "/gestor/integrity", nil, map[string]string{"Authorization": auth})
		if resp.StatusCode != want {
			t.Errorf("GET /gestor/integrity with %.20q = %d, want %d: %s", auth, resp.StatusCode, want, body)
		}
	}
	if _, err := contentv1.NewBackupServiceClient(e.anon).GetIntegrityReport(ctx, &contentv1.GetIntegrityReportRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC without a token: %v", err)
	}
}

// makeBackup takes a manual backup of the test database into the server's destination.
func makeBackup(t *testing.T, e *env) *backup.Result {
	t.Helper()
	conn, err := pgtools.ParseConn(pgtest.DirectURL(e.pool.Config().ConnString()))
	if err != nil {
		t.Fatal(err)
	}
	runner := &backup.Runner{Tools: pgtools.DefaultLocator(), Version: "test", Log: slog.New(slog.DiscardHandler),
		Open: func(ctx context.Context, c pgtools.Conn) (backup.DB, func(), error) {
			pool, err := pgxpool.New(ctx, c.URL())
			if err != nil {
				return nil, nil, err
			}
			return store.New(pool), pool.Close, nil
		}}
	res, err := runner.Backup(context.Background(), conn, backup.Options{Dest: e.backups, Scope: integrity.Scope{Schemas: []string{"public"}}, Keep: 4, Trigger: backup.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestListBackupsAndReadiness(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	res := makeBackup(t, e)
	// A scheduled run that failed after it.
	if _, err := e.pool.Exec(ctx, `INSERT INTO backup_runs (trigger, slot, runner, started_at, finished_at, status, destination, error_code, error_detail)
		VALUES ('SCHEDULE', now(), 'outra-replica:1', now() + interval '1 second', now() + interval '2 seconds', 'FAILED', 'x', 'DUMP_FAILED', 'pg_dump: error: boom')`); err != nil {
		t.Fatal(err)
	}

	client := contentv1.NewBackupServiceClient(e.conn)
	list, err := client.ListBackups(ctx, &contentv1.ListBackupsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	b := list.GetBackups()
	if len(b) != 1 || b[0].GetName() != res.Manifest.Name || b[0].GetSha256() != res.Manifest.SHA256 || b[0].GetSizeBytes() != res.Manifest.SizeBytes ||
		b[0].GetTrigger() != contentv1.BackupTrigger_BACKUP_TRIGGER_MANUAL || b[0].GetMigrationVersion() < 6 {
		t.Errorf("backups %v", b)
	}
	runs := list.GetRuns()
	if len(runs) != 2 || runs[0].GetStatus() != contentv1.BackupRunStatus_BACKUP_RUN_STATUS_FAILED ||
		runs[0].GetErrorCode() != "DUMP_FAILED" || runs[0].GetErrorMessage() != backup.FailureMessage("DUMP_FAILED") ||
		runs[1].GetStatus() != contentv1.BackupRunStatus_BACKUP_RUN_STATUS_SUCCEEDED || runs[1].GetBackupName() != res.Manifest.Name {
		t.Errorf("runs %v", runs)
	}
	if strings.Contains(protojson.Format(list), "boom") {
		t.Error("ListBackups shows the operators' error detail to managers")
	}
	sched := list.GetSchedule()
	if sched.GetCron() != "0 3 * * 0" || sched.GetTimeZone() != "America/Sao_Paulo" || !sched.GetNextRunAt().AsTime().After(time.Now()) {
		t.Errorf("schedule %v", sched)
	}
	if list.GetLastSuccessAt() == nil || list.GetKeep() != 4 || list.GetDestination() == "" {
		t.Errorf("last success %v, keep %d, destination %q", list.GetLastSuccessAt(), list.GetKeep(), list.GetDestination())
	}

	resp, body := e.get(t, "/gestor/backups?runLimit=1")
	var rest contentv1.ListBackupsResponse
	if resp.StatusCode != http.StatusOK || protojson.Unmarshal(body, &rest) != nil || len(rest.GetRuns()) != 1 || len(rest.GetBackups()) != 1 {
		t.Fatalf("GET /gestor/backups?runLimit=1 = %d %s", resp.StatusCode, body)
	}
	resp, body = e.get(t, "/gestor/backups?runLimit=500")
	var eb struct{ Code, Path string }
	if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &eb) != nil || eb.Code != "INVALID_RUN_LIMIT" || eb.Path != "runLimit" {
		t.Errorf("runLimit=500: %d %s", resp.StatusCode, body)
	}

	// Readiness says how the last run ended, and stays ready.
	resp, body = e.get(t, "/readyz")
	var ready struct {
		Status  string
		Backups struct {
			Schedule      string
			LastRun       struct{ Status, ErrorCode string }
			LastSuccessAt time.Time
		}
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &ready) != nil || ready.Status != "ok" ||
		ready.Backups.LastRun.Status != "FAILED" || ready.Backups.LastRun.ErrorCode != "DUMP_FAILED" ||
		ready.Backups.LastSuccessAt.IsZero() || ready.Backups.Schedule != "0 3 * * 0" {
		t.Errorf("GET /readyz = %d %s", resp.StatusCode, body)
	}
	h, err := healthpb.NewHealthClient(e.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: contentv1.BackupService_ServiceDesc.ServiceName})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health of the backup service: %v %v", h, err)
	}
}
