package transfer

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

func TestNewIDs(t *testing.T) {
	start := time.Date(2026, 12, 4, 18, 30, 0, 123_000_000, time.UTC)
	a, b := newIDsAt(0, start), newIDsAt(0, start)
	var made []string
	for i := range 3000 { // more than one block of text
		id, ordinal := a.next(fmt.Sprint("arquivo-", i))
		if ordinal != uint32(i) {
			t.Fatalf("id %d has ordinal %d", i, ordinal)
		}
		made = append(made, id)
	}
	if !slices.IsSorted(made) {
		t.Error("the ids of one import do not sort in the order they were made")
	}
	seen := map[string]bool{}
	for i, id := range made {
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("id %d %q: version %v, variant %v, err %v", i, id, u.Version(), u.Variant(), err)
		}
		if at := time.Unix(u.Time().UnixTime()); !at.Equal(start) {
			t.Fatalf("id %d %q says it was made at %v, not at the import's start %v", i, id, at, start)
		}
		if seen[id] {
			t.Fatalf("id %d %q made twice", i, id)
		}
		seen[id] = true
		if fileID, ok := a.fileID(id); !ok || fileID != fmt.Sprint("arquivo-", i) {
			t.Fatalf("fileID(%q) = %q, %v", id, fileID, ok)
		}
	}
	var text textblock.Blocks
	if e := a.entry(createdEntry{ordinal: 2999, kind: kindOption}, &text); e.id != made[2999] || e.fileID != "arquivo-2999" ||
		e.kind != kindOption || e.outcome != contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_CREATED {
		t.Errorf("entry of the last id = %+v", e)
	}
	other, _ := b.next("arquivo-0")
	for _, id := range []string{other, uuid.NewString(), "não é um id", made[0][:28] + "ffffffff"} { // the last: an ordinal not made
		if fileID, ok := a.fileID(id); ok {
			t.Errorf("fileID(%q) = %q: an id this import did not make", id, fileID)
		}
	}
	if other[:28] == made[0][:28] {
		t.Error("two imports started in the same millisecond share their random bits")
	}
	// A later import's ids sort after every id of an earlier one, its first
	// one included: its rows go to the right edge of each index.
	later, _ := newIDsAt(0, start.Add(time.Millisecond)).next("arquivo-0")
	if later <= made[len(made)-1] {
		t.Errorf("the first id of a later import, %s, does not sort after the last of an earlier one, %s", later, made[len(made)-1])
	}
}
