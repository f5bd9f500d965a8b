package coursefile

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
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
	// The map of ids is made at its size, not grown (and copied) a dozen times
	// for a large course.
	entities, _ := Rows(c)
	v := &validator{f: f, ids: make(map[string]string, entities), competencies: map[string]string{}}
	// The source is kept with the import (where the course came from).
	src := file.GetSource()
	v.text(src.GetService(), "source", ".service", maxCodeLen)
	v.text(src.GetVersion(), "source", ".version", maxCodeLen)
	v.text(src.GetEnvironment(), "source", ".environment", maxCodeLen)
	v.text(src.GetCourseId(), "source", ".courseId", maxIDLen)
	v.id(c.GetId(), "course")
	v.required(c.GetTitle(), "course", ".title", maxTitleLen, is("o título do curso"))
	v.text(c.GetDescription(), "course", ".description", maxTextLen)

	codes := map[string]string{}
	for i, comp := range c.GetCompetencies() {
		p := fmt.Sprintf("course.competencies[%d]", i)
		v.id(comp.GetId(), p)
		v.required(comp.GetCode(), p, ".code", maxCodeLen, is("o código da competência"))
		v.required(comp.GetName(), p, ".name", maxTitleLen, func() string { return fmt.Sprintf("o nome da competência %q", comp.GetCode()) })
		v.text(comp.GetDescription(), p, ".description", maxTextLen)
		if first, dup := codes[comp.GetCode()]; dup && comp.GetCode() != "" {
			f.Errorf("DUPLICATE_COMPETENCY_CODE", p+".code", "O código de competência %q aparece duas vezes (também em %s).", comp.GetCode(), first)
		}
		codes[comp.GetCode()] = p
		v.competencies[comp.GetId()] = comp.GetCode()
	}

	positionsOf(v, c.GetModules(), (*contentv1.Module).GetPosition, is("course.modules"), is("os módulos do curso"))
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
		p := "course.questionBank[" + strconv.Itoa(i) + "]"
		v.id(q.GetId(), p)
		if _, ok := v.competencies[q.GetCompetencyId()]; !ok {
			f.Errorf("DANGLING_COMPETENCY_REF", p+".competencyId",
				"A questão do banco %q aponta para a competência %q, que não está no arquivo.", fault.Excerpt(q.GetText(), 60), q.GetCompetencyId())
		}
		byCompetency[q.GetCompetencyId()] = append(byCompetency[q.GetCompetencyId()], q.GetPosition())
		v.question(q.GetType(), q.GetText(), q.GetExplanation(), q.GetOptions(), p,
			func() string { return fmt.Sprintf("a questão do banco %q", fault.Excerpt(q.GetText(), 60)) })
	}
	for _, compID := range sortedKeys(byCompetency) {
		positionsOf(v, byCompetency[compID], func(p int32) int32 { return p }, is("course.questionBank"),
			func() string { return fmt.Sprintf("as questões do banco da competência %q", v.competencies[compID]) })
	}

	for i, e := range c.GetFaq() {
		p := fmt.Sprintf("course.faq[%d]", i)
		v.id(e.GetId(), p)
		v.required(e.GetQuestion(), p, ".question", maxShortTextLen, is("a pergunta do FAQ"))
		v.text(e.GetAnswer(), p, ".answer", maxTextLen)
	}
	positionsOf(v, c.GetFaq(), (*contentv1.FaqEntry).GetPosition, is("course.faq"), is("as perguntas do FAQ"))
}

func (v *validator) module(m *contentv1.Module, p string) {
	name := func() string { return fmt.Sprintf("o módulo %q", fault.Excerpt(m.GetTitle(), 60)) }
	v.id(m.GetId(), p)
	v.required(m.GetTitle(), p, ".title", maxTitleLen, is("o título do módulo"))
	v.text(m.GetDescription(), p, ".description", maxTextLen)
	if len(m.GetLessons()) == 0 {
		v.f.Warnf("EMPTY_MODULE", p+".lessons", "O módulo %q não tem aulas.", m.GetTitle())
	}
	positionsOf(v, m.GetLessons(), (*contentv1.Lesson).GetPosition, func() string { return p + ".lessons" }, func() string { return "as aulas d" + name() })
	for i, l := range m.GetLessons() {
		v.lesson(l, p+".lessons["+strconv.Itoa(i)+"]", m.GetTitle())
	}
	v.quizzes(m.GetQuizzes(), p+".quizzes", name)
}

