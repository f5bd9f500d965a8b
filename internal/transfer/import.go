package transfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/audit"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// ImportStore is what imports need from the database.
type ImportStore interface {
	// Import runs attempt in one read-write transaction, committed only when the
	// attempt returns Commit and no error. The attempt runs again when the
	// transaction loses a race, so it must start afresh; Import returns the
	// outcome of the last run, also with its error. A row the database refuses
	// ends the transaction with a *fault.Rejection.
	Import(ctx context.Context, attempt func(ImportTx) (*ImportAttempt, error)) (*ImportAttempt, error)
}

// ImportAttempt is the outcome of one run of an import transaction.
type ImportAttempt struct {
	// Commit keeps what the attempt wrote; a dry run, a file with errors and a
	// replay never commit.
	Commit bool
	result *importResult
}

// ImportTx is the database inside one import transaction.
type ImportTx interface {
	// LockKey serialises the transactions that use the same idempotency key,
	// across processes, until the end of the transaction.
	LockKey(ctx context.Context, key string) error
	// BatchByKey returns the batch recorded with an idempotency key, or nil.
	BatchByKey(ctx context.Context, key string) (*ImportBatch, error)
	// BatchesByDigest returns the earlier imports of a content digest, newest first.
	BatchesByDigest(ctx context.Context, digest string) ([]ImportBatch, error)
	// CompetenciesByCode returns the existing competencies with these codes, by code.
	CompetenciesByCode(ctx context.Context, codes []string) (map[string]ExistingCompetency, error)
	// BankQuestions returns the existing bank questions of these competencies.
	BankQuestions(ctx context.Context, competencyIDs []string) ([]ExistingBankQuestion, error)
	// CreateBatch records an import batch.
	CreateBatch(ctx context.Context, b *ImportBatch) error
	// WriteCourse writes c with the ids it carries (every competency of c is new),
	// tagging each row with the batch and with its id in the file (fileID gives
	// it for an id).
	WriteCourse(ctx context.Context, c *contentv1.Course, batchID uuid.UUID, fileID func(id string) (string, bool)) error
	// WriteAudit records an audit log entry.
	WriteAudit(ctx context.Context, e *audit.Entry) error
}

// ImportBatch is one applied import.
type ImportBatch struct {
	ID             uuid.UUID
	CreatedAt      time.Time
	Actor          audit.Actor
	Digest         string
	Counts         []byte // protojson of ImportCounts
	IdempotencyKey string
	CourseID       uuid.UUID
	// SourceEnvironment and SourceCourseID say where the file came from.
	SourceEnvironment, SourceCourseID string
	// Result is the ApplyImportResponse (binary protobuf) replayed for the same
	// key; a batch without a key has none. When writing, it is the first part,
	// and ResultParts the others, made one at a time as they are written; read
	// back, Result is all of them concatenated, which protobuf reads as the
	// whole response.
	Result      []byte
	ResultParts iter.Seq[[]byte]
}

// ExistingCompetency is a competency already in the database.
type ExistingCompetency struct {
	ID   string
	Name string
}

// ExistingBankQuestion is a bank question already in the database.
type ExistingBankQuestion struct {
	ID           string
	CompetencyID string
	Position     int32
	Text         string
}

// ImportInput is a file to analyse or apply: the JSON as it arrives (Body),
// the JSON bytes (Raw) or a parsed message. A body is read as it is parsed (see
// coursefile.Stream); its read errors end the import as they are, so the
// transport gives them their meaning. A message is consumed: the import
// rewrites its ids and positions in place rather than copy what can be a very
// large course.
type ImportInput struct {
	Body io.Reader
	Raw  []byte
	File *contentv1.CourseExport
}

// AnalyzeImport validates a file and reports what ApplyImport would create,
// changing nothing: it runs the very same code as ApplyImport in a transaction
// that is rolled back. A file that cannot be parsed at all is an InvalidArgument
// error carrying the report.
func (s *Service) AnalyzeImport(ctx context.Context, in ImportInput) (report *contentv1.ImportReport, err error) {
	in = in.counted()
	defer func() { s.cfg.Observer.Imported(OperationAnalyze, outcome(err, report), in.fileBytes(), 0) }()
	res, err := s.runImport(ctx, in, importOptions{dryRun: true})
	entry := &audit.Entry{Action: ActionAnalyzeImport, TargetType: "file", Details: map[string]any{}}
	if res != nil {
		entry.TargetID = res.report.GetDigest()
		entry.Details = map[string]any{"digest": res.report.GetDigest(), "ok": res.report.GetOk(),
			"errors": len(res.report.GetErrors()), "warnings": len(res.report.GetWarnings())}
	}
	if err := s.audit(ctx, entry, err); err != nil {
		return nil, err
	}
	return res.report, nil
}

