package transfer

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

// entityKind is the kind of an entity of the id map.
type entityKind uint8

// Entity kinds of the id map.
const (
	kindCourse entityKind = iota
	kindModule
	kindLesson
	kindQuiz
	kindQuestion
	kindOption
	kindCompetency
	kindBankQuestion
	kindBankOption
	kindFAQ
)

// kindNames are the kinds as the id map names them.
var kindNames = [...]string{kindCourse: "course", kindModule: "module", kindLesson: "lesson", kindQuiz: "quiz",
	kindQuestion: "question", kindOption: "option", kindCompetency: "competency", kindBankQuestion: "bankQuestion",
	kindBankOption: "bankOption", kindFAQ: "faq"}

// mappingReason says why an entity of the file was not created.
type mappingReason uint8

const (
	reasonNone mappingReason = iota
	reasonCompetencyExists
	reasonBankQuestionExists
	reasonBankOptionSkipped
)

var reasonTexts = [...]string{reasonNone: "",
	reasonCompetencyExists:   "competência com o mesmo código já existe neste ambiente",
	reasonBankQuestionExists: "a mesma questão já está no banco da competência",
	reasonBankOptionSkipped:  "a questão desta opção já está no banco da competência"}

// idMapEntry is one entry of the id map.
type idMapEntry struct {
	fileID, id string
	outcome    contentv1.IdMappingOutcome
	kind       entityKind
	reason     mappingReason
}

// createdEntry is an entry of the id map for an entity every import creates: its
// kind and its ordinal among the import's new ids, which give back its new id and
// its file id (newIDs.entry). A large course has hundreds of thousands, held
// while it is written: 8 bytes each instead of an idMapEntry's 40.
type createdEntry struct {
	ordinal uint32
	kind    entityKind
}

// idMap is the id map of an import, in the order of the response: the entries
// always created (made once per import, shared by the plan of every attempt of
// its transaction, not copied), then those the plan decided. It becomes
// messages only a part at a time (see chunks and messages).
type idMap struct {
	ids     *newIDs
	created []createdEntry
	planned []idMapEntry
}

func (m idMap) len() int { return len(m.created) + len(m.planned) }

// entries yields the entries in order; the created entries' ids are written
// into *text as they are yielded.
func (m idMap) entries(text *textblock.Blocks) iter.Seq[idMapEntry] {
	return func(yield func(idMapEntry) bool) {
		for _, e := range m.created {
			if !yield(m.ids.entry(e, text)) {
				return
			}
		}
		for _, e := range m.planned {
			if !yield(e) {
				return
			}
		}
	}
}

// chunks yields the entries in order, n at a time, in a slice reused between
// yields, with the ids' text of each chunk in blocks of its own.
func (m idMap) chunks(n int) iter.Seq[[]idMapEntry] {
	return func(yield func([]idMapEntry) bool) {
		chunk := make([]idMapEntry, 0, n)
		var text textblock.Blocks
		for e := range m.entries(&text) {
			if chunk = append(chunk, e); len(chunk) == n {
				if !yield(chunk) {
					return
				}
				chunk, text = chunk[:0], textblock.Blocks{}
			}
		}
		if len(chunk) > 0 {
			yield(chunk)
		}
	}
}

// messages is the id map as the response gives it.
func (m idMap) messages() []*contentv1.IdMapping {
	var text textblock.Blocks // lives with the messages
	return idMappings(m.len(), m.entries(&text))
}

// idMappings makes messages of the n entries, allocated mappingChunk at a time.
// A large course's id map is tens of MiB of messages, made at the end of an
// apply, its peak: one allocation would need that much contiguous memory, new to
// the process, where chunks fit in the memory the parsed course leaves.
func idMappings(n int, entries iter.Seq[idMapEntry]) []*contentv1.IdMapping {
	out := make([]*contentv1.IdMapping, 0, n)
	var chunk []contentv1.IdMapping
	for e := range entries {
		if len(chunk) == 0 {
			chunk = make([]contentv1.IdMapping, min(mappingChunk, n-len(out)))
		}
		m := &chunk[0]
		chunk = chunk[1:]
		m.Kind, m.ExternalId, m.Id, m.Outcome, m.Reason = kindNames[e.kind], e.fileID, e.id, e.outcome, reasonTexts[e.reason]
		out = append(out, m)
	}
	return out
}

