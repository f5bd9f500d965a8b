package transfer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// id returns a fixed UUID for fixture entity n.
func id(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// userDataMarker is planted in every user-data table; it must never reach a file.
const userDataMarker = "MARCADOR-DADO-PESSOAL"

// Fixture ids.
var (
	courseID      = id(1)
	otherCourseID = id(2)
)

// insertFixture writes, with plain SQL and deliberately out of order, a course with
// two modules, three lessons, quizzes on a module and on a lesson, competencies
// (one unlinked, one linked only from another course), a question bank and an
// FAQ; plus user data about that course. It returns the export it expects.
func insertFixture(t *testing.T, pool *pgxpool.Pool) *contentv1.Course {
	t.Helper()
	stmts := []string{
		`INSERT INTO courses (id, title, description, status) VALUES
		 ('` + courseID + `', 'Primeiros Socorros no Trabalho', 'Curso básico — com acentuação: ção, ê, ü.', 'PUBLISHED'),
		 ('` + otherCourseID + `', 'Outro curso', '', 'DRAFT')`,
		// Module 2 first: the export must order by position, not by insertion.
		`INSERT INTO modules (id, course_id, position, title, description) VALUES
		 ('` + id(20) + `', '` + courseID + `', 2, 'Módulo dois', 'segundo'),
		 ('` + id(10) + `', '` + courseID + `', 1, 'Módulo um', 'primeiro'),
		 ('` + id(90) + `', '` + otherCourseID + `', 1, 'Módulo de outro curso', '')`,
		`INSERT INTO lessons (id, module_id, position, title, video_url, video_provider, duration_seconds, practical_summary, checklist) VALUES
		 ('` + id(12) + `', '` + id(10) + `', 2, 'Aula 1.2', '', 'UNSPECIFIED', 0, '', '{}'),
		 ('` + id(11) + `', '` + id(10) + `', 1, 'Aula 1.1', 'https://www.youtube.com/watch?v=abc', 'YOUTUBE', 600, 'Resumo prático', ARRAY['Item B primeiro','Item A segundo']),
		 ('` + id(21) + `', '` + id(20) + `', 1, 'Aula 2.1', 'https://vimeo.com/1', 'VIMEO', 90, '', ARRAY['único']),
		 ('` + id(91) + `', '` + id(90) + `', 1, 'Aula de outro curso', '', 'UNSPECIFIED', 0, '', '{}')`,
		`INSERT INTO quizzes (id, module_id, lesson_id, position, title, min_score) VALUES
		 ('` + id(31) + `', '` + id(10) + `', NULL, 1, 'Quiz do módulo 1', 70),
		 ('` + id(32) + `', NULL, '` + id(21) + `', 1, 'Quiz da aula 2.1', 0),
		 ('` + id(93) + `', '` + id(90) + `', NULL, 1, 'Quiz de outro curso', 50)`,
		`INSERT INTO quiz_questions (id, quiz_id, position, type, text, explanation) VALUES
		 ('` + id(42) + `', '` + id(31) + `', 2, 'TRUE_FALSE', 'Pergunta 2?', ''),
		 ('` + id(41) + `', '` + id(31) + `', 1, 'MULTIPLE_CHOICE', 'Pergunta 1?', 'Porque sim.'),
		 ('` + id(43) + `', '` + id(32) + `', 1, 'SINGLE_CHOICE', 'Pergunta da aula?', ''),
		 ('` + id(94) + `', '` + id(93) + `', 1, 'SINGLE_CHOICE', 'Pergunta de outro curso', '')`,
		`INSERT INTO quiz_options (id, question_id, position, text, is_correct, feedback) VALUES
		 ('` + id(412) + `', '` + id(41) + `', 2, 'B', true, 'Boa!'),
		 ('` + id(411) + `', '` + id(41) + `', 1, 'A', true, ''),
		 ('` + id(413) + `', '` + id(41) + `', 3, 'C', false, 'Não.'),
		 ('` + id(421) + `', '` + id(42) + `', 1, 'Verdadeiro', false, ''),
		 ('` + id(422) + `', '` + id(42) + `', 2, 'Falso', true, ''),
		 ('` + id(431) + `', '` + id(43) + `', 1, 'Única', true, ''),
		 ('` + id(941) + `', '` + id(94) + `', 1, 'Opção de outro curso', true, '')`,
		`INSERT INTO competencies (id, code, name, description) VALUES
		 ('` + id(52) + `', 'B-COMP', 'Competência B', 'desc B'),
		 ('` + id(51) + `', 'A-COMP', 'Competência A', ''),
		 ('` + id(53) + `', 'UNLINKED', 'Sem ligação', ''),
		 ('` + id(54) + `', 'OTHER-ONLY', 'Só do outro curso', '')`,
		`INSERT INTO lesson_competencies (lesson_id, competency_id) VALUES
		 ('` + id(11) + `', '` + id(52) + `'),
		 ('` + id(11) + `', '` + id(51) + `'),
		 ('` + id(21) + `', '` + id(52) + `'),
		 ('` + id(91) + `', '` + id(54) + `')`,
		`INSERT INTO bank_questions (id, competency_id, position, type, text, explanation) VALUES
		 ('` + id(62) + `', '` + id(52) + `', 2, 'TRUE_FALSE', 'Banco B2', ''),
		 ('` + id(61) + `', '` + id(52) + `', 1, 'SINGLE_CHOICE', 'Banco B1', 'expl'),
		 ('` + id(63) + `', '` + id(51) + `', 1, 'SINGLE_CHOICE', 'Banco A1', ''),
		 ('` + id(64) + `', '` + id(53) + `', 1, 'SINGLE_CHOICE', 'Banco sem ligação', ''),
		 ('` + id(65) + `', '` + id(54) + `', 1, 'SINGLE_CHOICE', 'Banco do outro curso', '')`,
		`INSERT INTO bank_options (id, question_id, position, text, is_correct, feedback) VALUES
		 ('` + id(612) + `', '` + id(61) + `', 2, 'Errada', false, 'f'),
		 ('` + id(611) + `', '` + id(61) + `', 1, 'Certa', true, ''),
		 ('` + id(621) + `', '` + id(62) + `', 1, 'Verdadeiro', true, ''),
		 ('` + id(622) + `', '` + id(62) + `', 2, 'Falso', false, ''),
		 ('` + id(631) + `', '` + id(63) + `', 1, 'Sim', true, '')`,
		`INSERT INTO course_faqs (id, course_id, position, question, answer) VALUES
		 ('` + id(72) + `', '` + courseID + `', 2, 'Tem certificado?', 'Sim.'),
		 ('` + id(71) + `', '` + courseID + `', 1, 'Quanto dura?', '2 horas.')`,
		// User data about the course, every row marked.
		`INSERT INTO users (id, email, full_name, role) VALUES
		 ('` + id(81) + `', 'aluno@` + userDataMarker + `.com', '` + userDataMarker + ` Aluno', 'ALUNO')`,
		`INSERT INTO lesson_progress (user_id, lesson_id, watched_seconds, notes) VALUES
		 ('` + id(81) + `', '` + id(11) + `', 30, '` + userDataMarker + ` nota')`,
		`INSERT INTO quiz_attempts (user_id, quiz_id, score, answers) VALUES
		 ('` + id(81) + `', '` + id(31) + `', 80, '{"note": "` + userDataMarker + `"}')`,
		`INSERT INTO certificates (user_id, course_id, verification_code) VALUES
		 ('` + id(81) + `', '` + courseID + `', '` + userDataMarker + `-CERT')`,
		`INSERT INTO support_tickets (user_id, course_id, subject, body) VALUES
		 ('` + id(81) + `', '` + courseID + `', '` + userDataMarker + ` assunto', '` + userDataMarker + `')`,
		`INSERT INTO assignments (user_id, course_id) VALUES ('` + id(81) + `', '` + courseID + `')`,
		`INSERT INTO audit_logs (actor_id, actor_email, action, target_type, target_id, details) VALUES
		 ('` + userDataMarker + `', 'x@` + userDataMarker + `.com', 'EXPORT', 'course', '` + courseID + `', '{"m": "` + userDataMarker + `"}')`,
	}
	for _, s := range stmts {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatalf("fixture: %v\n%s", err, s)
		}
	}

	opt := func(n int, pos int32, text string, correct bool, feedback string) *contentv1.Option {
		return &contentv1.Option{Id: id(n), Position: pos, Text: text, Correct: correct, Feedback: feedback}
	}
	single := contentv1.QuestionType_QUESTION_TYPE_SINGLE_CHOICE
	return &contentv1.Course{
		Id:          courseID,
		Title:       "Primeiros Socorros no Trabalho",
		Description: "Curso básico — com acentuação: ção, ê, ü.",
		Status:      contentv1.CourseStatus_COURSE_STATUS_PUBLISHED,
		Modules: []*contentv1.Module{
			{
				Id: id(10), Position: 1, Title: "Módulo um", Description: "primeiro",
				Lessons: []*contentv1.Lesson{
					{
						Id: id(11), Position: 1, Title: "Aula 1.1", VideoUrl: "https://www.youtube.com/watch?v=abc",
						VideoProvider: contentv1.VideoProvider_VIDEO_PROVIDER_YOUTUBE, DurationSeconds: 600,
						PracticalSummary: "Resumo prático", Checklist: []string{"Item B primeiro", "Item A segundo"},
						CompetencyIds: []string{id(51), id(52)}, // by code: A-COMP, B-COMP
					},
					{Id: id(12), Position: 2, Title: "Aula 1.2", Checklist: []string{}},
				},
				Quizzes: []*contentv1.Quiz{{
					Id: id(31), Position: 1, Title: "Quiz do módulo 1", MinScore: 70,
					Questions: []*contentv1.Question{
						{
							Id: id(41), Position: 1, Type: contentv1.QuestionType_QUESTION_TYPE_MULTIPLE_CHOICE,
							Text: "Pergunta 1?", Explanation: "Porque sim.",
							Options: []*contentv1.Option{opt(411, 1, "A", true, ""), opt(412, 2, "B", true, "Boa!"), opt(413, 3, "C", false, "Não.")},
						},
						{
							Id: id(42), Position: 2, Type: contentv1.QuestionType_QUESTION_TYPE_TRUE_FALSE, Text: "Pergunta 2?",
							Options: []*contentv1.Option{opt(421, 1, "Verdadeiro", false, ""), opt(422, 2, "Falso", true, "")},
						},
					},
				}},
			},
			{
				Id: id(20), Position: 2, Title: "Módulo dois", Description: "segundo",
				Lessons: []*contentv1.Lesson{{
					Id: id(21), Position: 1, Title: "Aula 2.1", VideoUrl: "https://vimeo.com/1",
					VideoProvider: contentv1.VideoProvider_VIDEO_PROVIDER_VIMEO, DurationSeconds: 90,
					Checklist: []string{"único"}, CompetencyIds: []string{id(52)},
					Quizzes: []*contentv1.Quiz{{
						Id: id(32), Position: 1, Title: "Quiz da aula 2.1", MinScore: 0,
						Questions: []*contentv1.Question{{
							Id: id(43), Position: 1, Type: single, Text: "Pergunta da aula?",
							Options: []*contentv1.Option{opt(431, 1, "Única", true, "")},
						}},
					}},
				}},
			},
		},
		Competencies: []*contentv1.Competency{
			{Id: id(51), Code: "A-COMP", Name: "Competência A"},
			{Id: id(52), Code: "B-COMP", Name: "Competência B", Description: "desc B"},
		},
		QuestionBank: []*contentv1.BankQuestion{
			{Id: id(63), CompetencyId: id(51), Position: 1, Type: single, Text: "Banco A1",
				Options: []*contentv1.Option{opt(631, 1, "Sim", true, "")}},
			{Id: id(61), CompetencyId: id(52), Position: 1, Type: single, Text: "Banco B1", Explanation: "expl",
				Options: []*contentv1.Option{opt(611, 1, "Certa", true, ""), opt(612, 2, "Errada", false, "f")}},
			{Id: id(62), CompetencyId: id(52), Position: 2, Type: contentv1.QuestionType_QUESTION_TYPE_TRUE_FALSE, Text: "Banco B2",
				Options: []*contentv1.Option{opt(621, 1, "Verdadeiro", true, ""), opt(622, 2, "Falso", false, "")}},
		},
		Faq: []*contentv1.FaqEntry{
			{Id: id(71), Position: 1, Question: "Quanto dura?", Answer: "2 horas."},
			{Id: id(72), Position: 2, Question: "Tem certificado?", Answer: "Sim."},
		},
	}
}
