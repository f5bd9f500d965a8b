package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/educacao-continuada/content-transfer/internal/config"
	"github.com/educacao-continuada/content-transfer/internal/dbpool"
	"github.com/educacao-continuada/content-transfer/internal/integrity"
)

func TestLoadBackupCommands(t *testing.T) {
	vars := env(map[string]string{
		"DATABASE_URL":        "postgres://pooler@h:6543/db",
		"BACKUP_DATABASE_URL": "postgres://direct@h:5432/db",
		"BACKUP_DEST":         "s3://bucket/prefix",
		"BACKUP_KEEP":         "8",
		"STAGING_URL":         "postgres://staging@h/db",
	})
	run, err := config.LoadBackupRun([]string{"-schemas", "public, lms", "-keep", "2"}, vars)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Backup{URL: "postgres://direct@h:5432/db", Dest: "s3://bucket/prefix", Keep: 2,
		Scope: integrity.Scope{Schemas: []string{"public", "lms"}}}
	if diff := cmp.Diff(want, run.Backup); diff != "" {
		t.Errorf("backup (-want +got):\n%s", diff)
	}
	if all, err := config.LoadBackupRun([]string{"-all-schemas"}, vars); err != nil || !all.Scope.All || all.Scope.Schemas != nil {
		t.Errorf("-all-schemas: %+v, %v", all, err)
	}

	// Flags after the backup's name, a path for a name, env: for a URL.
	v, err := config.LoadBackupVerify([]string{"/var/backups/backup-20261129-030000.dump", "-test-restore", "env:STAGING_URL"}, vars)
	if err != nil {
		t.Fatal(err)
	}
	if v.Dest != "/var/backups" || v.Name != "backup-20261129-030000.dump" || v.TestRestore != "postgres://staging@h/db" {
		t.Errorf("verify: %+v", v)
	}
	if l, err := config.LoadBackupVerify([]string{"-latest"}, vars); err != nil || !l.Latest || l.Dest != "s3://bucket/prefix" {
		t.Errorf("verify -latest: %+v, %v", l, err)
	}
	r, err := config.LoadRestore([]string{"backup-20261129-030000", "-target-url", "postgres://novo@h/db", "-clean"}, vars)
	if err != nil {
		t.Fatal(err)
	}
	if r.Dest != "s3://bucket/prefix" || r.Name != "backup-20261129-030000" || r.Target != "postgres://novo@h/db" || !r.Clean ||
		r.URL != "postgres://pooler@h:6543/db" {
		t.Errorf("restore: %+v", r)
	}
	m, err := config.LoadMigrate([]string{"-backup-first"}, env(map[string]string{"DATABASE_URL": "postgres://x@h/db"}))
	if err != nil || !m.BackupFirst || m.Backup.Keep != 4 || m.Backup.Dest != "./backups" {
		t.Errorf("migrate -backup-first: %+v, %v", m, err)
	}
	m, err = config.LoadMigrate(nil, env(map[string]string{"DATABASE_URL": "postgres://x@h/db", "MIGRATE_BACKUP_FIRST": "true"}))
	if err != nil || !m.BackupFirst {
		t.Errorf("MIGRATE_BACKUP_FIRST=true: %+v, %v", m, err)
	}
	rc, err := config.LoadReleaseCheck([]string{"-staging-url", "env:STAGING_URL", "-courses", "a,b"}, vars)
	if err != nil || rc.Staging != "postgres://staging@h/db" || !cmp.Equal(rc.Courses, []string{"a", "b"}) {
		t.Errorf("release-check: %+v, %v", rc, err)
	}
	i, err := config.LoadIntegrity([]string{"-json", "-manifest", "m.json"}, vars)
	if err != nil || !i.JSON || i.Manifest != "m.json" || i.URL != "postgres://pooler@h:6543/db" {
		t.Errorf("integrity: %+v, %v", i, err)
	}
}

