// Package load puts a bounded, mixed load on contentd replicas over REST — the
// way the managers' pages and the LMS call it — and checks what the load left in
// the database: every answer was 2xx or a documented 4xx, no deadlock, and every
// imported course is distinct and holds exactly the rows of its file.
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
)

// Options shape a run.
type Options struct {
	// Targets are the base URLs of the replicas' REST gateways; client i calls
	// Targets[i % len(Targets)], and retries go to the next one.
	Targets []string
	// Token is a gestor's bearer token.
	Token string
	// Clients call concurrently, for Duration.
	Clients  int
	Duration time.Duration
	// Files are the course files applied and analysed, each many times:
	// concurrent first applies of a file race to create its competencies.
	Files [][]byte
	// Seed makes the mix of calls repeatable.
	Seed uint64
}

// Op is a kind of call of the mix.
type Op string

// The mix, with the status each call must get.
const (
	OpApply         Op = "apply"          // 200: a new course
	OpRetry         Op = "apply retry"    // 200: an earlier apply's key and file, on another replica: the same course
	OpStaleDigest   Op = "apply stale"    // 412: If-Match of another file
	OpAnalyze       Op = "analyze"        // 200
	OpExport        Op = "export"         // 200
	OpExportMissing Op = "export missing" // 404
	OpList          Op = "list courses"   // 200
	OpBatches       Op = "list imports"   // 200
)

// mix is the share of each call, out of 100.
var mix = []struct {
	op     Op
	weight int
}{
	{OpApply, 20}, {OpRetry, 5}, {OpStaleDigest, 3}, {OpAnalyze, 17},
	{OpExport, 25}, {OpExportMissing, 3}, {OpList, 20}, {OpBatches, 7},
}

var wantStatus = map[Op]int{
	OpApply: http.StatusOK, OpRetry: http.StatusOK, OpStaleDigest: http.StatusPreconditionFailed,
	OpAnalyze: http.StatusOK, OpExport: http.StatusOK, OpExportMissing: http.StatusNotFound,
	OpList: http.StatusOK, OpBatches: http.StatusOK,
}

// Stats are the calls of one kind.
type Stats struct {
	Op        Op
	Calls     int
	Latencies []time.Duration // sorted once the run ends
}

// Percentile is the latency below which p (0..1) of the calls ended.
func (s *Stats) Percentile(p float64) time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	return s.Latencies[min(len(s.Latencies)-1, int(p*float64(len(s.Latencies))))]
}

// Applied is one course the run created.
type Applied struct {
	CourseID, BatchID, Key string
	File                   int
}

// Result is what a run did.
type Result struct {
	Elapsed time.Duration
	Stats   []*Stats
	// Problems are the calls that did not get their status, or contradicted an
	// earlier answer.
	Problems []string
	Applied  []Applied
}

// Calls is the number of calls of every kind.
func (r *Result) Calls() int {
	n := 0
	for _, s := range r.Stats {
		n += s.Calls
	}
	return n
}

type run struct {
	opt     Options
	client  *http.Client
	digests []string // of each file

	mu       sync.Mutex
	stats    map[Op]*Stats
	problems []string
	applied  []Applied
	courses  []string // what exports pick from
}

// Run drives the load and returns what happened; an error means the run could
// not start.
func Run(ctx context.Context, opt Options) (*Result, error) {
	if len(opt.Targets) == 0 || len(opt.Files) == 0 || opt.Clients < 1 {
		return nil, fmt.Errorf("load: targets, files and clients are required")
	}
	r := &run{opt: opt, stats: map[Op]*Stats{},
		client: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: opt.Clients}}}
	defer r.client.CloseIdleConnections()
	for _, f := range opt.Files {
		var findings coursefile.Findings
		file := coursefile.Decode(f, &findings)
		if file == nil {
			return nil, fmt.Errorf("load: a file does not decode: %v", findings.Errors())
		}
		r.digests = append(r.digests, coursefile.Digest(file))
	}
	var page struct{ Courses []struct{ ID string } }
	if err := r.getJSON(ctx, opt.Targets[0]+"/gestor/courses?pageSize=100", &page); err != nil {
		return nil, fmt.Errorf("load: list the courses: %w", err)
	}
	for _, c := range page.Courses {
		r.courses = append(r.courses, c.ID)
	}

	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, opt.Duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range opt.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(opt.Seed, uint64(i)))
			for n := 0; ctx.Err() == nil; n++ {
				r.call(i, n, rng)
			}
		}()
	}
	wg.Wait()
	res := &Result{Elapsed: time.Since(start), Problems: r.problems, Applied: r.applied}
	for _, m := range mix {
		if s := r.stats[m.op]; s != nil {
			slices.Sort(s.Latencies)
			res.Stats = append(res.Stats, s)
		}
	}
	return res, nil
}

