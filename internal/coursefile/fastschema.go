package coursefile

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// member is how the fast decoder reads one field of a T: its index in the
// message, for the set of the fields seen, and the decoding of its value into
// the field (not called for null).
type member[T any] struct {
	index  int
	decode func(d *fastDecoder, m *T) bool
}

// members are the fields of a T by the names protojson reads: the JSON name
// and the proto name.
type members[T any] map[string]member[T]

// newMembers gives T's fields, decoded by byName (by proto name), their names
// and indices from T's descriptor. It panics, when the package is loaded,
// unless byName has exactly the message's fields: a field added to the schema
// must be added to the fast decoder.
func newMembers[T any, P interface {
	*T
	proto.Message
}](byName map[string]func(*fastDecoder, *T) bool) members[T] {
	fields := P(new(T)).ProtoReflect().Descriptor().Fields()
	if fields.Len() != len(byName) || fields.Len() > 64 {
		panic(fmt.Sprintf("coursefile: the fast decoder reads %d fields of %T, which has %d", len(byName), new(T), fields.Len()))
	}
	ms := make(members[T], 2*fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		decode, ok := byName[string(fd.Name())]
		if !ok {
			panic(fmt.Sprintf("coursefile: the fast decoder does not read %s", fd.FullName()))
		}
		m := member[T]{index: fd.Index(), decode: decode}
		ms[fd.JSONName()], ms[fd.TextName()] = m, m
	}
	return ms
}