// maxIdempotencyKeyLen bounds an idempotency key, in characters.
const maxIdempotencyKeyLen = 200

// ApplyImport creates a new DRAFT course from a file in one transaction, or
// nothing at all. With an idempotency key, a repeat returns the first result. With
// an expected digest, a file whose digest differs is refused.
func (s *Service) ApplyImport(ctx context.Context, in ImportInput, idempotencyKey, expectedDigest string) (resp *contentv1.ApplyImportResponse, err error) {
	in = in.counted()
	var res *importResult
	defer func() {
		bytes := in.fileBytes()
		switch {
		case err == nil && res.replayed:
			s.cfg.Observer.Imported(OperationApply, OutcomeReplayed, bytes, 0)
		case err == nil:
			s.cfg.Observer.Imported(OperationApply, OutcomeOK, bytes, createdRows(resp.GetReport().GetCounts()))
		case res != nil:
			s.cfg.Observer.Imported(OperationApply, outcome(err, res.report), bytes, 0)
		default:
			s.cfg.Observer.Imported(OperationApply, outcome(err, nil), bytes, 0)
		}
	}()
	if err := checkIdempotencyKey(idempotencyKey); err != nil {
		return nil, err
	}
	expected, err := checkExpectedDigest(expectedDigest)
	if err != nil {
		return nil, err
	}
	res, err = s.runImport(ctx, in, importOptions{key: idempotencyKey, expectedDigest: expected})
	if err == nil && !res.report.GetOk() {
		err = reportError(res.report, "O arquivo tem erros e não foi importado. Nada foi gravado.")
	}
	if err == nil && !res.replayed {
		return res.response, nil // audited inside the import's own transaction
	}
	entry := &audit.Entry{Action: ActionApplyImport, TargetType: "file", Details: map[string]any{}}
	if res != nil {
		entry.TargetID = res.report.GetDigest()
		entry.Details["digest"] = res.report.GetDigest()
		if res.replayed {
			entry.TargetType, entry.TargetID = "course", res.response.GetCourseId()
			entry.Details["importBatchId"] = res.response.GetImportBatchId()
			entry.Details["replayedForKey"] = idempotencyKey
		}
	}
	if err := s.audit(ctx, entry, err); err != nil {
		return nil, err
	}
	return res.response, nil
}

type importOptions struct {
	dryRun         bool
	key            string
	expectedDigest string
}

type importResult struct {
	report *contentv1.ImportReport
	// response has no id map while the transaction runs: idMap is it, compact,
	// until the course is written (see idMapEntry).
	response *contentv1.ApplyImportResponse
	idMap    idMap
	// replayed: the response is the stored one of an earlier apply with the same key.
	replayed bool
}

