package coursefile

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
)

// wholeDigest is the digest as the definition says it: SHA-256 of
// proto.Marshal, deterministic, of formatVersion and course, in one piece.
func wholeDigest(t *testing.T, f *contentv1.CourseExport) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&contentv1.CourseExport{FormatVersion: f.GetFormatVersion(), Course: f.GetCourse()})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestStreamedDigestIsTheDigestOfTheWhole(t *testing.T) {
	files := []*contentv1.CourseExport{{}, {FormatVersion: 1}, {Course: &contentv1.Course{}}, {FormatVersion: -3, Course: &contentv1.Course{Title: "só título"}}}
	for seed := range uint64(8) {
		files = append(files, coursegen.Generate(coursegen.Shape{Modules: int(seed), LessonsPerModule: 2, Quizzes: 3, QuestionsPerQuiz: 2,
			OptionsPerQuestion: 3, Competencies: 2, BankPerCompetency: int(seed % 3), BankOptions: 2, FAQ: int(seed % 2)}, seed))
	}
	files = append(files, coursegen.Generate(coursegen.S, 42))
	for i, f := range files {
		if got, want := Digest(f), wholeDigest(t, f); got != want {
			t.Errorf("file %d: streamed %s, whole %s", i, got, want)
		}
	}
}
