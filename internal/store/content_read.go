package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/audit"
	"github.com/educacao-continuada/content-transfer/internal/fault"
	"github.com/educacao-continuada/content-transfer/internal/textblock"
)

// The export reads one statement per content table, inside one snapshot, in one
// round trip whatever the size of the course. A statement after the course row
// finds, once, the rows the other statements read: the course's lessons,
// quizzes, quiz questions, lesson-competency links and the bank questions of
// those competencies, walking an index once per parent, so that a small course
// stays fast next to a huge one. The snapshot turns sequential scans off
// (sqlReadByIndex), so that this holds whatever the statistics say. It keeps
// each list in a setting of the transaction (set_config with is_local, which
// ends with it: the next transaction of a pooled connection finds it empty),
// and the statements after it read the list back once each: they fetch those
// rows by their place, and find options, competencies and bank options through
// an index by the ids of those rows. (Each statement computing the ids it needs
// as subqueries walked the same indexes once per statement: more than half of
// the export of a course of ten thousand modules. Sending the ids to the
// service and back as array parameters took a second round trip, the service's
// CPU to decode and encode them, the statements' walks down the same indexes
// again, and, in a plan made for the values, PostgreSQL's planner estimating
// each id of the arrays against the column's statistics: a seventh of its CPU
// for that course.) Ids come as binary uuids, not text: the text is made here.
//
// Rows come in no particular order, but for competencies, by code (the
// database's collation decides that order): the reader puts each list in its
// exported order once every row is read (see courseReader.order). PostgreSQL's
// sorts were a fifth of the export of a course of ten thousand modules, most of
// them spilled to disk, and each parent's list is short, and usually already
// in order.
const (
	sqlCourseRow = `
SELECT id, title, description, status FROM courses WHERE id = $1`

	// sqlFindCourseRows keeps the lists in the transaction's settings, each
	// computed once (a CTE used twice is materialised), and returns their
	// lengths. A list holds the rows that the statements after it read, by
	// their place in their table, their ctid: stable within the snapshot (a
	// version of a row that the snapshot sees is neither moved nor removed
	// while it lasts), and read back with a fetch per row, not a walk down an
	// index per parent. Its text is short and quick to parse too: a list of
	// uuids took PostgreSQL 0.3 µs per id to write and as much to read back.
	sqlFindCourseRows = `
WITH m AS (SELECT id FROM modules WHERE course_id = $1),
     l AS (SELECT id, ctid FROM lessons WHERE module_id = ANY(ARRAY(SELECT id FROM m))),
     q AS (SELECT id, ctid FROM quizzes WHERE module_id = ANY(ARRAY(SELECT id FROM m))
           UNION ALL
           SELECT id, ctid FROM quizzes WHERE lesson_id = ANY(ARRAY(SELECT id FROM l))),
     lc AS (SELECT competency_id, ctid FROM lesson_competencies WHERE lesson_id = ANY(ARRAY(SELECT id FROM l))),
     rows AS MATERIALIZED (
       SELECT ARRAY(SELECT ctid FROM l) AS lessons,
              ARRAY(SELECT ctid FROM q) AS quizzes,
              ARRAY(SELECT ctid FROM quiz_questions WHERE quiz_id = ANY(ARRAY(SELECT id FROM q))) AS questions,
              ARRAY(SELECT ctid FROM lc) AS links,
              ARRAY(SELECT ctid FROM bank_questions
                    WHERE competency_id = ANY(ARRAY(SELECT DISTINCT competency_id FROM lc))) AS bank_questions)
SELECT cardinality(lessons), cardinality(quizzes), cardinality(questions), cardinality(bank_questions),
       set_config('contentd.lessons', lessons::text, true) IS NOT NULL
       AND set_config('contentd.quizzes', quizzes::text, true) IS NOT NULL
       AND set_config('contentd.questions', questions::text, true) IS NOT NULL
       AND set_config('contentd.links', links::text, true) IS NOT NULL
       AND set_config('contentd.bank_questions', bank_questions::text, true) IS NOT NULL
FROM rows`

	sqlCourseModules = `
SELECT id, position, title, description
FROM modules WHERE course_id = $1`

	// In the statements below, "(SELECT current_setting(...)::tid[])::tid[]"
	// parses a list once per statement (an InitPlan), where the bare cast
	// could be evaluated again for each row a sequential scan tests; the outer
	// cast changes nothing but keeps ANY from reading the subquery's rows as
	// its values. Options are found by their question's id, through the index:
	// the ids of a course's questions come from the rows of its list.
	sqlCourseLessons = `
SELECT id, module_id, position, title, video_url, video_provider,
       duration_seconds, practical_summary, checklist
FROM lessons WHERE ctid = ANY((SELECT current_setting('contentd.lessons')::tid[])::tid[])`

	sqlCourseQuizzes = `
SELECT id, module_id, lesson_id, position, title, min_score
FROM quizzes WHERE ctid = ANY((SELECT current_setting('contentd.quizzes')::tid[])::tid[])`

	sqlCourseQuestions = `
SELECT id, quiz_id, position, type, text, explanation
FROM quiz_questions WHERE ctid = ANY((SELECT current_setting('contentd.questions')::tid[])::tid[])`

	sqlCourseOptions = `
SELECT id, question_id, position, text, is_correct, feedback
FROM quiz_options WHERE question_id = ANY(ARRAY(
  SELECT id FROM quiz_questions WHERE ctid = ANY((SELECT current_setting('contentd.questions')::tid[])::tid[])))`

	sqlCourseLinks = `
SELECT lesson_id, competency_id
FROM lesson_competencies WHERE ctid = ANY((SELECT current_setting('contentd.links')::tid[])::tid[])`

	// An index scan by "= ANY" reads each id of the array once, however
	// often the links repeat it.
	sqlCourseCompetencies = `
SELECT id, code, name, description
FROM competencies WHERE id = ANY(ARRAY(
  SELECT competency_id FROM lesson_competencies WHERE ctid = ANY((SELECT current_setting('contentd.links')::tid[])::tid[])))
ORDER BY code`

	sqlCourseBankQuestions = `
SELECT id, competency_id, position, type, text, explanation
FROM bank_questions WHERE ctid = ANY((SELECT current_setting('contentd.bank_questions')::tid[])::tid[])`

	sqlCourseBankOptions = `
SELECT id, question_id, position, text, is_correct, feedback
FROM bank_options WHERE question_id = ANY(ARRAY(
  SELECT id FROM bank_questions WHERE ctid = ANY((SELECT current_setting('contentd.bank_questions')::tid[])::tid[])))`

	sqlCourseFAQ = `
SELECT id, position, question, answer
FROM course_faqs WHERE course_id = $1`
)

