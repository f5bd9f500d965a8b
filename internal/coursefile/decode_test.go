package coursefile_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/demo"
)

// english are words of Go's and protojson's error texts: none may reach a
// course manager's message.
var english = []string{"invalid", "character", "looking for", "unexpected", "literal", "proto:", "syntax error", "value of type"}

func decode(raw string) (*coursefile.Findings, bool) {
	var f coursefile.Findings
	file := coursefile.Decode([]byte(raw), &f)
	return &f, file != nil
}

func TestSyntaxErrorsAreInPortuguese(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, want string
	}{
		{"a missing comma", "{\n  \"formatVersion\": 1\n  \"course\": {}\n}", "caractere '\"' depois de um campo, onde se esperava uma vírgula ou } (linha 3, coluna 3)"},
		{"an unquoted key", `{"formatVersion": 1, course: {}}`, "caractere 'c' onde se esperava o nome de um campo entre aspas (linha 1, coluna 22)"},
		{"a trailing comma", `{"formatVersion": 1, "course": {},}`, "onde se esperava o nome de um campo entre aspas (linha 1, coluna 35)"},
		{"single quotes", `{'formatVersion': 1}`, "caractere '\\'' onde se esperava o nome de um campo entre aspas"},
		{"a tab in a text", "{\"formatVersion\": 1, \"course\": {\"title\": \"a\tb\"}}", "caractere de controle U+0009 dentro de um texto"},
		{"a bad escape", `{"formatVersion": 1, "course": {"title": "a\qb"}}`, "numa sequência de escape de um texto"},
		{"a missing colon", `{"formatVersion" 1}`, "depois do nome de um campo, onde se esperavam dois-pontos"},
		{"a bare word", `{"formatVersion": yes}`, "caractere 'y' onde se esperava um valor"},
		{"a broken number", `{"formatVersion": 1.}`, "dentro de um número"},
		{"cut short", `{"formatVersion": 1, "course": {"title": "a`, "termina no meio de um valor (linha 1, coluna 44): está incompleto?"},
		{"two objects", `{"formatVersion": 1, "course": {}} {}`, "Há conteúdo depois do fim do objeto JSON"},
	}
	for _, tc := range tests {
		f, ok := decode(tc.file)
		errs := f.Errors()
		if ok || len(errs) != 1 || errs[0].GetCode() != "INVALID_JSON" {
			t.Errorf("%s: decoded %v, errors %v", tc.name, ok, errs)
			continue
		}
		msg := errs[0].GetMessage()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %q does not say %q", tc.name, msg, tc.want)
		}
		for _, w := range english {
			if strings.Contains(strings.ToLower(msg), w) {
				t.Errorf("%s: %q has Go's English (%q)", tc.name, msg, w)
			}
		}
	}
}

func TestAByteOrderMarkIsAccepted(t *testing.T) {
	t.Parallel()
	var plain, bom coursefile.Findings
	a := coursefile.Decode(demo.File, &plain)
	b := coursefile.Decode(append([]byte{0xEF, 0xBB, 0xBF}, demo.File...), &bom)
	if a == nil || b == nil || bom.HasErrors() || len(bom.Warnings()) != 0 {
		t.Fatalf("with a BOM: %v %v", bom.Errors(), bom.Warnings())
	}
	if coursefile.Digest(a) != coursefile.Digest(b) {
		t.Errorf("a BOM changes the digest")
	}
	// Only at the start: a BOM inside the JSON is an error.
	if _, ok := decode(`{"formatVersion": 1, ` + "\uFEFF" + `"course": {}}`); ok {
		t.Error("a BOM in the middle of the file was accepted")
	}
}

func TestLatin1IsRefusedWithWhere(t *testing.T) {
	t.Parallel()
	latin1 := bytes.ReplaceAll(demo.File, []byte("Capacitação"), []byte("Capacita\xe7\xe3o"))
	var f coursefile.Findings
	if coursefile.Decode(latin1, &f) != nil {
		t.Fatal("a Latin-1 file was decoded")
	}
	errs := f.Errors()
	if len(errs) != 1 || errs[0].GetCode() != "INVALID_ENCODING" || !strings.Contains(errs[0].GetMessage(), "0xE7 (linha 12, coluna 52)") ||
		!strings.Contains(errs[0].GetMessage(), "salve-o como UTF-8") {
		t.Errorf("errors %v", errs)
	}
}

func TestRepeatedKeysNameTheKeyAndItsPath(t *testing.T) {
	t.Parallel()
	f, ok := decode(`{"formatVersion": 1, "course": {"title": "a", "faq": [{"question": "q", "answer": "x", "answer": "y"}], "title": "b"}}`)
	if ok {
		t.Fatal("a file with repeated keys was decoded")
	}
	var got []string
	for _, e := range f.Errors() {
		got = append(got, e.GetCode()+" "+e.GetPath()+": "+e.GetMessage())
	}
	want := []string{
		`DUPLICATE_KEY course.faq[0].answer: O campo "answer" aparece duas vezes em course.faq[0]; deixe só um.`,
		`DUPLICATE_KEY course.title: O campo "title" aparece duas vezes em course; deixe só um.`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
