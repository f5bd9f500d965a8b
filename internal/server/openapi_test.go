package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/demo"
)

type openAPIDoc struct {
	Info struct{ Title, Version string }
	// SecurityDefinitions and Security say how a call authenticates.
	SecurityDefinitions map[string]struct{ Type, Name, In string }
	Security            []map[string][]string
	Paths               map[string]map[string]struct {
		Parameters []struct{ Name, In, Type string }
		Responses  map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			}
			Headers map[string]any
		}
	}
	Definitions map[string]json.RawMessage
}

// message returns the proto message a "#/definitions/v1X" schema stands for.
func message(t *testing.T, ref string) proto.Message {
	t.Helper()
	name := "educacao.content.v1." + strings.TrimPrefix(ref, "#/definitions/v1")
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatalf("schema %s: no message %s", ref, name)
	}
	return mt.New().Interface()
}

// TestOpenAPIDocumentMatchesTheServer reads the served document and tries every
// operation it documents against the running server: the routes are the
// server's, none is missing, each refuses a call without the documented token,
// answers with a documented status and the documented schema, and takes the
// documented parameters, headers and body.
func TestOpenAPIDocumentMatchesTheServer(t *testing.T) {
	t.Parallel()
	e := start(t)
	resp, raw := e.get(t, "/openapi.json")
	var doc openAPIDoc
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &doc) != nil {
		t.Fatalf("GET /openapi.json = %d", resp.StatusCode)
	}
	if doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("info %+v has no title or version", doc.Info)
	}
	bearer, ok := doc.SecurityDefinitions["bearer"]
	if !ok || bearer.In != "header" || bearer.Name != "Authorization" || len(doc.Security) != 1 || doc.Security[0]["bearer"] == nil {
		t.Errorf("security %+v / %+v does not say bearer token in Authorization", doc.SecurityDefinitions, doc.Security)
	}
	var errSchema struct{ Properties map[string]any }
	if err := json.Unmarshal(doc.Definitions["v1Error"], &errSchema); err != nil {
		t.Fatal("no v1Error definition")
	}
	for _, f := range []string{"code", "message", "path", "status", "report"} {
		if _, ok := errSchema.Properties[f]; !ok {
			t.Errorf("v1Error has no %s", f)
		}
	}

	// Every route of the contract is documented, and nothing else.
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(documented)
	want := []string{"GET /gestor/backups", "GET /gestor/courses", "GET /gestor/export/course/{courseId}", "GET /gestor/import/batches",
		"GET /gestor/integrity", "POST /gestor/import/analyze", "POST /gestor/import/apply"}
	if !slices.Equal(documented, want) {
		t.Errorf("documented operations %v, want %v", documented, want)
	}

	analysis, err := e.client.AnalyzeImport(context.Background(), &contentv1.AnalyzeImportRequest{
		Source: &contentv1.AnalyzeImportRequest_FileJson{FileJson: demo.File}})
	if err != nil {
		t.Fatal(err)
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			method = strings.ToUpper(method)
			url := strings.ReplaceAll(path, "{courseId}", e.demoID)
			headers := map[string]string{}
			var body []byte
			var query []string
			for _, p := range op.Parameters {
				switch p.In {
				case "path":
					if p.Name != "courseId" {
						t.Errorf("%s %s: undocumented path parameter %s", method, path, p.Name)
					}
				case "body":
					body = demo.File
				case "header":
					switch p.Name {
					case "Idempotency-Key":
						headers[p.Name] = "openapi-" + method + path
					case "If-Match":
						headers[p.Name] = `"` + analysis.GetReport().GetDigest() + `"`
					default:
						t.Errorf("%s %s: header %s has no value in this test", method, path, p.Name)
					}
				case "query":
					v := map[string]string{"integer": "1", "string": ""}[p.Type]
					if p.Name == "status" {
						v = "COURSE_STATUS_PUBLISHED"
					}
					query = append(query, p.Name+"="+v)
				default:
					t.Errorf("%s %s: parameter %s in %s", method, path, p.Name, p.In)
				}
			}
			if len(query) > 0 {
				url += "?" + strings.Join(query, "&")
			}
			// Without the token: the documented 401, as an Error.
			anon := map[string]string{"Authorization": ""}
			r, out := e.do(t, method, url, bytes.NewReader(body), anon)
			var eb errorBody
			if r.StatusCode != http.StatusUnauthorized || json.Unmarshal(out, &eb) != nil || eb.Code != "TOKEN_MISSING" {
				t.Errorf("%s %s without a token = %d %s", method, url, r.StatusCode, out)
			}
			if _, ok := op.Responses["401"]; !ok {
				t.Errorf("%s %s does not document its 401", method, path)
			}
			// With it: a documented status, a body of the documented schema.
			r, out = e.do(t, method, url, bytes.NewReader(body), headers)
			doc, ok := op.Responses[strconv.Itoa(r.StatusCode)]
			if !ok {
				t.Errorf("%s %s answered %d, which is not documented: %s", method, url, r.StatusCode, out)
				continue
			}
			if r.StatusCode != http.StatusOK {
				t.Errorf("%s %s = %d %s, want 200", method, url, r.StatusCode, out)
				continue
			}
			m := message(t, doc.Schema.Ref)
			if err := (protojson.UnmarshalOptions{}).Unmarshal(out, m); err != nil {
				t.Errorf("%s %s: the body is not a %s: %v", method, url, doc.Schema.Ref, err)
			}
			for h := range doc.Headers {
				if r.Header.Get(h) == "" {
					t.Errorf("%s %s: documented header %s is missing", method, url, h)
				}
			}
		}
	}
	// Every documented query parameter is one the server reads: a NUL in it
	// is refused with that parameter's path.
	for path, ops := range doc.Paths {
		for _, p := range ops["get"].Parameters {
			if p.In != "query" {
				continue
			}
			r, out := e.get(t, path+"?"+p.Name+"=%00")
			var eb errorBody
			if r.StatusCode != http.StatusBadRequest || json.Unmarshal(out, &eb) != nil || eb.Path != p.Name {
				t.Errorf("GET %s?%s=%%00 = %d %s: the server does not read that parameter", path, p.Name, r.StatusCode, out)
			}
		}
	}
	// The idempotency key and the digest travel in headers only.
	if ps := doc.Paths["/gestor/import/apply"]["post"].Parameters; slices.ContainsFunc(ps, func(p struct{ Name, In, Type string }) bool { return p.In == "query" }) {
		t.Errorf("apply documents query parameters: %+v", ps)
	}
}
