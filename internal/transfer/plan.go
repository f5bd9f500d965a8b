package transfer

import (
	"context"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// importPlan is what an import writes: the course with new ids, where every id
// came from, and the counts.
type importPlan struct {
	batchID  uuid.UUID
	sourceID string
	// course has new ids; its Competencies and QuestionBank hold only what is created.
	course      *contentv1.Course
	externalIDs map[string]string
	idMap       []*contentv1.IdMapping
	counts      *contentv1.ImportCounts
}

// Entity kinds of the id map.
const (
	kindCourse       = "course"
	kindModule       = "module"
	kindLesson       = "lesson"
	kindQuiz         = "quiz"
	kindQuestion     = "question"
	kindOption       = "option"
	kindCompetency   = "competency"
	kindBankQuestion = "bankQuestion"
	kindBankOption   = "bankOption"
	kindFAQ          = "faq"
)

type planner struct {
	p *importPlan
	f *findings
}

// created gives an entity of the file a new id and records the mapping.
func (pl *planner) created(kind, fileID string) string {
	id := uuid.NewString()
	pl.p.externalIDs[id] = fileID
	pl.p.idMap = append(pl.p.idMap, &contentv1.IdMapping{
		Kind: kind, ExternalId: fileID, Id: id, Outcome: contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_CREATED,
	})
	return id
}

func (pl *planner) reused(kind, fileID, id, reason string) {
	pl.p.idMap = append(pl.p.idMap, &contentv1.IdMapping{
		Kind: kind, ExternalId: fileID, Id: id, Outcome: contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_REUSED, Reason: reason,
	})
}

func (pl *planner) skipped(kind, fileID, reason string) {
	pl.p.idMap = append(pl.p.idMap, &contentv1.IdMapping{
		Kind: kind, ExternalId: fileID, Outcome: contentv1.IdMappingOutcome_ID_MAPPING_OUTCOME_SKIPPED, Reason: reason,
	})
}

// planImport decides, for every entity of the (valid, position-normalised) course,
// what the import does with it: competencies are matched by code, bank questions
// already present for a reused competency are not duplicated, everything else
// gets a new id. The course is always created as a DRAFT.
func planImport(ctx context.Context, tx ImportTx, src *contentv1.Course, f *findings) (*importPlan, error) {
	pl := &planner{f: f, p: &importPlan{
		batchID:     uuid.New(),
		sourceID:    src.GetId(),
		externalIDs: map[string]string{},
		counts:      &contentv1.ImportCounts{},
	}}
	n := pl.p.counts

	course := &contentv1.Course{
		Title:       src.GetTitle(),
		Description: src.GetDescription(),
		Status:      contentv1.CourseStatus_COURSE_STATUS_DRAFT,
	}
	course.Id = pl.created(kindCourse, src.GetId())
	n.Courses = 1
	pl.p.course = course

	competencyIDs, err := pl.competencies(ctx, tx, src, course)
	if err != nil {
		return nil, err
	}
	for _, m := range src.GetModules() {
		nm := &contentv1.Module{Position: m.GetPosition(), Title: m.GetTitle(), Description: m.GetDescription()}
		nm.Id = pl.created(kindModule, m.GetId())
		n.Modules++
		for _, l := range m.GetLessons() {
			nl := &contentv1.Lesson{
				Position: l.GetPosition(), Title: l.GetTitle(), VideoUrl: l.GetVideoUrl(), VideoProvider: l.GetVideoProvider(),
				DurationSeconds: l.GetDurationSeconds(), PracticalSummary: l.GetPracticalSummary(), Checklist: l.GetChecklist(),
			}
			nl.Id = pl.created(kindLesson, l.GetId())
			n.Lessons++
			linked := map[string]bool{}
			for _, cid := range l.GetCompetencyIds() {
				if id := competencyIDs[cid]; !linked[id] { // a competency listed twice is linked once
					linked[id] = true
					nl.CompetencyIds = append(nl.CompetencyIds, id)
					n.LessonCompetencyLinks++
				}
			}
			nl.Quizzes = pl.quizzes(l.GetQuizzes())
			nm.Lessons = append(nm.Lessons, nl)
		}
		nm.Quizzes = pl.quizzes(m.GetQuizzes())
		course.Modules = append(course.Modules, nm)
	}
	if err := pl.questionBank(ctx, tx, src, course, competencyIDs); err != nil {
		return nil, err
	}
	for _, e := range src.GetFaq() {
		ne := &contentv1.FaqEntry{Position: e.GetPosition(), Question: e.GetQuestion(), Answer: e.GetAnswer()}
		ne.Id = pl.created(kindFAQ, e.GetId())
		n.FaqEntries++
		course.Faq = append(course.Faq, ne)
	}
	return pl.p, nil
}

// competencies matches the file's competencies by code, adds the new ones to
// course, and returns the database id of every competency id of the file.
func (pl *planner) competencies(ctx context.Context, tx ImportTx, src, course *contentv1.Course) (map[string]string, error) {
	codes := make([]string, 0, len(src.GetCompetencies()))
	for _, c := range src.GetCompetencies() {
		codes = append(codes, c.GetCode())
	}
	existing, err := tx.CompetenciesByCode(ctx, codes)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]string, len(codes))
	for i, c := range src.GetCompetencies() {
		if e, ok := existing[c.GetCode()]; ok {
			ids[c.GetId()] = e.ID
			reason := "competência com o mesmo código já existe neste ambiente"
			pl.reused(kindCompetency, c.GetId(), e.ID, reason)
			pl.p.counts.CompetenciesReused++
			pl.f.warnf("COMPETENCY_REUSED", "course.competencies["+strconv.Itoa(i)+"].code",
				"A competência %q já existe neste ambiente (nome atual: %q) e será reutilizada, não duplicada.", c.GetCode(), e.Name)
			continue
		}
		nc := &contentv1.Competency{Code: c.GetCode(), Name: c.GetName(), Description: c.GetDescription()}
		nc.Id = pl.created(kindCompetency, c.GetId())
		ids[c.GetId()] = nc.Id
		pl.p.counts.CompetenciesCreated++
		course.Competencies = append(course.Competencies, nc)
	}
	return ids, nil
}