func (s *Service) runImport(ctx context.Context, in ImportInput, opt importOptions) (*importResult, error) {
	var static coursefile.Findings
	file := in.File
	if in.Body != nil {
		var err error
		file, in.Raw, err = coursefile.Stream(&limitedReader{r: in.Body, left: int64(s.cfg.MaxFileBytes)}, "")
		if errors.Is(err, errFileTooLarge) {
			return nil, fault.New(fault.ErrTooLarge, "FILE_TOO_LARGE", "",
				fmt.Sprintf("O arquivo passa do limite de %s.", humanBytes(s.cfg.MaxFileBytes)))
		}
		if err != nil {
			return nil, err // the transport's
		}
	}
	if file == nil {
		if len(in.Raw) > s.cfg.MaxFileBytes {
			return nil, fault.New(fault.ErrTooLarge, "FILE_TOO_LARGE", "",
				fmt.Sprintf("O arquivo tem %s; o limite é %s.", humanBytes(len(in.Raw)), humanBytes(s.cfg.MaxFileBytes)))
		}
		if len(bytes.TrimSpace(in.Raw)) == 0 {
			return nil, fault.New(fault.ErrInvalidArgument, "EMPTY_FILE", "", "O arquivo está vazio: envie o JSON exportado como corpo da requisição.")
		}
		file = coursefile.Decode(in.Raw, &static)
		in.Raw = nil // the file can be large: no reference to it beyond this point
		if file == nil {
			report := &contentv1.ImportReport{Counts: &contentv1.ImportCounts{}, Errors: static.Errors(), Warnings: static.Warnings()}
			return nil, reportError(report, "")
		}
	}
	// Validation and the digest only read the file: they run side by side.
	var digest string
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		digest = coursefile.Digest(file)
	}()
	coursefile.Validate(file, &static)
	<-hashed
	if want := opt.expectedDigest; want != "" && want != digest {
		return nil, fault.New(fault.ErrFailedPrecondition, "DIGEST_MISMATCH", "expectedDigest",
			"O arquivo mudou desde a análise (o digest não confere). Analise o arquivo novamente antes de aplicar.")
	}
	// A valid file (validate guarantees it has a course) is prepared in place
	// rather than copied, since it can be as large as the file: positions
	// normalised, new ids assigned once, so that a transaction that runs again
	// starts from the same ids. A file with errors is never written.
	var prepared *importCourse
	if !static.HasErrors() {
		coursefile.Normalize(file.GetCourse())
		prepared = prepareImport(file.GetCourse())
		prepared.sourceEnv = file.GetSource().GetEnvironment()
	}
	a, err := s.store.Import(ctx, func(tx ImportTx) (*ImportAttempt, error) {
		return s.importAttempt(ctx, tx, file, prepared, static.Clone(), digest, opt)
	})
	var rejection *fault.Rejection
	switch {
	case errors.As(err, &rejection) && a != nil && a.result != nil:
		// The database refused what validation let through: a truthful analysis says so.
		res := a.result
		res.report.Ok = false
		res.report.Errors = append(res.report.Errors, &contentv1.Finding{Code: "DATABASE_REJECTED", Message: fmt.Sprintf(
			"O banco de dados recusou os dados (%s em %s); nada foi gravado.", rejection.Constraint, rejection.Table)})
		res.response = nil
		return res, nil
	case err != nil:
		return nil, fmt.Errorf("import: %w", err)
	}
	// The course is written and no longer referenced: the id map's messages are
	// made now, in the memory it leaves.
	if res := a.result; !opt.dryRun && res.response != nil && res.idMap.len() > 0 {
		res.response.IdMap, res.idMap = res.idMap.messages(), idMap{}
	}
	return a.result, nil
}

// importAttempt is one run of the import transaction: the replay of an earlier
// apply with the same key, or the plan of the file and, for a valid file, its
// writes (a dry run writes too, so that the database judges every row, and
// does not commit).
func (s *Service) importAttempt(ctx context.Context, tx ImportTx, file *contentv1.CourseExport, prepared *importCourse,
	f *coursefile.Findings, digest string, opt importOptions) (*ImportAttempt, error) {
	if opt.key != "" {
		if err := tx.LockKey(ctx, opt.key); err != nil {
			return nil, err
		}
		prior, err := tx.BatchByKey(ctx, opt.key)
		if err != nil {
			return nil, err
		}
		if prior != nil {
			res, err := replay(prior, digest)
			return &ImportAttempt{result: res}, err
		}
	}
	earlier, err := tx.BatchesByDigest(ctx, digest)
	if err != nil {
		return nil, err
	}
	for _, b := range earlier {
		f.Warnf("ALREADY_IMPORTED", "", "Este mesmo conteúdo já foi importado em %s UTC (lote %s, curso %s); importar de novo cria outro curso.",
			b.CreatedAt.UTC().Format("02/01/2006 15:04"), b.ID, b.CourseID)
	}
	// Counts start at zero (nothing is created from a file with errors), never absent.
	report := &contentv1.ImportReport{FormatVersion: file.GetFormatVersion(), Digest: digest, Counts: &contentv1.ImportCounts{},
		CourseTitle: strings.Clone(file.GetCourse().GetTitle())} // the report outlives the parsed file
	res := &importResult{report: report}
	if prepared == nil {
		report.Errors, report.Warnings = f.Errors(), f.Warnings()
		return &ImportAttempt{result: res}, nil // the file has errors: nothing to write
	}
	p, err := prepared.plan(ctx, tx, f)
	if err != nil {
		return nil, err
	}
	report.Ok = true
	report.Counts = p.counts
	report.Errors, report.Warnings = f.Errors(), f.Warnings()
	res.response = &contentv1.ApplyImportResponse{CourseId: p.course.GetId(), ImportBatchId: p.batchID.String(), Report: report}
	res.idMap = p.idMap
	err = s.write(ctx, tx, prepared, p, res.response, digest, opt.key)
	return &ImportAttempt{Commit: !opt.dryRun, result: res}, err
}

