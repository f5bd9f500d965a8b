package coursefile

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// Length limits, in characters, of the texts of a file: far above any real course,
// low enough that a broken or hostile file cannot fill the database.
const (
	maxIDLen        = 200
	maxTitleLen     = 300
	maxCodeLen      = 100
	maxURLLen       = 2048
	maxShortTextLen = 2000
	maxTextLen      = 20000
)

// validator checks a parsed file and records what it finds.
type validator struct {
	f *Findings
	// ids maps every id of the file to the path where it first appears.
	ids map[string]string
	// competencies maps the file's competency ids to their codes.
	competencies map[string]string
}

// Validate checks everything that can be checked without the database.
func Validate(file *contentv1.CourseExport, f *Findings) {
	if v := file.GetFormatVersion(); v != FormatVersion {
		f.Errorf("UNSUPPORTED_FORMAT_VERSION", "formatVersion",
			"Versão de formato %d não suportada; este serviço lê a versão %d.", v, FormatVersion)
		return
	}
	c := file.GetCourse()
	if c == nil {
		f.Errorf("NOT_A_COURSE_FILE", "course", "O arquivo não contém um curso.")
		return
	}
	v := &validator{f: f, ids: map[string]string{}, competencies: map[string]string{}}
	// The source is kept with the import (where the course came from).
	src := file.GetSource()
	v.text(src.GetService(), "source.service", maxCodeLen)
	v.text(src.GetVersion(), "source.version", maxCodeLen)
	v.text(src.GetEnvironment(), "source.environment", maxCodeLen)
	v.text(src.GetCourseId(), "source.courseId", maxIDLen)
	v.id(c.GetId(), "course.id")
	v.required(c.GetTitle(), "course.title", maxTitleLen, "o título do curso")
	v.text(c.GetDescription(), "course.description", maxTextLen)

	codes := map[string]string{}
	for i, comp := range c.GetCompetencies() {
		p := fmt.Sprintf("course.competencies[%d]", i)
		v.id(comp.GetId(), p+".id")
		v.required(comp.GetCode(), p+".code", maxCodeLen, "o código da competência")
		v.required(comp.GetName(), p+".name", maxTitleLen, fmt.Sprintf("o nome da competência %q", comp.GetCode()))
		v.text(comp.GetDescription(), p+".description", maxTextLen)
		if first, dup := codes[comp.GetCode()]; dup && comp.GetCode() != "" {
			f.Errorf("DUPLICATE_COMPETENCY_CODE", p+".code", "O código de competência %q aparece duas vezes (também em %s).", comp.GetCode(), first)
		}
		codes[comp.GetCode()] = p
		v.competencies[comp.GetId()] = comp.GetCode()
	}

	v.positions("course.modules", "os módulos do curso", positionsOf(c.GetModules(), (*contentv1.Module).GetPosition))
	for i, m := range c.GetModules() {
		v.module(m, fmt.Sprintf("course.modules[%d]", i))
	}
	linked := map[string]bool{}
	for _, m := range c.GetModules() {
		for _, l := range m.GetLessons() {
			for _, id := range l.GetCompetencyIds() {
				linked[id] = true
			}
		}
	}
	for i, comp := range c.GetCompetencies() {
		if !linked[comp.GetId()] {
			f.Warnf("UNLINKED_COMPETENCY", fmt.Sprintf("course.competencies[%d]", i),
				"Nenhuma aula do curso está ligada à competência %q: ela e seu banco de questões serão importados, mas não voltarão numa exportação deste curso.", comp.GetCode())
		}
	}

	byCompetency := map[string][]int32{}
	for i, q := range c.GetQuestionBank() {
		p := fmt.Sprintf("course.questionBank[%d]", i)
		v.id(q.GetId(), p+".id")
		if _, ok := v.competencies[q.GetCompetencyId()]; !ok {
			f.Errorf("DANGLING_COMPETENCY_REF", p+".competencyId",
				"A questão do banco %q aponta para a competência %q, que não está no arquivo.", fault.Excerpt(q.GetText(), 60), q.GetCompetencyId())
		}
		byCompetency[q.GetCompetencyId()] = append(byCompetency[q.GetCompetencyId()], q.GetPosition())
		v.question(q.GetType(), q.GetText(), q.GetExplanation(), q.GetOptions(), p,
			fmt.Sprintf("a questão do banco %q", fault.Excerpt(q.GetText(), 60)))
	}
	for _, compID := range sortedKeys(byCompetency) {
		v.positions("course.questionBank", fmt.Sprintf("as questões do banco da competência %q", v.competencies[compID]), byCompetency[compID])
	}

	for i, e := range c.GetFaq() {
		p := fmt.Sprintf("course.faq[%d]", i)
		v.id(e.GetId(), p+".id")
		v.required(e.GetQuestion(), p+".question", maxShortTextLen, "a pergunta do FAQ")
		v.text(e.GetAnswer(), p+".answer", maxTextLen)
	}
	v.positions("course.faq", "as perguntas do FAQ", positionsOf(c.GetFaq(), (*contentv1.FaqEntry).GetPosition))
}