// contentStatement is a statement of the export after sqlFindCourseRows: its
// SQL, whether its $1 is the course id (else it has no parameter), and how its
// rows join the course.
type contentStatement struct {
	sql      string
	byCourse bool
	scan     func(r *courseReader) error
}

var contentStatements = []contentStatement{
	{sqlCourseModules, true, (*courseReader).scanModule},
	{sqlCourseLessons, false, (*courseReader).scanLesson},
	{sqlCourseQuizzes, false, (*courseReader).scanQuiz},
	{sqlCourseQuestions, false, (*courseReader).scanQuestion},
	{sqlCourseOptions, false, (*courseReader).scanOption},
	{sqlCourseLinks, false, (*courseReader).scanLink},
	{sqlCourseCompetencies, false, (*courseReader).scanCompetency},
	{sqlCourseBankQuestions, false, (*courseReader).scanBankQuestion},
	{sqlCourseBankOptions, false, (*courseReader).scanBankOption},
	{sqlCourseFAQ, true, (*courseReader).scanFAQ},
}

// ExportStatement is a statement of an export, for a benchmark that replays
// them with pgbench as the database's limit.
type ExportStatement struct {
	SQL string
	// ByCourse: the statement's $1 is the course id; else it has no parameter.
	ByCourse bool
}

