package server_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/pgtest"
)

func reason(err error) string { return errorInfo(err).GetReason() }

// errorInfo is the ErrorInfo detail of err, or nil.
func errorInfo(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

func TestHostileTokens(t *testing.T) {
	t.Parallel()
	e := start(t)
	k := e.keys
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := k.gestorClaims()
		edit(c)
		return c
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&k.rsa.PublicKey))})
	noneToken := k.sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", k.gestorClaims())

	tests := []struct {
		name   string
		header string // the Authorization value; "-" sends none
		code   codes.Code
		reason string
	}{
		{"no header", "-", codes.Unauthenticated, "TOKEN_MISSING"},
		{"empty", "", codes.Unauthenticated, "TOKEN_MISSING"},
		{"Bearer without token", "Bearer", codes.Unauthenticated, "TOKEN_MALFORMED"},
		{"other scheme", "Basic dXNlcjpwYXNz", codes.Unauthenticated, "TOKEN_MALFORMED"},
		{"garbage", "Bearer isto.nao.e-um-jwt", codes.Unauthenticated, "TOKEN_MALFORMED"},
		{"expired", "Bearer " + k.token(t, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() })), codes.Unauthenticated, "TOKEN_EXPIRED"},
		{"no exp", "Bearer " + k.token(t, claims(func(c jwt.MapClaims) { delete(c, "exp") })), codes.Unauthenticated, "TOKEN_INVALID"},
		{"not yet valid", "Bearer " + k.token(t, claims(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })), codes.Unauthenticated, "TOKEN_NOT_YET_VALID"},
		{"wrong secret", "Bearer " + k.sign(t, jwt.SigningMethodHS256, []byte("another-secret-that-is-long-enough-to-sign"), "", k.gestorClaims()), codes.Unauthenticated, "TOKEN_BAD_SIGNATURE"},
		{"wrong audience", "Bearer " + k.token(t, claims(func(c jwt.MapClaims) { c["aud"] = "service_role" })), codes.Unauthenticated, "TOKEN_WRONG_AUDIENCE"},
		{"alg none", "Bearer " + noneToken, codes.Unauthenticated, "TOKEN_UNSUPPORTED_ALGORITHM"},
		{"HS384", "Bearer " + k.sign(t, jwt.SigningMethodHS384, k.secret, "", k.gestorClaims()), codes.Unauthenticated, "TOKEN_UNSUPPORTED_ALGORITHM"},
		{"HS256 signed with the RSA public key", "Bearer " + k.sign(t, jwt.SigningMethodHS256, pubPEM, k.rsaKid, k.gestorClaims()), codes.Unauthenticated, "TOKEN_BAD_SIGNATURE"},
		{"unknown kid", "Bearer " + k.sign(t, jwt.SigningMethodRS256, k.other, "rsa-desconhecida", k.gestorClaims()), codes.Unauthenticated, "TOKEN_UNKNOWN_KEY"},
		{"known kid, other key", "Bearer " + k.sign(t, jwt.SigningMethodRS256, k.other, k.rsaKid, k.gestorClaims()), codes.Unauthenticated, "TOKEN_BAD_SIGNATURE"},
		{"RS256 naming the EC key", "Bearer " + k.sign(t, jwt.SigningMethodRS256, k.rsa, k.ecKid, k.gestorClaims()), codes.Unauthenticated, "TOKEN_UNKNOWN_KEY"},
		{"no sub", "Bearer " + k.token(t, claims(func(c jwt.MapClaims) { delete(c, "sub") })), codes.Unauthenticated, "TOKEN_INVALID"},
		{"role missing", "Bearer " + k.token(t, claims(func(c jwt.MapClaims) { delete(c, "app_metadata") })), codes.PermissionDenied, "ROLE_MISSING"},
		{"role not allowed", "Bearer " + k.token(t, claims(func(c jwt.MapClaims) { c["app_metadata"] = map[string]any{"role": "aluno"} })), codes.PermissionDenied, "ROLE_NOT_ALLOWED"},
		{"top-level role is not the app role", "Bearer " + k.token(t, claims(func(c jwt.MapClaims) { c["role"] = "gestor"; delete(c, "app_metadata") })), codes.PermissionDenied, "ROLE_MISSING"},
		{"valid HS256", "Bearer " + k.token(t, k.gestorClaims()), codes.OK, ""},
		{"valid HS256, lower-case scheme", "bearer " + k.token(t, k.gestorClaims()), codes.OK, ""},
		{"valid RS256", "Bearer " + k.sign(t, jwt.SigningMethodRS256, k.rsa, k.rsaKid, k.gestorClaims()), codes.OK, ""},
		{"valid ES256, admin", "Bearer " + k.sign(t, jwt.SigningMethodES256, k.ec, k.ecKid, claims(func(c jwt.MapClaims) { c["app_metadata"] = map[string]any{"role": "admin"} })), codes.OK, ""},
		{"expired within the leeway", "Bearer " + k.token(t, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-2 * time.Second).Unix() })), codes.OK, ""},
	}
	httpCodes := map[codes.Code]int{codes.OK: 200, codes.Unauthenticated: 401, codes.PermissionDenied: 403}
	client := contentv1.NewContentTransferServiceClient(e.anon)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.header != "-" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", tt.header)
			}
			_, err := client.ListCourses(ctx, &contentv1.ListCoursesRequest{})
			if status.Code(err) != tt.code || reason(err) != tt.reason {
				t.Errorf("gRPC: %v (%s), want %v %s", status.Code(err), reason(err), tt.code, tt.reason)
			}

			headers := map[string]string{"Authorization": tt.header}
			if tt.header == "-" {
				headers["Authorization"] = ""
			}
			resp, body := e.do(t, http.MethodGet, "/gestor/courses", nil, headers)
			if resp.StatusCode != httpCodes[tt.code] {
				t.Fatalf("REST: %d %s, want %d", resp.StatusCode, body, httpCodes[tt.code])
			}
			if tt.code == codes.OK {
				return
			}
			var eb errorBody
			if json.Unmarshal(body, &eb) != nil || eb.Code != tt.reason || eb.Message == "" {
				t.Errorf("REST body = %s", body)
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			if tt.code == codes.Unauthenticated && !strings.HasPrefix(challenge, "Bearer ") {
				t.Errorf("WWW-Authenticate = %q", challenge)
			}
			if tt.code == codes.PermissionDenied && challenge != "" {
				t.Errorf("403 with WWW-Authenticate %q", challenge)
			}
			// Neither the token nor a key ever comes back.
			token := strings.TrimPrefix(tt.header, "Bearer ")
			if len(token) > 10 && bytes.Contains(body, []byte(token)) {
				t.Errorf("the response echoes the token: %s", body)
			}
			if bytes.Contains(body, k.secret) || bytes.Contains(body, []byte("PUBLIC KEY")) {
				t.Errorf("the response carries key material: %s", body)
			}
		})
	}
	// Nor does the log: no token, no secret.
	logs := e.logs.String()
	for _, tt := range tests {
		if token := strings.TrimPrefix(tt.header, "Bearer "); len(token) > 20 && strings.Contains(logs, token) {
			t.Errorf("the log carries the token of %q", tt.name)
		}
	}
	if strings.Contains(logs, string(k.secret)) {
		t.Error("the log carries the JWT secret")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestEveryRPCNeedsATokenButHealthAndReflection(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	client := contentv1.NewContentTransferServiceClient(e.anon)
	calls := map[string]func() error{
		"ListCourses": func() error { _, err := client.ListCourses(ctx, &contentv1.ListCoursesRequest{}); return err },
		"ExportCourse": func() error {
			_, err := client.ExportCourse(ctx, &contentv1.ExportCourseRequest{CourseId: e.demoID})
			return err
		},
		"AnalyzeImport": func() error {
			_, err := client.AnalyzeImport(ctx, &contentv1.AnalyzeImportRequest{Source: &contentv1.AnalyzeImportRequest_FileJson{FileJson: demo.File}})
			return err
		},
		"ApplyImport": func() error {
			_, err := client.ApplyImport(ctx, &contentv1.ApplyImportRequest{Source: &contentv1.ApplyImportRequest_FileJson{FileJson: demo.File}})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s without a token: %v", name, err)
		}
	}
	for _, path := range []string{"/gestor/courses", "/gestor/export/course/" + e.demoID} {
		if resp, _ := e.do(t, http.MethodGet, path, nil, map[string]string{"Authorization": ""}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a token = %d", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/gestor/import/analyze", "/gestor/import/apply"} {
		if resp, _ := e.do(t, http.MethodPost, path, bytes.NewReader(demo.File), map[string]string{"Authorization": ""}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without a token = %d", path, resp.StatusCode)
		}
	}
	if n := pgtest.Count(t, e.pool, `SELECT count(*) FROM courses`); n != 1 {
		t.Errorf("%d courses after anonymous applies", n)
	}
	// Public: health, reflection, and the HTTP probes and OpenAPI document.
	if _, err := healthpb.NewHealthClient(e.anon).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health without a token: %v", err)
	}
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json"} {
		if resp, _ := e.do(t, http.MethodGet, path, nil, map[string]string{"Authorization": ""}); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s without a token = %d", path, resp.StatusCode)
		}
	}
}

