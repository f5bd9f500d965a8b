package transfer

import (
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/google/uuid"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

// newIDs makes the new ids of one import and remembers the file id each one
// replaces. An id is a version 7 UUID (RFC 9562): the import's start in Unix
// milliseconds, 42 random bits drawn once for the import, then the entity's
// ordinal in the last 32 bits (rand_b used as a counter, as the RFC allows). So
//   - ids of different imports differ in their time or their random bits (two
//     imports started in the same millisecond share both with a chance of about
//     one in 4×10^12);
//   - the ids of one import sort in the order they were made, and after those of
//     the imports before it: each table's rows go to the right edge of its
//     primary key's index, where PostgreSQL inserts without descending the tree
//     (its fastpath for a growing key), not into a random place of an index that
//     holds every other course;
//   - the file id behind a new id is found from its ordinal, without a map of
//     every id (a large course has hundreds of thousands);
//   - the ids' text is packed into shared blocks, 36 bytes each; the file ids
//     are kept as the file gave them (the decoder's strings), and the id map's
//     entries of the entities every import creates are their ordinals (see
//     createdEntry).
type newIDs struct {
	prefix  [12]byte
	fileIDs []string         // by ordinal
	text    textblock.Blocks // the ids' text
}

func makeNewIDs(capacity int) *newIDs { return newIDsAt(capacity, time.Now()) }

// newIDsAt makes the ids of an import started at start.
func newIDsAt(capacity int, start time.Time) *newIDs {
	n := &newIDs{fileIDs: make([]string, 0, capacity)}
	binary.BigEndian.PutUint64(n.prefix[:8], uint64(start.UnixMilli())<<16) // 48 bits of milliseconds
	_, _ = rand.Read(n.prefix[6:])                                          // never fails (crypto/rand)
	n.prefix[6] = n.prefix[6]&0x0f | 0x70                                   // version 7
	n.prefix[8] = n.prefix[8]&0x3f | 0x80                                   // variant 10 (RFC 9562)
	return n
}

// next returns the id of the next entity, whose id in the file is fileID, and
// its ordinal.
func (n *newIDs) next(fileID string) (string, uint32) {
	ordinal := uint32(len(n.fileIDs))
	n.fileIDs = append(n.fileIDs, fileID)
	return n.text.UUID(n.uuid(ordinal)), ordinal
}

// uuid is the id of the entity with this ordinal.
func (n *newIDs) uuid(ordinal uint32) uuid.UUID {
	var u uuid.UUID
	copy(u[:12], n.prefix[:])
	binary.BigEndian.PutUint32(u[12:], ordinal)
	return u
}

// entry is the id map entry of a created entity, its id's text written in text.
func (n *newIDs) entry(e createdEntry, text *textblock.Blocks) idMapEntry {
	return idMapEntry{kind: e.kind, fileID: n.fileIDs[e.ordinal], id: text.UUID(n.uuid(e.ordinal)),
		outcome: contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_CREATED}
}

// fileID returns the id in the file of the entity given id by this import.
func (n *newIDs) fileID(id string) (string, bool) {
	u, err := uuid.Parse(id)
	if err != nil || [12]byte(u[:12]) != n.prefix {
		return "", false
	}
	ordinal := binary.BigEndian.Uint32(u[12:])
	if int64(ordinal) >= int64(len(n.fileIDs)) {
		return "", false
	}
	return n.fileIDs[ordinal], true
}
