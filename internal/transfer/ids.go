package transfer

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/google/uuid"

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
//   - the ids' text is packed into shared blocks, 36 bytes each, and so is a copy
//     of the file ids, which outlive the parsed course (in the id map of the
//     response) and must not keep its memory alive.
type newIDs struct {
	prefix  [12]byte
	fileIDs []string         // by ordinal
	text    textblock.Blocks // the ids' text and the copies of the file ids
}

func makeNewIDs(capacity int) *newIDs {
	n := &newIDs{fileIDs: make([]string, 0, capacity)}
	_, _ = rand.Read(n.prefix[:])         // never fails (crypto/rand)
	n.prefix[6] = n.prefix[6]&0x0f | 0x80 // version 8
	n.prefix[8] = n.prefix[8]&0x3f | 0x80 // variant 10 (RFC 9562)
	return n
}

// next returns the id of the next entity, whose id in the file is fileID.
func (n *newIDs) next(fileID string) string {
	var u uuid.UUID
	copy(u[:12], n.prefix[:])
	binary.BigEndian.PutUint32(u[12:], uint32(len(n.fileIDs)))
	n.fileIDs = append(n.fileIDs, n.text.Copy(fileID))
	return n.text.UUID(u)
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