func (v *validator) module(m *contentv1.Module, p string) {
	name := fmt.Sprintf("o módulo %q", fault.Excerpt(m.GetTitle(), 60))
	v.id(m.GetId(), p+".id")
	v.required(m.GetTitle(), p+".title", maxTitleLen, "o título do módulo")
	v.text(m.GetDescription(), p+".description", maxTextLen)
	if len(m.GetLessons()) == 0 {
		v.f.Warnf("EMPTY_MODULE", p+".lessons", "O módulo %q não tem aulas.", m.GetTitle())
	}
	v.positions(p+".lessons", "as aulas d"+name, positionsOf(m.GetLessons(), (*contentv1.Lesson).GetPosition))
	for i, l := range m.GetLessons() {
		v.lesson(l, fmt.Sprintf("%s.lessons[%d]", p, i), m.GetTitle())
	}
	v.quizzes(m.GetQuizzes(), p+".quizzes", name)
}

func (v *validator) lesson(l *contentv1.Lesson, p, moduleTitle string) {
	v.id(l.GetId(), p+".id")
	v.required(l.GetTitle(), p+".title", maxTitleLen, fmt.Sprintf("o título de uma aula do módulo %q", moduleTitle))
	name := fmt.Sprintf("A aula %q (módulo %q)", fault.Excerpt(l.GetTitle(), 60), fault.Excerpt(moduleTitle, 60))
	switch u := l.GetVideoUrl(); {
	case u == "":
		v.f.Warnf("LESSON_WITHOUT_VIDEO", p+".videoUrl", "%s não tem vídeo.", name)
	case utf8.RuneCountInString(u) > maxURLLen:
		v.tooLong(p+".videoUrl", maxURLLen)
	case !validVideoURL(u):
		v.f.Errorf("INVALID_VIDEO_URL", p+".videoUrl", "%s tem um endereço de vídeo inválido: %q. Use um endereço http(s) completo.", name, fault.Excerpt(u, 80))
	}
	if l.GetDurationSeconds() < 0 {
		v.f.Errorf("NEGATIVE_DURATION", p+".durationSeconds", "%s tem duração negativa (%d s).", name, l.GetDurationSeconds())
	}
	v.text(l.GetPracticalSummary(), p+".practicalSummary", maxTextLen)
	for i, item := range l.GetChecklist() {
		v.required(item, fmt.Sprintf("%s.checklist[%d]", p, i), maxShortTextLen, "o item do checklist")
	}
	for i, id := range l.GetCompetencyIds() {
		if _, ok := v.competencies[id]; !ok {
			v.f.Errorf("DANGLING_COMPETENCY_REF", fmt.Sprintf("%s.competencyIds[%d]", p, i),
				"%s aponta para a competência %q, que não está no arquivo.", name, fault.Excerpt(id, 80))
		}
	}
	v.quizzes(l.GetQuizzes(), p+".quizzes", fmt.Sprintf("a aula %q", fault.Excerpt(l.GetTitle(), 60)))
}

func (v *validator) quizzes(quizzes []*contentv1.Quiz, p, owner string) {
	for i, q := range quizzes {
		qp := fmt.Sprintf("%s[%d]", p, i)
		v.id(q.GetId(), qp+".id")
		v.required(q.GetTitle(), qp+".title", maxTitleLen, "o título do quiz de "+owner)
		name := fmt.Sprintf("o quiz %q", fault.Excerpt(q.GetTitle(), 60))
		if s := q.GetMinScore(); s < 0 || s > 100 {
			v.f.Errorf("INVALID_MIN_SCORE", qp+".minScore", "A nota mínima d%s é %d; deve estar entre 0 e 100.", name, s)
		}
		if len(q.GetQuestions()) == 0 {
			v.f.Warnf("QUIZ_WITHOUT_QUESTIONS", qp+".questions", "O quiz %q não tem questões.", q.GetTitle())
		}
		for j, question := range q.GetQuestions() {
			qqp := fmt.Sprintf("%s.questions[%d]", qp, j)
			v.id(question.GetId(), qqp+".id")
			v.question(question.GetType(), question.GetText(), question.GetExplanation(), question.GetOptions(), qqp,
				fmt.Sprintf("a questão %d d%s", j+1, name))
		}
		v.positions(qp+".questions", "as questões d"+name, positionsOf(q.GetQuestions(), (*contentv1.Question).GetPosition))
	}
	v.positions(p, "os quizzes de "+owner, positionsOf(quizzes, (*contentv1.Quiz).GetPosition))
}