// write records the batch, the course and the audit entry. The batch keeps
// the response to replay only when there is an idempotency key to replay it
// for: without one, a large course's id map would be written for nothing.
func (s *Service) write(ctx context.Context, tx ImportTx, ic *importCourse, p *importPlan, resp *contentv1.ApplyImportResponse, digest, key string) error {
	actor := audit.ActorFrom(ctx)
	counts, err := protojson.Marshal(p.counts)
	if err != nil {
		return err
	}
	var marshalErr error
	courseID := uuid.MustParse(p.course.GetId())
	batch := &ImportBatch{
		ID: p.batchID, Actor: actor, Digest: digest, Counts: counts, IdempotencyKey: key, CourseID: courseID,
		SourceEnvironment: ic.sourceEnv, SourceCourseID: ic.sourceID,
	}
	if key != "" {
		if batch.Result, err = proto.Marshal(resp); err != nil { // without its id map, which follows in parts
			return err
		}
		batch.ResultParts = idMapParts(p.idMap, &marshalErr)
	}
	if err := tx.CreateBatch(ctx, batch); err != nil || marshalErr != nil {
		return errors.Join(marshalErr, err)
	}
	if err := tx.WriteCourse(ctx, p.course, p.batchID, ic.ids.fileID); err != nil {
		return err
	}
	return tx.WriteAudit(ctx, &audit.Entry{
		Actor: actor, Action: ActionApplyImport, TargetType: "course", TargetID: courseID.String(), Outcome: "OK",
		Details: map[string]any{"importBatchId": p.batchID.String(), "digest": digest, "sourceCourseId": ic.sourceID},
	})
}

// idMapPartLen is how many id map entries one part of the replay record holds
// (about 200 KiB).
const idMapPartLen = 2048

// idMapParts writes m as ApplyImportResponse messages of idMapPartLen entries
// each, one at a time (see appendIDMapPart); an entry that cannot be written
// ends the parts and its error is set in *err.
func idMapParts(m idMap, err *error) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for part := range m.chunks(idMapPartLen) {
			b, e := appendIDMapPart(nil, part)
			if e != nil {
				*err = e
				return
			}
			if !yield(b) {
				return
			}
		}
	}
}

// replay returns the stored result of an earlier apply with the same key, or a
// conflict when the key was used for other content.
func replay(prior *ImportBatch, digest string) (*importResult, error) {
	if prior.Digest != digest {
		return nil, fault.New(fault.ErrConflict, "IDEMPOTENCY_KEY_REUSED", "idempotencyKey",
			fmt.Sprintf("Esta chave de idempotência já foi usada em %s UTC para outro arquivo (lote %s). Use uma chave nova.",
				prior.CreatedAt.UTC().Format("02/01/2006 15:04"), prior.ID))
	}
	var resp contentv1.ApplyImportResponse
	if err := proto.Unmarshal(prior.Result, &resp); err != nil {
		return nil, fmt.Errorf("replay batch %s: %w", prior.ID, err)
	}
	return &importResult{report: resp.GetReport(), response: &resp, replayed: true}, nil
}

// reportError is the InvalidArgument error of a file with errors; it carries the
// report, and its code, path and message are those of the first error (or msg).
func reportError(report *contentv1.ImportReport, msg string) error {
	first := report.GetErrors()[0]
	e := fault.New(fault.ErrInvalidArgument, first.GetCode(), first.GetPath(), first.GetMessage())
	if msg != "" {
		e.Code, e.Path, e.Message = "IMPORT_HAS_ERRORS", "", msg
	}
	e.Details = append(e.Details, report)
	return e
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
