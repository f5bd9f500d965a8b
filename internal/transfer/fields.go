package transfer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// The request fields around a file are checked here, before they reach SQL: a
// value PostgreSQL cannot store (a NUL in text) or that is not text at all
// (invalid UTF-8, which a REST query string can carry) is the caller's error.

// textProblem says, in Portuguese, what is wrong with s as text; "" when nothing is.
func textProblem(s string, allowControl bool) string {
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		return fmt.Sprintf("não é texto UTF-8 válido (byte 0x%02X na posição %d)", s[i], i+1)
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return fmt.Sprintf("contém o caractere nulo (\\u0000) na posição %d", utf8.RuneCountInString(s[:i])+1)
	}
	if !allowControl {
		if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
			return fmt.Sprintf("contém um caractere de controle na posição %d", utf8.RuneCountInString(s[:i])+1)
		}
	}
	return ""
}

// checkTitleQuery checks the title filter of ListCourses.
func checkTitleQuery(q string) error {
	if p := textProblem(q, false); p != "" {
		return fault.New(fault.ErrInvalidArgument, "INVALID_TITLE_QUERY", "titleQuery", "O filtro de título "+p+".")
	}
	if utf8.RuneCountInString(q) > maxTitleQuery {
		return fault.New(fault.ErrInvalidArgument, "TITLE_QUERY_TOO_LONG", "titleQuery",
			fmt.Sprintf("O filtro de título deve ter no máximo %d caracteres.", maxTitleQuery))
	}
	return nil
}

// checkIdempotencyKey checks the key of ApplyImport (the Idempotency-Key header).
func checkIdempotencyKey(key string) error {
	if p := textProblem(key, false); p != "" {
		return fault.New(fault.ErrInvalidArgument, "INVALID_IDEMPOTENCY_KEY", "idempotencyKey", "A chave de idempotência "+p+".")
	}
	if utf8.RuneCountInString(key) > maxIdempotencyKeyLen {
		return fault.New(fault.ErrInvalidArgument, "INVALID_IDEMPOTENCY_KEY", "idempotencyKey",
			fmt.Sprintf("A chave de idempotência deve ter no máximo %d caracteres.", maxIdempotencyKeyLen))
	}
	return nil
}

// checkExpectedDigest reads the digest ApplyImport must find (the If-Match
// header): empty, or the 64 hexadecimal digits of an analysis, quoted or not.
func checkExpectedDigest(raw string) (string, error) {
	d := normalizeDigest(raw)
	if d == "" || len(d) == 64 && strings.Trim(d, "0123456789abcdef") == "" {
		return d, nil
	}
	return "", fault.New(fault.ErrInvalidArgument, "INVALID_EXPECTED_DIGEST", "expectedDigest",
		fmt.Sprintf("O digest esperado %q não é um digest: use o valor \"digest\" da análise (64 caracteres hexadecimais).", fault.Excerpt(raw, 80)))
}

// normalizeDigest accepts a digest as sent in If-Match: quoted, weak or not.
func normalizeDigest(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.ToLower(strings.Trim(s, `"`))
}