// exportStatements are the statements readCourse sends after snapshotBegin,
// in order.
var exportStatements = func() []ExportStatement {
	out := []ExportStatement{{SQL: sqlReadByIndex}, {SQL: sqlCourseRow, ByCourse: true}, {SQL: sqlFindCourseRows, ByCourse: true}}
	for _, st := range contentStatements {
		out = append(out, ExportStatement{SQL: st.sql, ByCourse: st.byCourse})
	}
	return out
}()

// ExportStatements returns the SQL an export runs, in order, in one snapshot.
func ExportStatements() []ExportStatement { return slices.Clone(exportStatements) }

// ReadCourse reads a course and all its transferable content from one consistent
// snapshot, and records entry (when not nil) if the course exists, in the same
// round trip. User data (progress, attempts, certificates, tickets, assignments,
// audit logs) is never read. The course's text is UTF-8: a UTF8 database holds
// nothing else, and the text of any other is checked (an export fails on text
// that is not; in an array that pgx reads as text, in its exec mode, pgx has
// already replaced an invalid byte with U+FFFD). The course's text is copied
// into the Blocks that ctx carries, if any (textblock.FromContext), and its
// messages are then pooled too: the course must not be used after their
// Release, which empties it.
func (s *Store) ReadCourse(ctx context.Context, id uuid.UUID, entry *audit.Entry) (*contentv1.Course, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, dbError(err)
	}
	defer conn.Release()
	course, err := readCourse(ctx, conn.Conn(), id, entry)
	if err != nil {
		return nil, dbError(err)
	}
	return course, nil
}

// snapshotBegin opens the export's snapshot: REPEATABLE READ, so that every
// statement sees the same state of a course being edited; read-only.
const snapshotBegin = `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`

// sqlReadByIndex keeps the planner from reading a content table whole, for
// the export's transaction only (SET LOCAL: a pooled connection's next
// transaction plans as before). Every statement of the export has an index or
// a place to read its rows by. Right after a large import, until autovacuum
// analyzes the tables (a minute or more), their statistics describe a smaller
// database, and the planner chose to read quiz_questions and bank_questions
// whole, testing each row against every id of the course's list: the demo
// course grown to 10,800 modules took 1.3 s to export instead of 0.36 s, and
// tens of seconds in a database holding larger courses. With statistics up to
// date, the plans are those the planner chose.
const sqlReadByIndex = `SET LOCAL enable_seqscan = off`

// courseReader appends the rows of each statement to the entities read before
// it. An export of a small course is mostly allocation and garbage collection,
// so the reader makes few: entities come from slabs, text is copied into
// shared blocks, and a run of rows with the same parent (rows written together
// usually come together) looks the parent up once. Columns are decoded from
// the bytes received (see rawRow).
type courseReader struct {
	course        *contentv1.Course
	modules       parents[contentv1.Module]
	lessons       parents[contentv1.Lesson]
	quizzes       parents[contentv1.Quiz]
	questions     parents[contentv1.Question]
	bankQuestions parents[contentv1.BankQuestion]

	// The messages and lists the reader allocates: its own, or, for a course
	// whose text is pooled, pooled with it (see readerMemory).
	*readerMemory

	// text holds the ids' text (PostgreSQL sends the ids in binary) and every
	// text column: the Blocks of the call's context, which its transport
	// releases once the course is written out (see textblock.NewContext).
	text *textblock.Blocks
	// checkUTF8: the database's encoding is not UTF8, so its text may not be
	// UTF-8 (SQL_ASCII stores any bytes): each text is checked. An exported
	// course's text is UTF-8, which its encoders rely on.
	checkUTF8 bool
	row       rawRow // the row being read
}

// id returns column i of the row, a uuid that is not NULL, and its text as
// PostgreSQL writes it.
func (r *courseReader) id(i int) (uuid.UUID, string) {
	id, ok := r.row.uuid(i)
	if !ok && r.row.err == nil {
		r.row.fail(i, "a uuid, not NULL")
	}
	return id, r.text.UUID(id)
}

