package store

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// rawRow reads each type an export reads in either format PostgreSQL sends
// it (binary in pgx's default mode, text in the modes a pooler needs), and
// refuses a column of another type or NULL where the type cannot be.
func TestRawRowDecodesBothFormats(t *testing.T) {
	pool := pgtest.NewDB(t)
	const id = "0b9f4e8e-8a3c-4b7e-9d6f-2f1c3a5b7d90"
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		read := func(sql string, each func(r *rawRow)) error {
			rows, err := pool.Query(context.Background(), sql, mode)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var r rawRow
			r.start(rows)
			for rows.Next() {
				r.next(rows)
				each(&r)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return r.err
		}
		err := read(`SELECT '`+id+`'::uuid, NULL::uuid, (-2147483648)::int4, true, false, 'ação "x"'::text, 'v'::varchar, ARRAY['a', 'b c', '"']::text[]`,
			func(r *rawRow) {
				got, ok := r.uuid(0)
				_, null := r.uuid(1)
				var list []string
				for _, b := range r.texts(7) {
					list = append(list, string(b))
				}
				if got != uuid.MustParse(id) || !ok || null || r.int32(2) != -2147483648 || !r.bool(3) || r.bool(4) ||
					string(r.text(5)) != `ação "x"` || string(r.text(6)) != "v" || strings.Join(list, "|") != `a|b c|"` {
					t.Errorf("mode %v: read %v %v %v %d %v %v %q %q %q", mode, got, ok, null, r.int32(2), r.bool(3), r.bool(4), r.text(5), r.text(6), list)
				}
			})
		if err != nil {
			t.Errorf("mode %v: %v", mode, err)
		}
		// Arrays of text: empty, NULL (no elements), varchar.
		err = read(`SELECT '{}'::text[], NULL::text[], ARRAY['x', '']::varchar[], ARRAY['só']::text[]`, func(r *rawRow) {
			if n := len(r.texts(0)); n != 0 {
				t.Errorf("mode %v: %d elements in an empty array", mode, n)
			}
			if n := len(r.texts(1)); n != 0 {
				t.Errorf("mode %v: %d elements in NULL", mode, n)
			}
			if got := r.texts(2); len(got) != 2 || string(got[0]) != "x" || string(got[1]) != "" {
				t.Errorf("mode %v: varchar array read as %q", mode, got)
			}
			if got := r.texts(3); len(got) != 1 || string(got[0]) != "só" {
				t.Errorf("mode %v: text array read as %q", mode, got)
			}
		})
		if err != nil {
			t.Errorf("mode %v: %v", mode, err)
		}
		for _, bad := range []struct {
			sql  string
			read func(r *rawRow)
		}{
			{`SELECT 1::int8 AS n`, func(r *rawRow) { r.int32(0) }},
			{`SELECT NULL::int4 AS n`, func(r *rawRow) { r.int32(0) }},
			{`SELECT 'x'::text AS n`, func(r *rawRow) { r.uuid(0) }},
			{`SELECT NULL::text AS n`, func(r *rawRow) { r.text(0) }},
			{`SELECT 1::int4 AS n`, func(r *rawRow) { r.text(0) }},
			{`SELECT NULL::boolean AS n`, func(r *rawRow) { r.bool(0) }},
			{`SELECT ARRAY['a', NULL]::text[] AS n`, func(r *rawRow) { r.texts(0) }},
			{`SELECT ARRAY[1]::int4[] AS n`, func(r *rawRow) { r.texts(0) }},
		} {
			if err := read(bad.sql, bad.read); err == nil || !strings.Contains(err.Error(), "column n") {
				t.Errorf("mode %v: %s: err %v, want an error naming the column", mode, bad.sql, err)
			}
		}
	}
}