// call makes one call of the mix. Calls are not cut by the end of the run: each
// started call ends, so that an apply is never abandoned halfway.
func (r *run) call(client, n int, rng *rand.Rand) {
	op := pick(rng)
	target := r.opt.Targets[client%len(r.opt.Targets)]
	other := r.opt.Targets[(client+1)%len(r.opt.Targets)]
	file := rng.IntN(len(r.opt.Files))
	key := fmt.Sprintf("load-%d-%d-%d", r.opt.Seed, client, n)
	var req *http.Request
	var retryOf *Applied
	switch op {
	case OpApply:
		req = r.post(target+"/gestor/import/apply", r.opt.Files[file], map[string]string{
			"Idempotency-Key": key, "If-Match": `"` + r.digests[file] + `"`})
	case OpRetry:
		r.mu.Lock()
		if len(r.applied) > 0 {
			a := r.applied[rng.IntN(len(r.applied))]
			retryOf = &a
		}
		r.mu.Unlock()
		if retryOf == nil {
			op, req = OpAnalyze, r.post(target+"/gestor/import/analyze", r.opt.Files[file], nil)
			break
		}
		req = r.post(other+"/gestor/import/apply", r.opt.Files[retryOf.File], map[string]string{"Idempotency-Key": retryOf.Key})
	case OpStaleDigest:
		stale := r.digests[(file+1)%len(r.digests)]
		if stale == r.digests[file] {
			stale = "0000" + stale[4:]
		}
		req = r.post(target+"/gestor/import/apply", r.opt.Files[file], map[string]string{"If-Match": `"` + stale + `"`})
	case OpAnalyze:
		req = r.post(target+"/gestor/import/analyze", r.opt.Files[file], nil)
	case OpExport:
		r.mu.Lock()
		id := r.courses[rng.IntN(len(r.courses))]
		r.mu.Unlock()
		req = r.get(target + "/gestor/export/course/" + id)
	case OpExportMissing:
		req = r.get(target + "/gestor/export/course/00000000-0000-4000-8000-000000000000")
	case OpList:
		q := url.Values{"pageSize": {fmt.Sprint(1 + rng.IntN(50))}}
		if rng.IntN(2) == 0 {
			q.Set("status", "COURSE_STATUS_DRAFT")
		}
		if rng.IntN(3) == 0 {
			q.Set("titleQuery", "a")
		}
		req = r.get(target + "/gestor/courses?" + q.Encode())
	case OpBatches:
		req = r.get(target + "/gestor/import/batches?pageSize=20")
	}
	start := time.Now()
	resp, err := r.client.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	took := time.Since(start)

	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats[op]
	if s == nil {
		s = &Stats{Op: op}
		r.stats[op] = s
	}
	s.Calls++
	s.Latencies = append(s.Latencies, took)
	switch {
	case err != nil:
		r.problems = append(r.problems, fmt.Sprintf("%s: %v", op, err))
		return
	case resp.StatusCode != wantStatus[op]:
		r.problems = append(r.problems, fmt.Sprintf("%s %s: %d %.300s", op, req.URL.Path, resp.StatusCode, body))
		return
	}
	switch op {
	case OpApply:
		var out contentv1.ApplyImportResponse
		if err := decode(body, &out); err != nil {
			r.problems = append(r.problems, fmt.Sprintf("apply: %v", err))
			return
		}
		r.applied = append(r.applied, Applied{CourseID: out.GetCourseId(), BatchID: out.GetImportBatchId(), Key: key, File: file})
		r.courses = append(r.courses, out.GetCourseId())
	case OpRetry:
		var out contentv1.ApplyImportResponse
		if err := decode(body, &out); err != nil || out.GetCourseId() != retryOf.CourseID {
			r.problems = append(r.problems, fmt.Sprintf("retry of key %s gave course %s, the first apply %s (%v)", retryOf.Key, out.GetCourseId(), retryOf.CourseID, err))
		}
	}
}

func pick(rng *rand.Rand) Op {
	n := rng.IntN(100)
	for _, m := range mix {
		if n < m.weight {
			return m.op
		}
		n -= m.weight
	}
	return OpList
}

func (r *run) get(u string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, u, nil) // no context: a started call always ends (see call)
	req.Header.Set("Authorization", "Bearer "+r.opt.Token)
	return req
}

func (r *run) post(u string, body []byte, headers map[string]string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body)) // no context: a started call always ends (see call)
	req.Header.Set("Authorization", "Bearer "+r.opt.Token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}