// str returns column i of the row, text, copied into the reader's blocks.
func (r *courseReader) str(i int) string {
	s, ok := r.copyText(r.row.text(i))
	if !ok && r.row.err == nil {
		r.row.err = fmt.Errorf("column %s: %w", r.row.fields[i].Name, errNotUTF8)
	}
	return s
}

// copyText copies b into the reader's blocks; ok is false when the text must
// be checked (see checkUTF8) and is not UTF-8.
func (r *courseReader) copyText(b []byte) (s string, ok bool) {
	if r.checkUTF8 && !utf8.Valid(b) {
		return "", false
	}
	return r.text.CopyBytes(b), true
}

// enum returns column i of the row, text holding an enum's database name, as
// the enum's number (0 for a name it does not know).
func (r *courseReader) enum(i int, byName map[string]int32) int32 {
	return byName[string(r.row.text(i))]
}

// errNotUTF8 is the error of an export that read text that is not UTF-8.
var errNotUTF8 = errors.New("text that is not UTF-8 (the database's encoding is not UTF8)")

// parents finds the parent of a row by its id, looking it up once for a run of
// rows with the same parent.
type parents[T any] struct {
	byID   map[uuid.UUID]*T
	lastID uuid.UUID
	last   *T
}

// sized makes the map for n entries: a large course's would otherwise grow
// many times over.
func (p *parents[T]) sized(n int) { p.byID = make(map[uuid.UUID]*T, n) }

func (p *parents[T]) add(id uuid.UUID, v *T) {
	if p.byID == nil {
		p.byID = map[uuid.UUID]*T{}
	}
	p.byID[id] = v
}

func (p *parents[T]) get(id uuid.UUID) (*T, bool) {
	if p.last != nil && id == p.lastID {
		return p.last, true
	}
	v, ok := p.byID[id]
	if ok {
		p.last, p.lastID = v, id
	}
	return v, ok
}

// children gathers the elements of one kind of list (a module's lessons, a
// question's options…) with their parents, as their rows are read, and hands
// each parent its list once all are: a run of elements of one parent (rows
// written together usually come together) becomes a slice of the array they
// were gathered in, with no room to grow, and an element of a parent whose
// list is already handed out is appended to it. Appending each element to its
// parent's list as it came took three allocations for a question's four
// options; pooled with their arrays (see readerMemory), children make none.
type children[P, E any] struct {
	parents  []*P
	elements []E
}

func (c *children[P, E]) add(parent *P, element E) {
	c.parents = append(c.parents, parent)
	c.elements = append(c.elements, element)
}

// handOut appends to each parent's list, which list returns, its elements.
func (c *children[P, E]) handOut(list func(*P) *[]E) {
	for start := 0; start < len(c.parents); {
		parent, end := c.parents[start], start+1
		for end < len(c.parents) && c.parents[end] == parent {
			end++
		}
		if l := list(parent); len(*l) == 0 {
			*l = c.elements[start:end:end]
		} else {
			*l = append(*l, c.elements[start:end]...)
		}
		start = end
	}
}

// handOut gives every parent its lists (see children).
func (r *courseReader) handOut() {
	r.moduleLessons.handOut(func(m *contentv1.Module) *[]*contentv1.Lesson { return &m.Lessons })
	r.moduleQuizzes.handOut(func(m *contentv1.Module) *[]*contentv1.Quiz { return &m.Quizzes })
	r.lessonQuizzes.handOut(func(l *contentv1.Lesson) *[]*contentv1.Quiz { return &l.Quizzes })
	r.quizQuestions.handOut(func(q *contentv1.Quiz) *[]*contentv1.Question { return &q.Questions })
	r.questionOptions.handOut(func(q *contentv1.Question) *[]*contentv1.Option { return &q.Options })
	r.bankOptions.handOut(func(q *contentv1.BankQuestion) *[]*contentv1.Option { return &q.Options })
	r.competencyIDs.handOut(func(l *contentv1.Lesson) *[]string { return &l.CompetencyIds })
}

