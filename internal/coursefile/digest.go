package coursefile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// Digest is the SHA-256 (hex) of the deterministic protobuf encoding of the
// file's formatVersion and course. Whitespace, key order, unknown fields, the export
// time and the source do not change it: two files with the same content have the
// same digest.
func Digest(file *contentv1.CourseExport) (string, error) {
	canonical, err := proto.MarshalOptions{Deterministic: true}.Marshal(&contentv1.CourseExport{
		FormatVersion: file.GetFormatVersion(),
		Course:        file.GetCourse(),
	})
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), nil
}