func (r *run) getJSON(ctx context.Context, u string, v any) error {
	req := r.get(u).WithContext(ctx)
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func decode(body []byte, v *contentv1.ApplyImportResponse) error {
	var raw struct {
		CourseID      string `json:"courseId"`
		ImportBatchID string `json:"importBatchId"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return err
	}
	v.CourseId, v.ImportBatchId = raw.CourseID, raw.ImportBatchID
	return nil
}

// Check compares the database with what the run did: one course and one batch
// per apply (retries created nothing), each course a DRAFT holding exactly the
// rows of its file, no competency or bank question twice, and no deadlock
// since deadlocksBefore (see Deadlocks).
func Check(ctx context.Context, pool *pgxpool.Pool, opt Options, res *Result, deadlocksBefore int64) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	expected := make([]rowCounts, len(opt.Files))
	for i, f := range opt.Files {
		expected[i] = countFile(coursefile.Decode(f, &coursefile.Findings{}))
	}
	seen := map[string]bool{}
	for _, a := range res.Applied {
		if seen[a.CourseID] {
			fail("course %s was returned by two applies", a.CourseID)
		}
		seen[a.CourseID] = true
		var got rowCounts
		var status string
		if err := pool.QueryRow(ctx, sqlCourseRows, a.CourseID).Scan(&status, &got.modules, &got.lessons, &got.quizzes,
			&got.questions, &got.options, &got.links, &got.faq); err != nil {
			fail("course %s: %v", a.CourseID, err)
			continue
		}
		if status != "DRAFT" || got != expected[a.File] {
			fail("course %s (file %d) is %s with %+v, want DRAFT with %+v", a.CourseID, a.File, status, got, expected[a.File])
		}
	}
	var imported, batches, dupCompetencies, dupBank int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM courses WHERE import_batch_id IS NOT NULL),
		(SELECT count(*) FROM import_batches),
		(SELECT count(*) FROM (SELECT code FROM competencies GROUP BY code HAVING count(*) > 1) d),
		(SELECT count(*) FROM (SELECT competency_id, text FROM bank_questions GROUP BY 1, 2 HAVING count(*) > 1) d)`).
		Scan(&imported, &batches, &dupCompetencies, &dupBank); err != nil {
		fail("totals: %v", err)
	}
	if imported != int64(len(res.Applied)) || batches != int64(len(res.Applied)) {
		fail("%d imported courses and %d batches for %d applies", imported, batches, len(res.Applied))
	}
	if dupCompetencies > 0 || dupBank > 0 {
		fail("%d competency codes and %d bank questions were created twice", dupCompetencies, dupBank)
	}
	if after, err := Deadlocks(ctx, pool); err != nil || after != deadlocksBefore {
		fail("deadlocks detected by PostgreSQL during the run: %d → %d (%v)", deadlocksBefore, after, err)
	}
	return problems
}

// Deadlocks is PostgreSQL's count of deadlocks in the pool's database.
func Deadlocks(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var n int64
	err := pool.QueryRow(ctx, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	return n, err
}

type rowCounts struct {
	modules, lessons, quizzes, questions, options, links, faq int64
}

const sqlCourseRows = `
WITH m AS (SELECT id FROM modules WHERE course_id = $1),
     l AS (SELECT id FROM lessons WHERE module_id IN (SELECT id FROM m)),
     q AS (SELECT id FROM quizzes WHERE module_id IN (SELECT id FROM m) OR lesson_id IN (SELECT id FROM l)),
     qq AS (SELECT id FROM quiz_questions WHERE quiz_id IN (SELECT id FROM q))
SELECT (SELECT status FROM courses WHERE id = $1),
       (SELECT count(*) FROM m), (SELECT count(*) FROM l), (SELECT count(*) FROM q), (SELECT count(*) FROM qq),
       (SELECT count(*) FROM quiz_options WHERE question_id IN (SELECT id FROM qq)),
       (SELECT count(*) FROM lesson_competencies WHERE lesson_id IN (SELECT id FROM l)),
       (SELECT count(*) FROM course_faqs WHERE course_id = $1)`

// countFile counts the rows a file's course has, from the file alone.
func countFile(f *contentv1.CourseExport) rowCounts {
	var c rowCounts
	quiz := func(q *contentv1.Quiz) {
		c.quizzes++
		for _, qq := range q.GetQuestions() {
			c.questions++
			c.options += int64(len(qq.GetOptions()))
		}
	}
	for _, m := range f.GetCourse().GetModules() {
		c.modules++
		for _, q := range m.GetQuizzes() {
			quiz(q)
		}
		for _, l := range m.GetLessons() {
			c.lessons++
			c.links += int64(len(l.GetCompetencyIds()))
			for _, q := range l.GetQuizzes() {
				quiz(q)
			}
		}
	}
	c.faq = int64(len(f.GetCourse().GetFaq()))
	return c
}
