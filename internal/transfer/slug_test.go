package transfer

import (
	"strings"

	"testing"
	"time"

	"github.com/google/uuid"
)

func TestExportFilename(t *testing.T) {
	at := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct{ title, want string }{
		{"Segurança do Trabalho", "seguranca-do-trabalho"},
		{"Trabalho em Altura (NR-35) — Capacitação Inicial", "trabalho-em-altura-nr-35-capacitacao-inicial"},
		{"  ÉTICA & Compliance!!  ", "etica-compliance"},
		{"Curso 日本語 só", "curso-so"},
		{"", "curso"},
		{"???", "curso"},
		{`aspas "duplas" e barra/invertida\`, "aspas-duplas-e-barra-invertida"},
		{strings.Repeat("palavra ", 20), "palavra-palavra-palavra-palavra-palavra-palavra-palavra-pala"},
	}
	id := uuid.MustParse("1783cc93-397d-5e00-912b-08247a2ddc9c")
	for _, tt := range tests {
		got := exportFilename(tt.title, id, at)
		if want := tt.want + "-" + at.In(time.Local).Format("20060102") + "-1783cc93.json"; got != want {
			t.Errorf("exportFilename(%q) = %q, want %q", tt.title, got, want)
		}
	}
}