// questionBank adds the bank questions to create to course. For a reused
// competency, a question whose normalised text is already in its bank is reused,
// and new questions are numbered after the existing ones.
func (pl *planner) questionBank(ctx context.Context, tx ImportTx, src, course *contentv1.Course, competencyIDs map[string]string) error {
	created := map[string]bool{}
	for _, c := range course.GetCompetencies() {
		created[c.GetId()] = true
	}
	var reusedIDs []string
	for _, id := range competencyIDs {
		if !created[id] {
			reusedIDs = append(reusedIDs, id)
		}
	}
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
	n := pl.p.counts
	for _, q := range src.GetQuestionBank() {
		compID := competencyIDs[q.GetCompetencyId()]
		if existingID, ok := present[compID][normalizeText(q.GetText())]; ok {
			pl.reused(kindBankQuestion, q.GetId(), existingID, "a mesma questão já está no banco da competência")
			n.BankQuestionsExisting++
			for _, o := range q.GetOptions() {
				pl.skipped(kindBankOption, o.GetId(), "a questão desta opção já está no banco da competência")
				n.BankOptionsSkipped++
			}
			continue
		}
		position := q.GetPosition()
		if !created[compID] {
			next[compID]++
			position = next[compID]
		}
		nq := &contentv1.BankQuestion{
			CompetencyId: compID, Position: position, Type: q.GetType(), Text: q.GetText(), Explanation: q.GetExplanation(),
		}
		nq.Id = pl.created(kindBankQuestion, q.GetId())
		n.BankQuestionsCreated++
		nq.Options = pl.options(kindBankOption, q.GetOptions(), &n.BankOptions)
		course.QuestionBank = append(course.QuestionBank, nq)
	}
	if n.BankQuestionsExisting > 0 {
		pl.f.warnf("BANK_QUESTIONS_EXISTING", "course.questionBank",
			"%d questões do banco já existem nas competências reutilizadas e não serão duplicadas.", n.BankQuestionsExisting)
	}
	return nil
}

func (pl *planner) quizzes(src []*contentv1.Quiz) []*contentv1.Quiz {
	var out []*contentv1.Quiz
	n := pl.p.counts
	for _, q := range src {
		nq := &contentv1.Quiz{Position: q.GetPosition(), Title: q.GetTitle(), MinScore: q.GetMinScore()}
		nq.Id = pl.created(kindQuiz, q.GetId())
		n.Quizzes++
		for _, qq := range q.GetQuestions() {
			nqq := &contentv1.Question{Position: qq.GetPosition(), Type: qq.GetType(), Text: qq.GetText(), Explanation: qq.GetExplanation()}
			nqq.Id = pl.created(kindQuestion, qq.GetId())
			n.Questions++
			nqq.Options = pl.options(kindOption, qq.GetOptions(), &n.Options)
			nq.Questions = append(nq.Questions, nqq)
		}
		out = append(out, nq)
	}
	return out
}

func (pl *planner) options(kind string, src []*contentv1.Option, count *int32) []*contentv1.Option {
	out := make([]*contentv1.Option, 0, len(src))
	for _, o := range src {
		no := &contentv1.Option{Position: o.GetPosition(), Text: o.GetText(), Correct: o.GetCorrect(), Feedback: o.GetFeedback()}
		no.Id = pl.created(kind, o.GetId())
		*count++
		out = append(out, no)
	}
	return out
}

// normalizeText is how bank questions are compared: lower case, whitespace runs
// folded to one space, no leading or trailing space.
func normalizeText(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), unicode.IsSpace), " ")
}