func (v *validator) question(typ contentv1.QuestionType, text, explanation string, options []*contentv1.Option, p, name string) {
	v.required(text, p+".text", maxShortTextLen*2, "o texto d"+name)
	v.text(explanation, p+".explanation", maxTextLen)
	if typ == contentv1.QuestionType_QUESTION_TYPE_UNSPECIFIED {
		v.f.Errorf("QUESTION_TYPE_MISSING", p+".type", "Informe o tipo d%s (SINGLE_CHOICE, MULTIPLE_CHOICE ou TRUE_FALSE).", name)
	}
	correct := 0
	for i, o := range options {
		op := fmt.Sprintf("%s.options[%d]", p, i)
		v.id(o.GetId(), op+".id")
		v.required(o.GetText(), op+".text", maxShortTextLen, "o texto de uma opção d"+name)
		v.text(o.GetFeedback(), op+".feedback", maxShortTextLen)
		if o.GetCorrect() {
			correct++
		}
	}
	switch {
	case correct == 0:
		v.f.Errorf("NO_CORRECT_OPTION", p+".options", "%s não tem nenhuma opção correta.", capitalize(name))
	case correct > 1 && typ != contentv1.QuestionType_QUESTION_TYPE_MULTIPLE_CHOICE:
		v.f.Errorf("TOO_MANY_CORRECT_OPTIONS", p+".options", "%s é de escolha única mas tem %d opções corretas.", capitalize(name), correct)
	}
	v.positions(p+".options", "as opções d"+name, positionsOf(options, (*contentv1.Option).GetPosition))
}

// id checks that an entity has an id, of sane length, not used before in the file.
func (v *validator) id(id, p string) {
	switch {
	case strings.TrimSpace(id) == "":
		v.f.Errorf("REQUIRED_FIELD_MISSING", p, "Falta o identificador (id).")
	case utf8.RuneCountInString(id) > maxIDLen:
		v.tooLong(p, maxIDLen)
	case strings.ContainsRune(id, 0):
		v.f.Errorf("INVALID_CHARACTER", p, "O identificador contém o caractere nulo (\\u0000).")
	default:
		if first, dup := v.ids[id]; dup {
			v.f.Errorf("DUPLICATE_ID", p, "O id %q aparece duas vezes no arquivo (a primeira em %s).", fault.Excerpt(id, 80), first)
			return
		}
		v.ids[id] = p
	}
}

func (v *validator) required(s, p string, limit int, what string) {
	if strings.TrimSpace(s) == "" {
		v.f.Errorf("REQUIRED_FIELD_MISSING", p, "Falta %s.", what)
		return
	}
	v.text(s, p, limit)
}

func (v *validator) text(s, p string, limit int) {
	switch {
	case utf8.RuneCountInString(s) > limit:
		v.tooLong(p, limit)
	case strings.ContainsRune(s, 0):
		v.f.Errorf("INVALID_CHARACTER", p, "O texto contém o caractere nulo (\\u0000), que não pode ser gravado.")
	}
}

func (v *validator) tooLong(p string, limit int) {
	v.f.Errorf("TEXT_TOO_LONG", p, "Texto longo demais: o limite é de %d caracteres.", limit)
}

// positions warns when the positions of a list are not 1..n in order; the import
// then renumbers them (see normalizePositions).
func (v *validator) positions(p, what string, positions []int32) {
	if !normalized(positions) {
		v.f.Warnf("POSITIONS_NORMALIZED", p, "As posições d%s têm repetições, lacunas ou estão fora de ordem; serão renumeradas de 1 a %d, em ordem de posição.", what, len(positions))
	}
}

func normalized(positions []int32) bool {
	for i, p := range positions {
		if p != int32(i+1) {
			return false
		}
	}
	return true
}

func validVideoURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(raw, " \t\n")
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

// positionsOf lists the positions of items, in file order.
func positionsOf[T any](items []T, pos func(T) int32) []int32 {
	out := make([]int32, len(items))
	for i, it := range items {
		out[i] = pos(it)
	}
	return out
}

// sortedKeys returns the keys of m in order, for deterministic messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