// Field numbers of the id map in ApplyImportResponse and of IdMapping, in
// content_transfer.proto.
const (
	fieldIDMap             protowire.Number = 4
	fieldMappingKind       protowire.Number = 1
	fieldMappingExternalID protowire.Number = 2
	fieldMappingID         protowire.Number = 3
	fieldMappingOutcome    protowire.Number = 4
	fieldMappingReason     protowire.Number = 5
)

// appendIDMapPart appends to b an ApplyImportResponse whose only field is the
// id map of entries: the bytes proto.Marshal writes for it (tested), without a
// message per entry nor reflection over each, which were 40% of the replay
// record's write for a course of 250,000 entries. Like proto.Marshal, it
// refuses a string that is not UTF-8 (only the file ids can be), and grows b
// once, to the exact size.
func appendIDMapPart(b []byte, entries []idMapEntry) ([]byte, error) {
	total := 0
	for _, e := range entries {
		if !utf8.ValidString(e.fileID) {
			return nil, fmt.Errorf("id map: the file id %q of a %s is not UTF-8", e.fileID, kindNames[e.kind])
		}
		size := mappingSize(e)
		total += protowire.SizeTag(fieldIDMap) + protowire.SizeBytes(size)
	}
	b = slices.Grow(b, total)
	for _, e := range entries {
		b = protowire.AppendTag(b, fieldIDMap, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(mappingSize(e)))
		b = appendStringField(b, fieldMappingKind, kindNames[e.kind])
		b = appendStringField(b, fieldMappingExternalID, e.fileID)
		b = appendStringField(b, fieldMappingID, e.id)
		if e.outcome != 0 {
			b = protowire.AppendTag(b, fieldMappingOutcome, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(e.outcome))
		}
		b = appendStringField(b, fieldMappingReason, reasonTexts[e.reason])
	}
	return b, nil
}

// mappingSize is the size of e as an IdMapping message.
func mappingSize(e idMapEntry) int {
	size := stringFieldSize(fieldMappingKind, kindNames[e.kind]) + stringFieldSize(fieldMappingExternalID, e.fileID) +
		stringFieldSize(fieldMappingID, e.id) + stringFieldSize(fieldMappingReason, reasonTexts[e.reason])
	if e.outcome != 0 {
		size += protowire.SizeTag(fieldMappingOutcome) + protowire.SizeVarint(uint64(e.outcome))
	}
	return size
}

// stringFieldSize is the size of a proto3 string field: none when empty.
func stringFieldSize(n protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return protowire.SizeTag(n) + protowire.SizeBytes(len(s))
}

func appendStringField(b []byte, n protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return protowire.AppendString(protowire.AppendTag(b, n, protowire.BytesType), s)
}

// mappingChunk is how many id map messages idMappings allocates at a time
// (about 100 KiB).
const mappingChunk = 1024

// importCourse is a (valid, position-normalised) course of a file made ready to
// write. Every entity gets its new id once, in place, so that no copy of what can
// be a very large course is made; what depends on the database — which
// competencies and bank questions already exist — is decided by plan, once per
// transaction attempt, from the side tables kept here.
type importCourse struct {
	course   *contentv1.Course
	sourceID string
	// sourceEnv is the environment the file was exported from.
	sourceEnv string
	// ids made the new ids, and know the file id each one replaced.
	ids *newIDs
	// created lists, in file order, the entities that are always created.
	created []createdEntry
	// competencies and bank are the file's competencies and bank questions, with
	// new ids; links are the file's competency ids of each lesson (same order as
	// lessons), bankCompetency the file's competency id of each bank question, and
	// bankPosition its normalised position.
	competencies   []*contentv1.Competency
	bank           []*contentv1.BankQuestion
	lessons        []*contentv1.Lesson
	links          [][]string
	bankCompetency []string
	bankPosition   []int32
	counts         *contentv1.ImportCounts // of what is always created
}