func (v *validator) lesson(l *contentv1.Lesson, p, moduleTitle string) {
	v.id(l.GetId(), p)
	v.required(l.GetTitle(), p, ".title", maxTitleLen, func() string { return fmt.Sprintf("o título de uma aula do módulo %q", moduleTitle) })
	name := func() string {
		return fmt.Sprintf("A aula %q (módulo %q)", fault.Excerpt(l.GetTitle(), 60), fault.Excerpt(moduleTitle, 60))
	}
	switch u := l.GetVideoUrl(); {
	case u == "":
		v.f.Warnf("LESSON_WITHOUT_VIDEO", p+".videoUrl", "%s não tem vídeo.", name())
	case utf8.RuneCountInString(u) > maxURLLen:
		v.tooLong(p+".videoUrl", maxURLLen)
	case !validVideoURL(u):
		v.f.Errorf("INVALID_VIDEO_URL", p+".videoUrl", "%s tem um endereço de vídeo inválido: %q. Use um endereço http(s) completo.", name(), fault.Excerpt(u, 80))
	}
	if l.GetDurationSeconds() < 0 {
		v.f.Errorf("NEGATIVE_DURATION", p+".durationSeconds", "%s tem duração negativa (%d s).", name(), l.GetDurationSeconds())
	}
	v.text(l.GetPracticalSummary(), p, ".practicalSummary", maxTextLen)
	for i, item := range l.GetChecklist() {
		v.required(item, p, ".checklist["+strconv.Itoa(i)+"]", maxShortTextLen, is("o item do checklist"))
	}
	for i, id := range l.GetCompetencyIds() {
		if _, ok := v.competencies[id]; !ok {
			v.f.Errorf("DANGLING_COMPETENCY_REF", fmt.Sprintf("%s.competencyIds[%d]", p, i),
				"%s aponta para a competência %q, que não está no arquivo.", name(), fault.Excerpt(id, 80))
		}
	}
	v.quizzes(l.GetQuizzes(), p+".quizzes", func() string { return fmt.Sprintf("a aula %q", fault.Excerpt(l.GetTitle(), 60)) })
}

func (v *validator) quizzes(quizzes []*contentv1.Quiz, p string, owner func() string) {
	for i, q := range quizzes {
		qp := p + "[" + strconv.Itoa(i) + "]"
		v.id(q.GetId(), qp)
		v.required(q.GetTitle(), qp, ".title", maxTitleLen, func() string { return "o título do quiz de " + owner() })
		name := func() string { return fmt.Sprintf("o quiz %q", fault.Excerpt(q.GetTitle(), 60)) }
		if s := q.GetMinScore(); s < 0 || s > 100 {
			v.f.Errorf("INVALID_MIN_SCORE", qp+".minScore", "A nota mínima d%s é %d; deve estar entre 0 e 100.", name(), s)
		}
		if len(q.GetQuestions()) == 0 {
			v.f.Warnf("QUIZ_WITHOUT_QUESTIONS", qp+".questions", "O quiz %q não tem questões.", q.GetTitle())
		}
		for j, question := range q.GetQuestions() {
			qqp := qp + ".questions[" + strconv.Itoa(j) + "]"
			v.id(question.GetId(), qqp)
			v.question(question.GetType(), question.GetText(), question.GetExplanation(), question.GetOptions(), qqp,
				func() string { return fmt.Sprintf("a questão %d d%s", j+1, name()) })
		}
		positionsOf(v, q.GetQuestions(), (*contentv1.Question).GetPosition, func() string { return qp + ".questions" }, func() string { return "as questões d" + name() })
	}
	positionsOf(v, quizzes, (*contentv1.Quiz).GetPosition, func() string { return p }, func() string { return "os quizzes de " + owner() })
}