func TestLoadBackupCommandsReject(t *testing.T) {
	vars := env(map[string]string{"DATABASE_URL": "postgres://x@h/db"})
	tests := []struct {
		name string
		load func() error
		want string
	}{
		{"negative keep", func() error { _, err := config.LoadBackupRun([]string{"-keep", "-1"}, vars); return err }, "keep must not be negative"},
		{"no schemas", func() error { _, err := config.LoadBackupRun([]string{"-schemas", " , "}, vars); return err }, "schemas must name"},
		{"no database", func() error { _, err := config.LoadBackupRun(nil, env(nil)); return err }, "DATABASE_URL"},
		{"verify nothing", func() error { _, err := config.LoadBackupVerify(nil, vars); return err }, "name one backup, or -latest"},
		{"verify two", func() error { _, err := config.LoadBackupVerify([]string{"a", "b"}, vars); return err }, "unexpected arguments: b"},
		{"restore without target", func() error { _, err := config.LoadRestore([]string{"backup-x"}, vars); return err }, "-target-url is required"},
		{"unset env: URL", func() error { _, err := config.LoadRestore([]string{"b", "-target-url", "env:NOPE"}, vars); return err }, "NOPE is not set"},
		{"release-check without staging", func() error { _, err := config.LoadReleaseCheck(nil, vars); return err }, "-staging-url is required"},
		{"compare and manifest", func() error {
			_, err := config.LoadIntegrity([]string{"-compare", "postgres://y@h/d", "-manifest", "m.json"}, vars)
			return err
		}, "not both"},
		{"bad bool", func() error {
			_, err := config.LoadMigrate(nil, env(map[string]string{"DATABASE_URL": "x", "MIGRATE_BACKUP_FIRST": "sim"}))
			return err
		}, "MIGRATE_BACKUP_FIRST"},
	}
	for _, tt := range tests {
		if err := tt.load(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestTheTransactionPoolerIsForServeOnly(t *testing.T) {
	pooled := map[string]string{"DATABASE_URL": "postgres://u@aws-0-sa-east-1.pooler.supabase.com:6543/postgres", "SUPABASE_JWT_SECRET": strings.Repeat("s", 32)}
	explicit := map[string]string{"DATABASE_URL": "postgres://u@pgbouncer:5432/postgres", "DB_POOLER": "transaction", "SUPABASE_JWT_SECRET": strings.Repeat("s", 32)}
	with := func(base map[string]string, extra ...string) config.Getenv {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return env(m)
	}
	for name, vars := range map[string]map[string]string{"port 6543": pooled, "DB_POOLER=transaction": explicit} {
		t.Run(name, func(t *testing.T) {
			s, err := config.LoadServe(nil, with(vars))
			if err != nil {
				t.Fatalf("serve through the pooler: %v", err)
			}
			if p, err := s.Database.Pooler.Resolve(s.Database.URL); err != nil || p != dbpool.Transaction {
				t.Errorf("serve's pooler: %q, %v", p, err)
			}
			refused := map[string]func() error{
				"backup":  func() error { _, err := config.LoadBackupRun(nil, with(vars)); return err },
				"migrate": func() error { _, err := config.LoadMigrate(nil, with(vars)); return err },
				"release-check": func() error {
					_, err := config.LoadReleaseCheck([]string{"-staging-url", "postgres://s@h/db"}, with(vars))
					return err
				},
				"scheduled backup": func() error { _, err := config.LoadServe(nil, with(vars, "BACKUP_SCHEDULE", "0 3 * * 0")); return err },
			}
			for what, load := range refused {
				if err := load(); err == nil || !strings.Contains(err.Error(), "transaction pooler") {
					t.Errorf("%s through the transaction pooler: %v", what, err)
				}
			}
			// The direct connection beside it makes backups possible again.
			direct := with(vars, "BACKUP_DATABASE_URL", "postgres://u@db.ref.supabase.co:5432/postgres", "BACKUP_SCHEDULE", "0 3 * * 0")
			if _, err := config.LoadServe(nil, direct); err != nil {
				t.Errorf("scheduled backup with BACKUP_DATABASE_URL: %v", err)
			}
			if _, err := config.LoadBackupRun(nil, direct); err != nil {
				t.Errorf("backup with BACKUP_DATABASE_URL: %v", err)
			}
		})
	}
	if _, err := config.LoadServe(nil, with(explicit, "DB_POOLER", "statement")); err == nil || !strings.Contains(err.Error(), "DB_POOLER") {
		t.Errorf("DB_POOLER=statement: %v", err)
	}
	if _, err := config.LoadMigrate(nil, with(pooled, "DB_POOLER", "session")); err != nil {
		t.Errorf("migrate through a session pooler on 6543 declared as such: %v", err)
	}
}