// prepareImport gives every entity of c a new id, in place, and records where
// each came from. The course becomes a DRAFT.
func prepareImport(c *contentv1.Course) *importCourse {
	entities, _ := coursefile.Rows(c)
	ic := &importCourse{course: c, sourceID: c.GetId(), ids: makeNewIDs(entities),
		counts: &contentv1.ImportCounts{}}
	n := ic.counts
	c.Id = ic.assign(kindCourse, c.GetId(), true)
	c.Status = contentv1.CourseStatus_COURSE_STATUS_DRAFT
	n.Courses = 1
	for _, comp := range c.GetCompetencies() {
		comp.Id = ic.assign(kindCompetency, comp.GetId(), false)
	}
	ic.competencies = c.GetCompetencies()
	for _, m := range c.GetModules() {
		m.Id = ic.assign(kindModule, m.GetId(), true)
		n.Modules++
		for _, l := range m.GetLessons() {
			l.Id = ic.assign(kindLesson, l.GetId(), true)
			n.Lessons++
			ic.lessons = append(ic.lessons, l)
			ic.links = append(ic.links, l.GetCompetencyIds())
			ic.quizzes(l.GetQuizzes())
		}
		ic.quizzes(m.GetQuizzes())
	}
	for _, q := range c.GetQuestionBank() {
		ic.bankCompetency = append(ic.bankCompetency, q.GetCompetencyId())
		ic.bankPosition = append(ic.bankPosition, q.GetPosition())
		q.Id = ic.assign(kindBankQuestion, q.GetId(), false)
		for _, o := range q.GetOptions() {
			o.Id = ic.assign(kindBankOption, o.GetId(), false)
		}
	}
	ic.bank = c.GetQuestionBank()
	for _, e := range c.GetFaq() {
		e.Id = ic.assign(kindFAQ, e.GetId(), true)
		n.FaqEntries++
	}
	return ic
}

func (ic *importCourse) quizzes(qs []*contentv1.Quiz) {
	n := ic.counts
	for _, q := range qs {
		q.Id = ic.assign(kindQuiz, q.GetId(), true)
		n.Quizzes++
		for _, qq := range q.GetQuestions() {
			qq.Id = ic.assign(kindQuestion, qq.GetId(), true)
			n.Questions++
			for _, o := range qq.GetOptions() {
				o.Id = ic.assign(kindOption, o.GetId(), true)
				n.Options++
			}
		}
	}
}

// assign returns a new id for an entity of the file; always-created entities go
// into the id map at once.
func (ic *importCourse) assign(kind entityKind, fileID string, alwaysCreated bool) string {
	id, ordinal := ic.ids.next(fileID)
	if alwaysCreated {
		ic.created = append(ic.created, createdEntry{ordinal: ordinal, kind: kind})
	}
	return id
}

// fileID is the id in the file of the entity given id by the import.
func (ic *importCourse) fileID(id string) string {
	fileID, _ := ic.ids.fileID(id)
	return fileID
}

// importPlan is what one transaction attempt writes.
type importPlan struct {
	batchID uuid.UUID
	course  *contentv1.Course // Competencies and QuestionBank hold only what is created
	idMap   idMap
	counts  *contentv1.ImportCounts
}

// plan decides, against the database of this attempt, what happens to the
// competencies (matched by code) and bank questions (a question whose normalised
// text is already in a reused competency's bank is reused; new ones are numbered
// after the existing ones), and sets the course up to be written accordingly.
func (ic *importCourse) plan(ctx context.Context, tx ImportTx, f *coursefile.Findings) (*importPlan, error) {
	counts := proto.Clone(ic.counts).(*contentv1.ImportCounts)
	p := &importPlan{batchID: uuid.New(), course: ic.course, counts: counts}
	p.idMap = idMap{ids: ic.ids, created: ic.created, planned: make([]idMapEntry, 0, len(ic.competencies)+len(ic.bank)*5)}

	codes := make([]string, 0, len(ic.competencies))
	for _, c := range ic.competencies {
		codes = append(codes, c.GetCode())
	}
	existing, err := tx.CompetenciesByCode(ctx, codes)
	if err != nil {
		return nil, err
	}
	dbID := make(map[string]string, len(ic.competencies)) // file competency id → database id
	isNew := map[string]bool{}
	var newComps []*contentv1.Competency
	var reusedIDs []string
	for i, c := range ic.competencies {
		fileID := ic.fileID(c.GetId())
		if e, ok := existing[c.GetCode()]; ok {
			dbID[fileID] = e.ID
			reusedIDs = append(reusedIDs, e.ID)
			p.idMap.planned = append(p.idMap.planned, mapping(kindCompetency, fileID, e.ID, contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_REUSED, reasonCompetencyExists))
			counts.CompetenciesReused++
			f.Warnf("COMPETENCY_REUSED", "course.competencies["+strconv.Itoa(i)+"].code",
				"A competência %q já existe neste ambiente (nome atual: %q) e será reutilizada, não duplicada.", c.GetCode(), e.Name)
			continue
		}
		dbID[fileID] = c.GetId()
		isNew[c.GetId()] = true
		newComps = append(newComps, c)
		p.idMap.planned = append(p.idMap.planned, mapping(kindCompetency, fileID, c.GetId(), contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_CREATED, reasonNone))
		counts.CompetenciesCreated++
	}
	ic.course.Competencies = newComps

	for i, l := range ic.lessons {
		linked := make([]string, 0, len(ic.links[i]))
		for _, fileCompID := range ic.links[i] {
			if id := dbID[fileCompID]; !slices.Contains(linked, id) { // a competency listed twice is linked once
				linked = append(linked, id)
			}
		}
		l.CompetencyIds = linked
		counts.LessonCompetencyLinks += int32(len(linked))
	}
	if err := ic.planBank(ctx, tx, p, dbID, isNew, reusedIDs, f); err != nil {
		return nil, err
	}
	return p, nil
}

