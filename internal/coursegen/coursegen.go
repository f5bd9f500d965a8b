// Package coursegen generates valid transfer files of a given shape, with
// Portuguese text of realistic lengths, for benchmarks and tests. The same shape
// and seed always give the same file.
package coursegen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// Shape is how much of everything a generated course has.
type Shape struct {
	Modules            int
	LessonsPerModule   int
	Quizzes            int // spread over modules and lessons, half each
	QuestionsPerQuiz   int
	OptionsPerQuestion int
	Competencies       int
	BankPerCompetency  int
	BankOptions        int // options per bank question
	FAQ                int
}

// The named sizes: S is a typical course, M ten times S, L a very large one, XL
// the largest a server with 1 GiB of memory must import (about 250 MiB).
var (
	S = Shape{Modules: 10, LessonsPerModule: 8, Quizzes: 10, QuestionsPerQuiz: 10, OptionsPerQuestion: 4,
		Competencies: 5, BankPerCompetency: 20, BankOptions: 4, FAQ: 10}
	M = Shape{Modules: 100, LessonsPerModule: 8, Quizzes: 100, QuestionsPerQuiz: 10, OptionsPerQuestion: 4,
		Competencies: 50, BankPerCompetency: 20, BankOptions: 4, FAQ: 100}
	L = Shape{Modules: 200, LessonsPerModule: 50, Quizzes: 1000, QuestionsPerQuiz: 20, OptionsPerQuestion: 4,
		Competencies: 100, BankPerCompetency: 200, BankOptions: 4, FAQ: 200}
	XL = Shape{Modules: 600, LessonsPerModule: 50, Quizzes: 3000, QuestionsPerQuiz: 20, OptionsPerQuestion: 4,
		Competencies: 300, BankPerCompetency: 200, BankOptions: 4, FAQ: 600}
)

// Sizes maps the names of the named sizes to their shapes.
var Sizes = map[string]Shape{"S": S, "M": M, "L": L, "XL": XL}

// exportedAt is fixed so that a seed always gives the same bytes.
var exportedAt = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

type generator struct {
	r    *rand.Rand
	seed uint64
}

// Generate returns a valid transfer file of the given shape.
func Generate(shape Shape, seed uint64) *contentv1.CourseExport {
	g := &generator{r: rand.New(rand.NewPCG(seed, 0x5eed)), seed: seed}
	c := &contentv1.Course{
		Id:          g.id(),
		Title:       g.title(),
		Description: g.sentences(2, 5),
		Status:      contentv1.CourseStatus_COURSE_STATUS_PUBLISHED,
	}
	for i := range shape.Competencies {
		c.Competencies = append(c.Competencies, &contentv1.Competency{
			Id:          g.id(),
			Code:        fmt.Sprintf("GEN%d-C%04d", seed, i+1),
			Name:        g.words(3, 7),
			Description: g.sentences(1, 3),
		})
	}
	for m := range shape.Modules {
		mod := &contentv1.Module{Id: g.id(), Position: int32(m + 1), Title: g.title(), Description: g.sentences(1, 3)}
		for l := range shape.LessonsPerModule {
			lesson := &contentv1.Lesson{
				Id:               g.id(),
				Position:         int32(l + 1),
				Title:            g.title(),
				VideoUrl:         fmt.Sprintf("https://www.youtube.com/watch?v=%011x", g.r.Uint64()>>20),
				VideoProvider:    contentv1.VideoProvider_VIDEO_PROVIDER_YOUTUBE,
				DurationSeconds:  int32(180 + g.r.IntN(1500)),
				PracticalSummary: g.sentences(3, 8),
			}
			for range 3 + g.r.IntN(4) {
				lesson.Checklist = append(lesson.Checklist, g.words(4, 10))
			}
			if n := len(c.Competencies); n > 0 {
				first := g.r.IntN(n)
				for k := range 1 + g.r.IntN(min(3, n)) {
					lesson.CompetencyIds = append(lesson.CompetencyIds, c.Competencies[(first+k)%n].Id)
				}
			}
			mod.Lessons = append(mod.Lessons, lesson)
		}
		c.Modules = append(c.Modules, mod)
	}
	// Quizzes alternate between a module and a lesson of it.
	for q := range shape.Quizzes {
		if len(c.Modules) == 0 {
			break
		}
		mod := c.Modules[q%len(c.Modules)]
		quiz := g.quiz(shape)
		if q%2 == 1 && len(mod.Lessons) > 0 {
			lesson := mod.Lessons[(q/2)%len(mod.Lessons)]
			quiz.Position = int32(len(lesson.Quizzes) + 1)
			lesson.Quizzes = append(lesson.Quizzes, quiz)
		} else {
			quiz.Position = int32(len(mod.Quizzes) + 1)
			mod.Quizzes = append(mod.Quizzes, quiz)
		}
	}
	for _, comp := range c.Competencies {
		for b := range shape.BankPerCompetency {
			typ, options := g.options(shape.BankOptions)
			c.QuestionBank = append(c.QuestionBank, &contentv1.BankQuestion{
				Id: g.id(), CompetencyId: comp.Id, Position: int32(b + 1), Type: typ,
				Text: g.question(), Explanation: g.sentences(0, 2), Options: options,
			})
		}
	}
	for f := range shape.FAQ {
		c.Faq = append(c.Faq, &contentv1.FaqEntry{Id: g.id(), Position: int32(f + 1), Question: g.question(), Answer: g.sentences(1, 4)})
	}
	return &contentv1.CourseExport{
		FormatVersion: 1,
		ExportedAt:    timestamppb.New(exportedAt),
		Source:        &contentv1.ExportSource{Service: "contentd gen", Version: fmt.Sprintf("seed %d", seed), CourseId: c.Id, Environment: "generated"},
		Course:        c,
	}
}