// The fields of each message of a transfer file.
var (
	exportMembers = newMembers(map[string]func(*fastDecoder, *contentv1.CourseExport) bool{
		"format_version": func(d *fastDecoder, m *contentv1.CourseExport) bool { return d.int(&m.FormatVersion) },
		"exported_at":    func(d *fastDecoder, m *contentv1.CourseExport) bool { return d.timestampValue(&m.ExportedAt) },
		"source":         func(d *fastDecoder, m *contentv1.CourseExport) bool { return decodeSource(d, &m.Source) },
		"course":         func(d *fastDecoder, m *contentv1.CourseExport) bool { return decodeCourse(d, &m.Course) },
	})
	decodeSource  = message(sourceMembers)
	sourceMembers = newMembers(map[string]func(*fastDecoder, *contentv1.ExportSource) bool{
		"service":     func(d *fastDecoder, m *contentv1.ExportSource) bool { return d.str(&m.Service) },
		"version":     func(d *fastDecoder, m *contentv1.ExportSource) bool { return d.str(&m.Version) },
		"course_id":   func(d *fastDecoder, m *contentv1.ExportSource) bool { return d.str(&m.CourseId) },
		"environment": func(d *fastDecoder, m *contentv1.ExportSource) bool { return d.str(&m.Environment) },
	})
	decodeCourse  = message(courseMembers)
	courseMembers = newMembers(map[string]func(*fastDecoder, *contentv1.Course) bool{
		"id":            func(d *fastDecoder, m *contentv1.Course) bool { return d.str(&m.Id) },
		"title":         func(d *fastDecoder, m *contentv1.Course) bool { return d.str(&m.Title) },
		"description":   func(d *fastDecoder, m *contentv1.Course) bool { return d.str(&m.Description) },
		"status":        func(d *fastDecoder, m *contentv1.Course) bool { return enum(d, &m.Status, courseStatuses) },
		"modules":       func(d *fastDecoder, m *contentv1.Course) bool { return d.modules(&m.Modules) },
		"competencies":  func(d *fastDecoder, m *contentv1.Course) bool { return array(d, &m.Competencies, decodeCompetency) },
		"question_bank": func(d *fastDecoder, m *contentv1.Course) bool { return array(d, &m.QuestionBank, decodeBankQuestion) },
		"faq":           func(d *fastDecoder, m *contentv1.Course) bool { return array(d, &m.Faq, decodeFAQ) },
	})
	decodeModule  = message(moduleMembers)
	moduleMembers = newMembers(map[string]func(*fastDecoder, *contentv1.Module) bool{
		"id":          func(d *fastDecoder, m *contentv1.Module) bool { return d.str(&m.Id) },
		"position":    func(d *fastDecoder, m *contentv1.Module) bool { return d.int(&m.Position) },
		"title":       func(d *fastDecoder, m *contentv1.Module) bool { return d.str(&m.Title) },
		"description": func(d *fastDecoder, m *contentv1.Module) bool { return d.str(&m.Description) },
		"lessons":     func(d *fastDecoder, m *contentv1.Module) bool { return array(d, &m.Lessons, decodeLesson) },
		"quizzes":     func(d *fastDecoder, m *contentv1.Module) bool { return array(d, &m.Quizzes, decodeQuiz) },
	})
	decodeLesson  = message(lessonMembers)
	lessonMembers = newMembers(map[string]func(*fastDecoder, *contentv1.Lesson) bool{
		"id":                func(d *fastDecoder, m *contentv1.Lesson) bool { return d.str(&m.Id) },
		"position":          func(d *fastDecoder, m *contentv1.Lesson) bool { return d.int(&m.Position) },
		"title":             func(d *fastDecoder, m *contentv1.Lesson) bool { return d.str(&m.Title) },
		"video_url":         func(d *fastDecoder, m *contentv1.Lesson) bool { return d.str(&m.VideoUrl) },
		"video_provider":    func(d *fastDecoder, m *contentv1.Lesson) bool { return enum(d, &m.VideoProvider, videoProviders) },
		"duration_seconds":  func(d *fastDecoder, m *contentv1.Lesson) bool { return d.int(&m.DurationSeconds) },
		"practical_summary": func(d *fastDecoder, m *contentv1.Lesson) bool { return d.str(&m.PracticalSummary) },
		"checklist":         func(d *fastDecoder, m *contentv1.Lesson) bool { return array(d, &m.Checklist, (*fastDecoder).str) },
		"competency_ids":    func(d *fastDecoder, m *contentv1.Lesson) bool { return array(d, &m.CompetencyIds, (*fastDecoder).str) },
		"quizzes":           func(d *fastDecoder, m *contentv1.Lesson) bool { return array(d, &m.Quizzes, decodeQuiz) },
	})
	decodeQuiz  = message(quizMembers)
	quizMembers = newMembers(map[string]func(*fastDecoder, *contentv1.Quiz) bool{
		"id":        func(d *fastDecoder, m *contentv1.Quiz) bool { return d.str(&m.Id) },
		"position":  func(d *fastDecoder, m *contentv1.Quiz) bool { return d.int(&m.Position) },
		"title":     func(d *fastDecoder, m *contentv1.Quiz) bool { return d.str(&m.Title) },
		"min_score": func(d *fastDecoder, m *contentv1.Quiz) bool { return d.int(&m.MinScore) },
		"questions": func(d *fastDecoder, m *contentv1.Quiz) bool { return array(d, &m.Questions, decodeQuestion) },
	})
	decodeQuestion  = message(questionMembers)
	questionMembers = newMembers(map[string]func(*fastDecoder, *contentv1.Question) bool{
		"id":          func(d *fastDecoder, m *contentv1.Question) bool { return d.str(&m.Id) },
		"position":    func(d *fastDecoder, m *contentv1.Question) bool { return d.int(&m.Position) },
		"type":        func(d *fastDecoder, m *contentv1.Question) bool { return enum(d, &m.Type, questionTypes) },
		"text":        func(d *fastDecoder, m *contentv1.Question) bool { return d.str(&m.Text) },
		"explanation": func(d *fastDecoder, m *contentv1.Question) bool { return d.str(&m.Explanation) },
		"options":     func(d *fastDecoder, m *contentv1.Question) bool { return array(d, &m.Options, decodeOption) },
	})
	decodeOption  = message(optionMembers)
	optionMembers = newMembers(map[string]func(*fastDecoder, *contentv1.Option) bool{
		"id":       func(d *fastDecoder, m *contentv1.Option) bool { return d.str(&m.Id) },
		"position": func(d *fastDecoder, m *contentv1.Option) bool { return d.int(&m.Position) },
		"text":     func(d *fastDecoder, m *contentv1.Option) bool { return d.str(&m.Text) },
		"correct":  func(d *fastDecoder, m *contentv1.Option) bool { return d.bool(&m.Correct) },
		"feedback": func(d *fastDecoder, m *contentv1.Option) bool { return d.str(&m.Feedback) },
	})
	decodeCompetency  = message(competencyMembers)
	competencyMembers = newMembers(map[string]func(*fastDecoder, *contentv1.Competency) bool{
		"id":          func(d *fastDecoder, m *contentv1.Competency) bool { return d.str(&m.Id) },
		"code":        func(d *fastDecoder, m *contentv1.Competency) bool { return d.str(&m.Code) },
		"name":        func(d *fastDecoder, m *contentv1.Competency) bool { return d.str(&m.Name) },
		"description": func(d *fastDecoder, m *contentv1.Competency) bool { return d.str(&m.Description) },
	})
	decodeBankQuestion  = message(bankQuestionMembers)
	bankQuestionMembers = newMembers(map[string]func(*fastDecoder, *contentv1.BankQuestion) bool{
		"id":            func(d *fastDecoder, m *contentv1.BankQuestion) bool { return d.str(&m.Id) },
		"competency_id": func(d *fastDecoder, m *contentv1.BankQuestion) bool { return d.str(&m.CompetencyId) },
		"position":      func(d *fastDecoder, m *contentv1.BankQuestion) bool { return d.int(&m.Position) },
		"type":          func(d *fastDecoder, m *contentv1.BankQuestion) bool { return enum(d, &m.Type, questionTypes) },
		"text":          func(d *fastDecoder, m *contentv1.BankQuestion) bool { return d.str(&m.Text) },
		"explanation":   func(d *fastDecoder, m *contentv1.BankQuestion) bool { return d.str(&m.Explanation) },
		"options":       func(d *fastDecoder, m *contentv1.BankQuestion) bool { return array(d, &m.Options, decodeOption) },
	})
	decodeFAQ  = message(faqMembers)
	faqMembers = newMembers(map[string]func(*fastDecoder, *contentv1.FaqEntry) bool{
		"id":       func(d *fastDecoder, m *contentv1.FaqEntry) bool { return d.str(&m.Id) },
		"position": func(d *fastDecoder, m *contentv1.FaqEntry) bool { return d.int(&m.Position) },
		"question": func(d *fastDecoder, m *contentv1.FaqEntry) bool { return d.str(&m.Question) },
		"answer":   func(d *fastDecoder, m *contentv1.FaqEntry) bool { return d.str(&m.Answer) },
	})
	courseStatuses = contentv1.CourseStatus(0).Descriptor().Values()
	videoProviders = contentv1.VideoProvider(0).Descriptor().Values()
	questionTypes  = contentv1.QuestionType(0).Descriptor().Values()
)