func (ic *importCourse) planBank(ctx context.Context, tx ImportTx, p *importPlan, dbID map[string]string, isNew map[string]bool, reusedIDs []string, f *coursefile.Findings) error {
	present := map[string]map[string]string{} // competency id → normalised text → question id
	next := map[string]int32{}                // competency id → last position in use
	if len(reusedIDs) > 0 {
		bank, err := tx.BankQuestions(ctx, reusedIDs)
		if err != nil {
			return err
		}
		for _, q := range bank {
			if present[q.CompetencyID] == nil {
				present[q.CompetencyID] = map[string]string{}
			}
			present[q.CompetencyID][normalizeText(q.Text)] = q.ID
			next[q.CompetencyID] = max(next[q.CompetencyID], q.Position)
		}
	}
	n := p.counts
	created := make([]*contentv1.BankQuestion, 0, len(ic.bank))
	for i, q := range ic.bank {
		compID := dbID[ic.bankCompetency[i]]
		fileID := ic.fileID(q.GetId())
		// Only a competency that exists has questions to compare with: the
		// others' (a large course's whole bank) are not normalised.
		var existingID string
		exists := false
		if texts := present[compID]; texts != nil {
			existingID, exists = texts[normalizeText(q.GetText())]
		}
		if exists {
			p.idMap.planned = append(p.idMap.planned, mapping(kindBankQuestion, fileID, existingID, contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_REUSED, reasonBankQuestionExists))
			n.BankQuestionsExisting++
			for _, o := range q.GetOptions() {
				p.idMap.planned = append(p.idMap.planned, mapping(kindBankOption, ic.fileID(o.GetId()), "", contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_SKIPPED, reasonBankOptionSkipped))
				n.BankOptionsSkipped++
			}
			continue
		}
		q.CompetencyId = compID
		q.Position = ic.bankPosition[i]
		if !isNew[compID] {
			next[compID]++
			q.Position = next[compID]
		}
		p.idMap.planned = append(p.idMap.planned, mapping(kindBankQuestion, fileID, q.GetId(), contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_CREATED, reasonNone))
		n.BankQuestionsCreated++
		for _, o := range q.GetOptions() {
			p.idMap.planned = append(p.idMap.planned, mapping(kindBankOption, ic.fileID(o.GetId()), o.GetId(), contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_CREATED, reasonNone))
			n.BankOptions++
		}
		created = append(created, q)
	}
	ic.course.QuestionBank = created
	if n.BankQuestionsExisting > 0 {
		f.Warnf("BANK_QUESTIONS_EXISTING", "course.questionBank",
			"%d questões do banco já existem nas competências reutilizadas e não serão duplicadas.", n.BankQuestionsExisting)
	}
	return nil
}

func mapping(kind entityKind, fileID, id string, outcome contentv1.IdMappingOutcome, reason mappingReason) idMapEntry {
	return idMapEntry{kind: kind, fileID: fileID, id: id, outcome: outcome, reason: reason}
}

// normalizeText is how bank questions are compared: lower case, whitespace runs
// folded to one space, no leading or trailing space.
func normalizeText(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), unicode.IsSpace), " ")
}
