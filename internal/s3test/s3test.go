// Package s3test serves an in-memory S3-compatible object store (gofakes3) on
// loopback for tests, under the path Supabase Storage uses, and points the AWS
// environment of the test at it.
package s3test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// PathPrefix is where the store answers, as Supabase Storage's S3 endpoint
// (https://<ref>.supabase.co/storage/v1/s3) does.
const PathPrefix = "/storage/v1/s3"

// Server is a running store.
type Server struct {
	// Backend holds the objects, for the test to look at.
	Backend gofakes3.Backend
	// Endpoint is the URL clients use (AWS_ENDPOINT_URL_S3).
	Endpoint string
}

// Start serves a store with the given buckets until the test ends, and sets
// AWS_ENDPOINT_URL_S3, the keys and the region for the test (so the test
// cannot be parallel). Env returns the same settings for a child process.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	backend := s3mem.New()
	faker := gofakes3.New(backend)
	mux := http.NewServeMux()
	mux.Handle(PathPrefix+"/", http.StripPrefix(PathPrefix, faker.Server()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := &Server{Backend: backend, Endpoint: srv.URL + PathPrefix}
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range s.env(t.TempDir()) {
		t.Setenv(k, v)
	}
	return s
}

// Env is the environment a child process needs to reach the store.
func (s *Server) Env(dir string) []string {
	var out []string
	for k, v := range s.env(dir) {
		out = append(out, k+"="+v)
	}
	return out
}

func (s *Server) env(dir string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_S3":         s.Endpoint,
		"AWS_ACCESS_KEY_ID":           "test-key",
		"AWS_SECRET_ACCESS_KEY":       "test-secret",
		"AWS_REGION":                  "sa-east-1",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-aws-credentials"),
	}
}

// Keys lists the keys of a bucket.
func (s *Server) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	objs, err := s.Backend.ListBucket(bucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs.Contents {
		keys = append(keys, o.Key)
	}
	return keys
}