// reset empties c for another course, keeping its arrays unless they are over
// maxPooledChildren elements (a large course's are left to the collector).
func (c *children[P, E]) reset() {
	if cap(c.elements) > maxPooledChildren {
		*c = children[P, E]{}
		return
	}
	clear(c.parents)
	clear(c.elements)
	c.parents, c.elements = c.parents[:0], c.elements[:0]
}

const maxPooledChildren = 16 << 10

// slab hands out zeroed values of T from shared chunks, which grow from 8 to
// 512 values: one allocation for many small messages that live and die together.
// After reset it hands out the same chunks again.
type slab[T any] struct {
	chunks [][]T // every chunk made; the first used are in use
	used   int
	free   []T // what is left of chunks[used-1]
}

func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		if s.used == len(s.chunks) {
			n := 8
			if s.used > 0 {
				n = min(2*len(s.chunks[s.used-1]), 512)
			}
			s.chunks = append(s.chunks, make([]T, n))
		}
		s.free = s.chunks[s.used]
		s.used++
	}
	v := &s.free[0]
	s.free = s.free[1:]
	return v
}

// reset clears the values s handed out, so that nothing they held stays
// reachable, and keeps up to keptValues of them to hand out again (those of
// a large course are left to the collector). A value s handed out reads as
// empty from then on.
func (s *slab[T]) reset() {
	kept, values := 0, 0
	for i, chunk := range s.chunks[:s.used] {
		clear(chunk)
		if values += len(chunk); values <= keptValues {
			kept = i + 1
		}
	}
	clear(s.chunks[kept:])
	s.chunks, s.used, s.free = s.chunks[:kept], 0, nil
}

// keptValues is how many values a slab keeps at most through reset.
const keptValues = 2048

// readerMemory is what a reader allocates for a course: its messages, from
// slabs, and the lists of their parents, gathered as children. A reader of a
// course whose text is pooled (see ReadCourse) takes its memory from
// readerMemories and gives it back, cleared, at the text's Release: the course
// then lives exactly as long as its text, which its caller releases once it
// has written the course out. Allocating the messages of each export anew, and
// collecting them, was a tenth of a small export's CPU.
type readerMemory struct {
	newModule       slab[contentv1.Module]
	newLesson       slab[contentv1.Lesson]
	newQuiz         slab[contentv1.Quiz]
	newQuestion     slab[contentv1.Question]
	newOption       slab[contentv1.Option]
	newCompetency   slab[contentv1.Competency]
	newBankQuestion slab[contentv1.BankQuestion]
	newFAQ          slab[contentv1.FaqEntry]

	moduleLessons   children[contentv1.Module, *contentv1.Lesson]
	moduleQuizzes   children[contentv1.Module, *contentv1.Quiz]
	lessonQuizzes   children[contentv1.Lesson, *contentv1.Quiz]
	quizQuestions   children[contentv1.Quiz, *contentv1.Question]
	questionOptions children[contentv1.Question, *contentv1.Option]
	bankOptions     children[contentv1.BankQuestion, *contentv1.Option]
	competencyIDs   children[contentv1.Lesson, string]
}

var readerMemories = sync.Pool{New: func() any { return new(readerMemory) }}

// recycle clears m and gives it back to readerMemories.
func (m *readerMemory) recycle() {
	m.newModule.reset()
	m.newLesson.reset()
	m.newQuiz.reset()
	m.newQuestion.reset()
	m.newOption.reset()
	m.newCompetency.reset()
	m.newBankQuestion.reset()
	m.newFAQ.reset()
	m.moduleLessons.reset()
	m.moduleQuizzes.reset()
	m.lessonQuizzes.reset()
	m.quizQuestions.reset()
	m.questionOptions.reset()
	m.bankOptions.reset()
	m.competencyIDs.reset()
	readerMemories.Put(m)
}

