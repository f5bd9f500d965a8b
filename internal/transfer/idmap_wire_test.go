package transfer

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// TestAppendIDMapPartIsProtoMarshal checks that the replay record's parts are
// the bytes proto.Marshal writes for the same entries, on every kind, outcome
// and reason, with file ids empty, long (a length of two varint bytes) and
// accented.
func TestAppendIDMapPartIsProtoMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fileIDs := []string{"", "a", "7cff66cb-8ad5-857e-85f9-eadc00000000", "módulo-ção-ü", string(bytes.Repeat([]byte("x"), 300))}
	outcomes := []contentv1.IdMappingOutcome{0, contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_CREATED,
		contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_REUSED, contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_SKIPPED}
	for round := range 200 {
		entries := make([]idMapEntry, rng.IntN(50))
		for i := range entries {
			entries[i] = idMapEntry{
				kind: entityKind(rng.IntN(len(kindNames))), fileID: fileIDs[rng.IntN(len(fileIDs))],
				id: fileIDs[rng.IntN(len(fileIDs))], outcome: outcomes[rng.IntN(len(outcomes))],
				reason: mappingReason(rng.IntN(len(reasonTexts))),
			}
		}
		want, err := proto.Marshal(&contentv1.ApplyImportResponse{IdMap: idMappings(len(entries), slices.Values(entries))})
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendIDMapPart(nil, entries)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d: appendIDMapPart differs from proto.Marshal:\n got %x\nwant %x", round, got, want)
		}
	}
}

func TestAppendIDMapPartRefusesWhatProtoMarshalRefuses(t *testing.T) {
	entries := []idMapEntry{{kind: kindLesson, fileID: "aula-\xff", id: "x", outcome: contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_CREATED}}
	if _, err := proto.Marshal(&contentv1.ApplyImportResponse{IdMap: idMappings(1, slices.Values(entries))}); err == nil {
		t.Fatal("proto.Marshal accepted a file id that is not UTF-8")
	}
	if b, err := appendIDMapPart(nil, entries); err == nil {
		t.Fatalf("appendIDMapPart wrote %x for a file id that is not UTF-8", b)
	}
}
