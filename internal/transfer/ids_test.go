package transfer

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"
)

func TestNewIDs(t *testing.T) {
	a, b := makeNewIDs(0), makeNewIDs(0)
	var made []string
	for i := range 3000 { // more than one block of text
		made = append(made, a.next(fmt.Sprint("arquivo-", i)))
	}
	if !slices.IsSorted(made) {
		t.Error("the ids of one import do not sort in the order they were made")
	}
	seen := map[string]bool{}
	for i, id := range made {
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 8 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("id %d %q: version %v, variant %v, err %v", i, id, u.Version(), u.Variant(), err)
		}
		if seen[id] {
			t.Fatalf("id %d %q made twice", i, id)
		}
		seen[id] = true
		if fileID, ok := a.fileID(id); !ok || fileID != fmt.Sprint("arquivo-", i) {
			t.Fatalf("fileID(%q) = %q, %v", id, fileID, ok)
		}
	}
	other := b.next("arquivo-0")
	for _, id := range []string{other, uuid.NewString(), "não é um id", made[0][:28] + "ffffffff"} { // the last: an ordinal not made
		if fileID, ok := a.fileID(id); ok {
			t.Errorf("fileID(%q) = %q: an id this import did not make", id, fileID)
		}
	}
	if other[:28] == made[0][:28] {
		t.Error("two imports share their random bits")
	}
}