func (v *validator) question(typ contentv1.QuestionType, text, explanation string, options []*contentv1.Option, p string, name func() string) {
	v.required(text, p, ".text", maxShortTextLen*2, func() string { return "o texto d" + name() })
	v.text(explanation, p, ".explanation", maxTextLen)
	if typ == contentv1.QuestionType_QUESTION_TYPE_UNSPECIFIED {
		v.f.Errorf("QUESTION_TYPE_MISSING", p+".type", "Informe o tipo d%s (SINGLE_CHOICE, MULTIPLE_CHOICE ou TRUE_FALSE).", name())
	}
	correct := 0
	for i, o := range options {
		op := p + ".options[" + strconv.Itoa(i) + "]"
		v.id(o.GetId(), op)
		v.required(o.GetText(), op, ".text", maxShortTextLen, func() string { return "o texto de uma opção d" + name() })
		v.text(o.GetFeedback(), op, ".feedback", maxShortTextLen)
		if o.GetCorrect() {
			correct++
		}
	}
	switch {
	case correct == 0:
		v.f.Errorf("NO_CORRECT_OPTION", p+".options", "%s não tem nenhuma opção correta.", capitalize(name()))
	case correct > 1 && typ != contentv1.QuestionType_QUESTION_TYPE_MULTIPLE_CHOICE:
		v.f.Errorf("TOO_MANY_CORRECT_OPTIONS", p+".options", "%s é de escolha única mas tem %d opções corretas.", capitalize(name()), correct)
	}
	positionsOf(v, options, (*contentv1.Option).GetPosition, func() string { return p + ".options" }, func() string { return "as opções d" + name() })
}

// A check below takes the path of an entity (p) and the field (".id",
// ".title"), and what it is called as a function: both are put together only
// for a finding, as a file of a large course has hundreds of thousands of them.

// id checks that the entity at p has an id (p+".id"), of sane length, not used
// before in the file.
func (v *validator) id(id, p string) {
	switch {
	case strings.TrimSpace(id) == "":
		v.f.Errorf("REQUIRED_FIELD_MISSING", p+".id", "Falta o identificador (id).")
	case utf8.RuneCountInString(id) > maxIDLen:
		v.tooLong(p+".id", maxIDLen)
	case strings.ContainsRune(id, 0):
		v.f.Errorf("INVALID_CHARACTER", p+".id", "O identificador contém o caractere nulo (\\u0000).")
	default:
		if first, dup := v.ids[id]; dup {
			v.f.Errorf("DUPLICATE_ID", p+".id", "O id %q aparece duas vezes no arquivo (a primeira em %s).", fault.Excerpt(id, 80), first+".id")
			return
		}
		v.ids[id] = p
	}
}

// Rows counts the rows c is stored in: its entities, each with an id (the
// course, its modules, lessons, quizzes, questions, options, competencies, bank
// questions and their options, FAQ entries), and its lessons' links to
// competencies.
func Rows(c *contentv1.Course) (entities, links int) {
	entities = 1 + len(c.GetCompetencies()) + len(c.GetFaq())
	quizzes := func(qs []*contentv1.Quiz) {
		for _, q := range qs {
			entities += 1 + len(q.GetQuestions())
			for _, question := range q.GetQuestions() {
				entities += len(question.GetOptions())
			}
		}
	}
	for _, m := range c.GetModules() {
		entities += 1 + len(m.GetLessons())
		for _, l := range m.GetLessons() {
			links += len(l.GetCompetencyIds())
			quizzes(l.GetQuizzes())
		}
		quizzes(m.GetQuizzes())
	}
	for _, q := range c.GetQuestionBank() {
		entities += 1 + len(q.GetOptions())
	}
	return entities, links
}

func (v *validator) required(s, p, field string, limit int, what func() string) {
	if strings.TrimSpace(s) == "" {
		v.f.Errorf("REQUIRED_FIELD_MISSING", p+field, "Falta %s.", what())
		return
	}
	v.text(s, p, field, limit)
}

// is gives a constant name as what required takes.
func is(name string) func() string { return func() string { return name } }

func (v *validator) text(s, p, field string, limit int) {
	switch {
	case len(s) > limit && utf8.RuneCountInString(s) > limit: // fewer bytes than the limit: fewer characters
		v.tooLong(p+field, limit)
	case strings.IndexByte(s, 0) >= 0:
		v.f.Errorf("INVALID_CHARACTER", p+field, "O texto contém o caractere nulo (\\u0000), que não pode ser gravado.")
	}
}

func (v *validator) tooLong(p string, limit int) {
	v.f.Errorf("TEXT_TOO_LONG", p, "Texto longo demais: o limite é de %d caracteres.", limit)
}

// positionsOf warns when the positions of items are not 1..n in order; the
// import then renumbers them (see normalizePositions). The path and the name of
// the list are made only for the warning.
func positionsOf[T any](v *validator, items []T, pos func(T) int32, p func() string, what func() string) {
	for i, it := range items {
		if pos(it) != int32(i+1) {
			v.f.Warnf("POSITIONS_NORMALIZED", p(), "As posições d%s têm repetições, lacunas ou estão fora de ordem; serão renumeradas de 1 a %d, em ordem de posição.", what(), len(items))
			return
		}
	}
}

func validVideoURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(raw, " \t\n")
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
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