// readCourse reads the course in one pipelined batch (see the statements). On
// an error the connection is left in its transaction, and the pool discards it
// on release.
func readCourse(ctx context.Context, conn *pgx.Conn, id uuid.UUID, entry *audit.Entry) (*contentv1.Course, error) {
	r := &courseReader{course: &contentv1.Course{}, text: textblock.FromContext(ctx),
		checkUTF8: conn.PgConn().ParameterStatus("server_encoding") != "UTF8"}
	if r.text == nil {
		r.text, r.readerMemory = &textblock.Blocks{}, new(readerMemory)
	} else {
		r.readerMemory = readerMemories.Get().(*readerMemory)
		r.text.OnRelease(r.recycle)
	}
	// The course id as pgx encodes a uuid without a fallback: a uuid.UUID,
	// a driver.Valuer, went through its text and a failed plan, twenty
	// allocations for each statement that takes it.
	courseID := pgtype.UUID{Bytes: id, Valid: true}
	batch := &pgx.Batch{}
	batch.Queue(snapshotBegin)
	for _, st := range exportStatements {
		if st.ByCourse {
			batch.Queue(st.SQL, courseID)
		} else {
			batch.Queue(st.SQL)
		}
	}
	batch.Queue("COMMIT")
	if entry != nil {
		args, err := auditArgs(entry)
		if err != nil {
			return nil, err
		}
		batch.Queue(sqlInsertAuditIfCourse, append(args, courseID)...)
	}
	results := conn.SendBatch(ctx, batch)
	defer results.Close() //nolint:errcheck // on error paths; the success path returns its error
	// snapshotBegin, then sqlReadByIndex.
	for range 2 {
		if _, err := results.Exec(); err != nil {
			return nil, fmt.Errorf("begin snapshot: %w", err)
		}
	}
	found := false
	if err := r.readRows(results, func(r *courseReader) error {
		found = true
		return r.scanCourse()
	}); err != nil {
		return nil, fmt.Errorf("read course %s: %w", id, err)
	}
	var lessons, quizzes, questions, bankQuestions int
	var kept bool // set_config's results, always true
	if err := results.QueryRow().Scan(&lessons, &quizzes, &questions, &bankQuestions, &kept); err != nil {
		return nil, fmt.Errorf("find course %s rows: %w", id, err)
	}
	r.lessons.sized(lessons)
	r.quizzes.sized(quizzes)
	r.questions.sized(questions)
	r.bankQuestions.sized(bankQuestions)
	for _, st := range contentStatements {
		if err := r.readRows(results, st.scan); err != nil {
			return nil, fmt.Errorf("read course %s: %w", id, err)
		}
	}
	if _, err := results.Exec(); err != nil {
		return nil, fmt.Errorf("commit snapshot: %w", err)
	}
	if entry != nil {
		if _, err := results.Exec(); err != nil {
			return nil, fmt.Errorf("record export: %w", err)
		}
	}
	if err := results.Close(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("course %s: %w", id, fault.ErrNotFound)
	}
	r.handOut()
	r.order()
	return r.course, nil
}

// order puts every list of the course in its exported order, once all its rows
// are read: by position, which is unique in each list (the schema's unique
// keys); a lesson's competencies and the question bank by the order of the
// competencies, which PostgreSQL sorted by code, then the bank by position. A
// list already in order, as rows written together usually come, is only
// checked.
func (r *courseReader) order() {
	c := r.course
	rank := make(map[string]int, len(c.Competencies))
	for i, comp := range c.Competencies {
		rank[comp.Id] = i
	}
	byRank := func(a, b string) int { return cmp.Compare(rank[a], rank[b]) }
	byPosition(c.Modules, (*contentv1.Module).GetPosition)
	byPosition(c.Faq, (*contentv1.FaqEntry).GetPosition)
	for _, m := range c.Modules {
		byPosition(m.Lessons, (*contentv1.Lesson).GetPosition)
		orderQuizzes(m.Quizzes)
		for _, l := range m.Lessons {
			sortIfNeeded(l.CompetencyIds, byRank)
			orderQuizzes(l.Quizzes)
		}
	}
	orderBank(c.QuestionBank, rank)
	for _, q := range c.QuestionBank {
		byPosition(q.Options, (*contentv1.Option).GetPosition)
	}
}

