package coursefile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// Digest is the SHA-256 (hex) of the deterministic protobuf encoding of the
// file's formatVersion and course. Whitespace, key order, unknown fields, the export
// time and the source do not change it: two files with the same content have the
// same digest.
//
// The encoding is hashed as it is produced, one module, competency, bank
// question and FAQ entry at a time, never held whole: the bytes are those of
// proto.Marshal of the whole (fields in number order, each repeated element
// length-prefixed), which a test holds it to.
func Digest(file *contentv1.CourseExport) (string, error) {
	h := sha256.New()
	var buf []byte
	if v := file.GetFormatVersion(); v != 0 {
		buf = protowire.AppendTag(buf, 1, protowire.VarintType)
		buf = protowire.AppendVarint(buf, uint64(int64(v)))
	}
	if c := file.GetCourse(); c != nil {
		buf = protowire.AppendTag(buf, 4, protowire.BytesType)
		buf = protowire.AppendVarint(buf, uint64(deterministic.Size(c)))
		h.Write(buf)
		if err := hashCourse(h, c); err != nil {
			return "", fmt.Errorf("digest: %w", err)
		}
	} else {
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// hashCourse writes the encoding of c: its own scalar fields (1 to 4), then
// the elements of its lists, in field order.
func hashCourse(h hash.Hash, c *contentv1.Course) error {
	scalars, err := deterministic.Marshal(&contentv1.Course{Id: c.GetId(), Title: c.GetTitle(), Description: c.GetDescription(), Status: c.GetStatus()})
	if err != nil {
		return err
	}
	h.Write(scalars)
	e := &elementHasher{h: h}
	hashList(e, 5, c.GetModules())
	hashList(e, 6, c.GetCompetencies())
	hashList(e, 7, c.GetQuestionBank())
	hashList(e, 8, c.GetFaq())
	return e.err
}

// elementHasher writes length-prefixed elements of a list field, reusing one
// buffer; the first error stops it.
type elementHasher struct {
	h   hash.Hash
	buf []byte
	err error
}

func hashList[M proto.Message](e *elementHasher, num protowire.Number, list []M) {
	for _, m := range list {
		if e.err != nil {
			return
		}
		e.buf = protowire.AppendTag(e.buf[:0], num, protowire.BytesType)
		e.buf = protowire.AppendVarint(e.buf, uint64(deterministic.Size(m)))
		if e.buf, e.err = deterministic.MarshalAppend(e.buf, m); e.err == nil {
			e.h.Write(e.buf)
		}
	}
}
