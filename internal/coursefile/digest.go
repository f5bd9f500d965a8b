package coursefile

import (
	"crypto/sha256"
	"encoding/hex"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// Digest is the SHA-256 (hex) of the deterministic protobuf encoding of the
// file's formatVersion and course. Whitespace, key order, unknown fields, the export
// time and the source do not change it: two files with the same content have the
// same digest.
//
// The encoding is made by the wire writer (the bytes of proto.Marshal, which a
// test holds it to) and hashed as it is made, wireSpill bytes at a time, never
// held whole. Like the writer, it does not check that the text is UTF-8: every
// decoder of a file has.
func Digest(file *contentv1.CourseExport) string {
	h := sha256.New()
	w := &wire{sizing: true}
	w.digested(file)
	w.sizing, w.spill = false, func(b []byte) { h.Write(b) }
	w.b = make([]byte, 0, 2*wireSpill)
	w.digested(file)
	h.Write(w.b)
	return hex.EncodeToString(h.Sum(nil))
}
