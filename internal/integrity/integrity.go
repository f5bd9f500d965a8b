// Package integrity is the check that follows a restore (backup-e-restore.md,
// section 4): the row count of every table, the operators' six counts first,
// foreign keys whose parent row is gone, and the migration version; and the
// comparison of two such reports, or of a report with a backup's manifest.
package integrity

import (
	"time"
)

// CoreTables are the counts of the operators' procedure, in its order, with the
// names it gives them.
var CoreTables = []struct{ Table, Label string }{
	{"courses", "cursos"},
	{"modules", "modulos"},
	{"lessons", "aulas"},
	{"quizzes", "quizzes"},
	{"users", "usuarios"},
	{"certificates", "certificados"},
}

// AppSchema is the schema of the application's tables, the one CoreTables are in.
const AppSchema = "public"

// notCompared are tables whose rows are expected to differ between a backup and
// its restore: the migration log (compared as MigrationVersion instead) and the
// log of backup runs (kept out of backups).
var notCompared = map[string]bool{AppSchema + ".goose_db_version": true, AppSchema + ".backup_runs": true}

// Scope says which schemas a report or a backup covers: the named ones, or every
// schema of the database but PostgreSQL's own when All.
type Scope struct {
	Schemas []string `json:"schemas,omitempty"`
	All     bool     `json:"allSchemas,omitempty"`
}

// Report is the state of a database at one moment.
type Report struct {
	TakenAt       time.Time `json:"takenAt"`
	ServerVersion string    `json:"serverVersion"`
	// MigrationVersion is the newest applied migration of this service; 0 when
	// the database has never been migrated.
	MigrationVersion int64 `json:"migrationVersion"`
	// Tables are the row counts, CoreTables first in their order, then the rest
	// by schema and name.
	Tables []TableCount `json:"tables"`
	// Orphans are the foreign-key checks, when they were run.
	Orphans []OrphanCheck `json:"orphans,omitempty"`
}

// TableCount is the number of rows of one table.
type TableCount struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	// Label is the operators' name of a core table ("cursos"); empty for the others.
	Label string `json:"label,omitempty"`
}

// Qualified is "schema.name".
func (t TableCount) Qualified() string { return t.Schema + "." + t.Name }

// OrphanCheck is one foreign key checked for rows whose parent is gone: rows of
// Table whose Columns are all set but match no row of Parent. PostgreSQL keeps
// these at zero while the constraint is enforced; a restore with triggers off, a
// constraint added NOT VALID or a dropped one can leave some.
type OrphanCheck struct {
	Constraint string   `json:"constraint"`
	Table      string   `json:"table"`
	Columns    []string `json:"columns"`
	Parent     string   `json:"parent"`
	Rows       int64    `json:"rows"`
}

// OrphanRows is the number of rows, over every check, whose parent is gone.
func (r *Report) OrphanRows() int64 {
	var n int64
	for _, o := range r.Orphans {
		n += o.Rows
	}
	return n
}

// Order sorts tables as reports show them: the core tables first, labelled, in
// the procedure's order, then the others by schema and name (as they come).
func Order(tables []TableCount) []TableCount {
	out := make([]TableCount, 0, len(tables))
	taken := make([]bool, len(tables))
	for _, core := range CoreTables {
		for i, t := range tables {
			if !taken[i] && t.Schema == AppSchema && t.Name == core.Table {
				t.Label = core.Label
				out = append(out, t)
				taken[i] = true
			}
		}
	}
	for i, t := range tables {
		if !taken[i] {
			t.Label = ""
			out = append(out, t)
		}
	}
	return out
}