func (g *generator) quiz(shape Shape) *contentv1.Quiz {
	q := &contentv1.Quiz{Id: g.id(), Title: "Avaliação: " + g.words(2, 6), MinScore: int32(50 + 10*g.r.IntN(4))}
	for i := range shape.QuestionsPerQuiz {
		typ, options := g.options(shape.OptionsPerQuestion)
		q.Questions = append(q.Questions, &contentv1.Question{
			Id: g.id(), Position: int32(i + 1), Type: typ, Text: g.question(), Explanation: g.sentences(0, 2), Options: options,
		})
	}
	return q
}

// options returns a question type and n options that fit it: one correct option
// for single choice and true/false (which has two), one or more for multiple choice.
func (g *generator) options(n int) (contentv1.QuestionType, []*contentv1.Option) {
	typ := contentv1.QuestionType_QUESTION_TYPE_SINGLE_CHOICE
	switch k := g.r.IntN(10); {
	case n == 2 || k == 0:
		typ, n = contentv1.QuestionType_QUESTION_TYPE_TRUE_FALSE, 2
	case k < 3:
		typ = contentv1.QuestionType_QUESTION_TYPE_MULTIPLE_CHOICE
	}
	correct := g.r.IntN(max(n, 1))
	out := make([]*contentv1.Option, n)
	for i := range out {
		o := &contentv1.Option{Id: g.id(), Position: int32(i + 1), Text: g.words(2, 9), Correct: i == correct}
		switch {
		case typ == contentv1.QuestionType_QUESTION_TYPE_TRUE_FALSE:
			o.Text = [2]string{"Verdadeiro", "Falso"}[i%2]
		case typ == contentv1.QuestionType_QUESTION_TYPE_MULTIPLE_CHOICE && g.r.IntN(3) == 0:
			o.Correct = true
		}
		if g.r.IntN(2) == 0 {
			o.Feedback = g.sentences(1, 1)
		}
		out[i] = o
	}
	return typ, out
}

func (g *generator) id() string {
	var b [16]byte
	for i := range 2 {
		v := g.r.Uint64()
		for j := range 8 {
			b[i*8+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return uuid.UUID(b).String()
}

func (g *generator) title() string {
	return capitalize(g.words(3, 8))
}

func (g *generator) question() string {
	return capitalize(g.words(8, 22)) + "?"
}

func (g *generator) words(lo, hi int) string {
	n := lo + g.r.IntN(hi-lo+1)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocabulary[g.r.IntN(len(vocabulary))])
	}
	return b.String()
}

func (g *generator) sentences(lo, hi int) string {
	n := lo + g.r.IntN(hi-lo+1)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = capitalize(g.words(8, 20)) + "."
	}
	return strings.Join(parts, " ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// vocabulary is the words of generated text: the register of workplace training.
var vocabulary = strings.Fields(`
a o de da do das dos em no na nos nas para com sem sobre entre após antes durante e ou que
trabalho segurança saúde equipe gestor gestora colaborador colaboradora empresa processo
procedimento norma regulamentadora treinamento capacitação módulo aula avaliação prática
risco riscos controle prevenção acidente incidente emergência resgate proteção equipamento
individual coletiva uso correto inspeção manutenção registro relatório análise plano ação
responsabilidade liderança comunicação atendimento cliente qualidade melhoria contínua
indicador meta resultado desempenho competência habilidade conhecimento atitude ética
conduta conformidade legislação política interna documento evidência auditoria ciclo
ferramenta método etapa fase início conclusão objetivo critério requisito condição ambiente
limpeza organização sinalização área acesso permissão autorização supervisão orientação
técnica técnico operação operador máquina instalação elétrica altura espaço confinado
ergonomia postura pausa jornada turno escala função cargo setor unidade filial sede
deve pode precisa garantir verificar identificar avaliar aplicar revisar registrar comunicar
orientar acompanhar corrigir eliminar reduzir manter executar planejar organizar definir
importante necessário adequado seguro obrigatório recomendado essencial principal básico
`)