// orderBank sorts the question bank by the rank of each question's competency,
// then by position. Each question's key is computed once: a comparison that
// looked both ranks up was most of the ordering of a large course.
func orderBank(bank []*contentv1.BankQuestion, rank map[string]int) {
	type keyed struct {
		key int64
		q   *contentv1.BankQuestion
	}
	keys := make([]keyed, len(bank))
	for i, q := range bank {
		keys[i] = keyed{int64(rank[q.CompetencyId])<<32 | int64(q.Position), q}
	}
	sortIfNeeded(keys, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	for i, k := range keys {
		bank[i] = k.q
	}
}

func orderQuizzes(quizzes []*contentv1.Quiz) {
	byPosition(quizzes, (*contentv1.Quiz).GetPosition)
	for _, q := range quizzes {
		byPosition(q.Questions, (*contentv1.Question).GetPosition)
		for _, qq := range q.Questions {
			byPosition(qq.Options, (*contentv1.Option).GetPosition)
		}
	}
}

// byPosition sorts list by position.
func byPosition[T any](list []*T, position func(*T) int32) {
	sortIfNeeded(list, func(a, b *T) int { return cmp.Compare(position(a), position(b)) })
}

// sortIfNeeded sorts list with compare unless it is sorted already.
func sortIfNeeded[T any](list []T, compare func(a, b T) int) {
	if !slices.IsSortedFunc(list, compare) {
		slices.SortFunc(list, compare)
	}
}

// readRows reads the next result of results into the course with scan, which
// reads each row from r.row.
func (r *courseReader) readRows(results pgx.BatchResults, scan func(*courseReader) error) error {
	rows, err := results.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	r.row.start(rows)
	for rows.Next() {
		r.row.next(rows)
		if err := scan(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (r *courseReader) scanCourse() error {
	c := r.course
	_, c.Id = r.id(0)
	c.Title, c.Description = r.str(1), r.str(2)
	c.Status = contentv1.CourseStatus(r.enum(3, courseStatusByDB))
	return r.row.err
}

func (r *courseReader) scanModule() error {
	m := r.newModule.new()
	var id uuid.UUID
	id, m.Id = r.id(0)
	m.Position = r.row.int32(1)
	m.Title, m.Description = r.str(2), r.str(3)
	if r.row.err != nil {
		return r.row.err
	}
	r.course.Modules = append(r.course.Modules, m)
	r.modules.add(id, m)
	return nil
}

func (r *courseReader) scanLesson() error {
	l := r.newLesson.new()
	var id uuid.UUID
	id, l.Id = r.id(0)
	moduleID, _ := r.row.uuid(1)
	l.Position = r.row.int32(2)
	l.Title, l.VideoUrl = r.str(3), r.str(4)
	l.VideoProvider = contentv1.VideoProvider(r.enum(5, videoProviderByDB))
	l.DurationSeconds = r.row.int32(6)
	l.PracticalSummary = r.str(7)
	if items := r.row.texts(8); len(items) > 0 {
		l.Checklist = make([]string, len(items))
		for j, item := range items {
			var ok bool
			if l.Checklist[j], ok = r.copyText(item); !ok {
				return fmt.Errorf("lesson %s checklist: %w", l.Id, errNotUTF8)
			}
		}
	}
	if r.row.err != nil {
		return r.row.err
	}
	m, ok := r.modules.get(moduleID)
	if !ok {
		return fmt.Errorf("lesson %s: module %s not read", l.Id, moduleID)
	}
	r.moduleLessons.add(m, l)
	r.lessons.add(id, l)
	return nil
}

func (r *courseReader) scanQuiz() error {
	q := r.newQuiz.new()
	var id uuid.UUID
	id, q.Id = r.id(0)
	moduleID, inModule := r.row.uuid(1) // one of the parents is NULL
	lessonID, inLesson := r.row.uuid(2)
	q.Position = r.row.int32(3)
	q.Title = r.str(4)
	q.MinScore = r.row.int32(5)
	if r.row.err != nil {
		return r.row.err
	}
	if m, ok := r.modules.get(moduleID); ok && inModule {
		r.moduleQuizzes.add(m, q)
	} else if l, ok := r.lessons.get(lessonID); ok && inLesson {
		r.lessonQuizzes.add(l, q)
	} else {
		return fmt.Errorf("quiz %s: parent not read", q.Id)
	}
	r.quizzes.add(id, q)
	return nil
}

func (r *courseReader) scanQuestion() error {
	q := r.newQuestion.new()
	var id uuid.UUID
	id, q.Id = r.id(0)
	quizID, _ := r.row.uuid(1)
	q.Position = r.row.int32(2)
	q.Type = contentv1.QuestionType(r.enum(3, questionTypeByDB))
	q.Text, q.Explanation = r.str(4), r.str(5)
	if r.row.err != nil {
		return r.row.err
	}
	quiz, ok := r.quizzes.get(quizID)
	if !ok {
		return fmt.Errorf("question %s: quiz %s not read", q.Id, quizID)
	}
	r.quizQuestions.add(quiz, q)
	r.questions.add(id, q)
	return nil
}

// scanOptionRow scans an option row of either table of options.
func (r *courseReader) scanOptionRow() (o *contentv1.Option, questionID uuid.UUID, err error) {
	o = r.newOption.new()
	_, o.Id = r.id(0)
	questionID, _ = r.row.uuid(1)
	o.Position = r.row.int32(2)
	o.Text = r.str(3)
	o.Correct = r.row.bool(4)
	o.Feedback = r.str(5)
	return o, questionID, r.row.err
}

func (r *courseReader) scanOption() error {
	o, questionID, err := r.scanOptionRow()
	if err != nil {
		return err
	}
	q, ok := r.questions.get(questionID)
	if !ok {
		return fmt.Errorf("option %s: question %s not read", o.Id, questionID)
	}
	r.questionOptions.add(q, o)
	return nil
}

func (r *courseReader) scanLink() error {
	lessonID, _ := r.row.uuid(0)
	_, competencyID := r.id(1)
	if r.row.err != nil {
		return r.row.err
	}
	l, ok := r.lessons.get(lessonID)
	if !ok {
		return fmt.Errorf("competency link: lesson %s not read", lessonID)
	}
	r.competencyIDs.add(l, competencyID)
	return nil
}

func (r *courseReader) scanCompetency() error {
	c := r.newCompetency.new()
	_, c.Id = r.id(0)
	c.Code, c.Name, c.Description = r.str(1), r.str(2), r.str(3)
	if r.row.err != nil {
		return r.row.err
	}
	r.course.Competencies = append(r.course.Competencies, c)
	return nil
}

func (r *courseReader) scanBankQuestion() error {
	q := r.newBankQuestion.new()
	var id uuid.UUID
	id, q.Id = r.id(0)
	_, q.CompetencyId = r.id(1)
	q.Position = r.row.int32(2)
	q.Type = contentv1.QuestionType(r.enum(3, questionTypeByDB))
	q.Text, q.Explanation = r.str(4), r.str(5)
	if r.row.err != nil {
		return r.row.err
	}
	r.course.QuestionBank = append(r.course.QuestionBank, q)
	r.bankQuestions.add(id, q)
	return nil
}

func (r *courseReader) scanBankOption() error {
	o, questionID, err := r.scanOptionRow()
	if err != nil {
		return err
	}
	q, ok := r.bankQuestions.get(questionID)
	if !ok {
		return fmt.Errorf("bank option %s: question %s not read", o.Id, questionID)
	}
	r.bankOptions.add(q, o)
	return nil
}

func (r *courseReader) scanFAQ() error {
	f := r.newFAQ.new()
	_, f.Id = r.id(0)
	f.Position = r.row.int32(1)
	f.Question, f.Answer = r.str(2), r.str(3)
	if r.row.err != nil {
		return r.row.err
	}
	r.course.Faq = append(r.course.Faq, f)
	return nil
}
