package backup

import (
	"context"
	"errors"
)

// Failure codes: what a run, a verification or a restore reports when it fails.
// They are recorded with each run and shown to managers (in Portuguese, see
// FailureMessage); the error text itself is for operators.
const (
	CodeDatabaseUnavailable = "DATABASE_UNAVAILABLE"
	CodeToolMissing         = "TOOL_MISSING"
	CodeDumpFailed          = "DUMP_FAILED"
	CodeDestinationFailed   = "DESTINATION_FAILED"
	CodeVerifyFailed        = "VERIFY_FAILED"
	CodeInterrupted         = "INTERRUPTED"
	CodeNotFound            = "BACKUP_NOT_FOUND"
	CodeManifestInvalid     = "MANIFEST_INVALID"
	CodeChecksumMismatch    = "CHECKSUM_MISMATCH"
	CodeArchiveUnreadable   = "ARCHIVE_UNREADABLE"
	CodeVersionUnsupported  = "VERSION_UNSUPPORTED"
	CodeTargetIsSource      = "TARGET_IS_SOURCE"
	CodeTargetNotEmpty      = "TARGET_NOT_EMPTY"
	CodeRestoreFailed       = "RESTORE_FAILED"
	CodeMigrateFailed       = "MIGRATE_FAILED"
	CodeIntegrityDiffers    = "INTEGRITY_DIFFERS"
	CodeInternal            = "INTERNAL"
)

var failureMessages = map[string]string{
	CodeDatabaseUnavailable: "O banco de dados não respondeu.",
	CodeToolMissing:         "O pg_dump compatível com a versão do servidor não está instalado.",
	CodeDumpFailed:          "O pg_dump falhou ao copiar o banco.",
	CodeDestinationFailed:   "Não foi possível gravar no destino dos backups.",
	CodeVerifyFailed:        "O arquivo gerado não passou na verificação e foi descartado.",
	CodeInterrupted:         "O backup foi interrompido antes de terminar.",
	CodeNotFound:            "O backup não foi encontrado.",
	CodeManifestInvalid:     "O manifesto do backup está ausente ou inválido.",
	CodeChecksumMismatch:    "O arquivo do backup não confere com o SHA-256 do manifesto.",
	CodeArchiveUnreadable:   "O arquivo do backup está danificado ou incompleto.",
	CodeVersionUnsupported:  "O backup é de uma versão do PostgreSQL mais nova que a do destino ou a do pg_restore instalado.",
	CodeTargetIsSource:      "O destino da restauração é o próprio banco de origem.",
	CodeTargetNotEmpty:      "O banco de destino já contém dados.",
	CodeRestoreFailed:       "O pg_restore falhou; o banco de destino ficou como estava.",
	CodeMigrateFailed:       "As migrações falharam depois da restauração.",
	CodeIntegrityDiffers:    "As contagens depois da restauração diferem das do backup.",
	CodeInternal:            "Erro interno.",
}

// FailureMessage says, in Portuguese for managers, what a failure code means.
func FailureMessage(code string) string {
	if m, ok := failureMessages[code]; ok {
		return m
	}
	return failureMessages[CodeInternal]
}

// Error is a failure of the routine with its code; Err says what happened, for
// operators, without secrets.
type Error struct {
	Code string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// fail wraps err with a code, unless it already has one; a cancelled context
// always reads as an interruption.
func fail(code string, err error) error {
	if err == nil {
		return nil
	}
	var be *Error
	if errors.As(err, &be) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		code = CodeInterrupted
	}
	return &Error{Code: code, Err: err}
}

// CodeOf returns the failure code of err: its own, or INTERNAL.
func CodeOf(err error) string {
	var be *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &be):
		return be.Code
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return CodeInterrupted
	}
	return CodeInternal
}
