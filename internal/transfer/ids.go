package transfer

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/google/uuid"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

// newIDs makes the new ids of one import and remembers the file id each one
// replaces. An id is a version 8 UUID (RFC 9562): 90 random bits drawn once for
// the import, then the entity's ordinal in the last 32 bits. So
//   - ids of different imports differ in their random bits, as version 4 ids do,
//     with 90 bits instead of 122 (two imports share them with a chance of about
//     one in 10^27);
//   - the ids of one import sort in the order they were made, so each table's
//     rows go into its primary key's index side by side instead of scattered;
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

func makeNewIDs(capacity int) *newIDs {
	n := &newIDs{fileIDs: make([]string, 0, capacity)}
	_, _ = rand.Read(n.prefix[:])         // never fails (crypto/rand)
	n.prefix[6] = n.prefix[6]&0x0f | 0x80 // version 8
	n.prefix[8] = n.prefix[8]&0x3f | 0x80 // variant 10 (RFC 9562)
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