func TestJWKSRotationWithoutRestart(t *testing.T) {
	t.Parallel()
	e := start(t)
	k := e.keys
	client := contentv1.NewContentTransferServiceClient(e.anon)
	call := func(token string) error {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
		_, err := client.ListCourses(ctx, &contentv1.ListCoursesRequest{})
		return err
	}
	rotated := k.sign(t, jwt.SigningMethodRS256, k.other, "rsa-2", k.gestorClaims())
	if reason(call(rotated)) != "TOKEN_UNKNOWN_KEY" {
		t.Fatal("a token of a key not yet published was accepted")
	}
	// The project rotates: the new key is published next to the old one.
	k.writeJWKS(t, k.jwk(k.rsaKid, &k.rsa.PublicKey, "RS256"), k.jwk("rsa-2", &k.other.PublicKey, "RS256"))
	if err := call(rotated); err != nil {
		t.Fatalf("after the rotation, a token of the new key: %v", err)
	}
	if err := call(k.sign(t, jwt.SigningMethodRS256, k.rsa, k.rsaKid, k.gestorClaims())); err != nil {
		t.Fatalf("after the rotation, a token of the old key: %v", err)
	}
}

func TestAuditRecordsTheActor(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	if _, err := e.client.ExportCourse(ctx, &contentv1.ExportCourseRequest{CourseId: e.demoID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.ExportCourse(ctx, &contentv1.ExportCourseRequest{CourseId: "00000000-0000-4000-8000-00000000dead"}); status.Code(err) != codes.NotFound {
		t.Fatal(err)
	}
	e.post(t, "/gestor/import/analyze", bytes.NewReader(demo.File), nil)
	resp, body := e.post(t, "/gestor/import/apply", bytes.NewReader(demo.File), map[string]string{"Idempotency-Key": "a1"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("apply: %d %s", resp.StatusCode, body)
	}
	e.post(t, "/gestor/import/apply", bytes.NewReader(demo.File), map[string]string{"Idempotency-Key": "a1"}) // a replay
	e.post(t, "/gestor/import/apply", strings.NewReader(`{"formatVersion": 1, "course": {}}`), nil)           // refused

	rows, err := e.pool.Query(ctx, `SELECT action, outcome, actor_id, coalesce(actor_email, '') FROM audit_logs ORDER BY created_at, action`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var action, outcome, actor, email string
		if err := rows.Scan(&action, &outcome, &actor, &email); err != nil {
			t.Fatal(err)
		}
		if actor != "5e0b3b1a-gestora" || email != "gestora@empresa.com.br" {
			t.Errorf("%s by %q <%s>", action, actor, email)
		}
		got = append(got, action+" "+outcome)
	}
	want := []string{"EXPORT_COURSE OK", "EXPORT_COURSE COURSE_NOT_FOUND", "IMPORT_ANALYZE OK", "IMPORT_APPLY OK", "IMPORT_APPLY OK", "IMPORT_APPLY IMPORT_HAS_ERRORS"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit log:\n got %v\nwant %v", got, want)
	}
	var batchActor string
	if err := e.pool.QueryRow(ctx, `SELECT actor_id FROM import_batches`).Scan(&batchActor); err != nil || batchActor != "5e0b3b1a-gestora" {
		t.Errorf("import batch actor %q, %v", batchActor, err)
	}
}
