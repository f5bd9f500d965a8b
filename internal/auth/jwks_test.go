package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/educacao-continuada/content-transfer/internal/auth"
	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// jwksServer serves a key set over HTTP on loopback; tests change what it serves.
type jwksServer struct {
	mu     sync.Mutex
	keys   []jose.JSONWebKey
	broken bool
	hits   atomic.Int64
	srv    *httptest.Server
}

func newJWKSServer(t *testing.T, keys ...jose.JSONWebKey) *jwksServer {
	s := &jwksServer{keys: keys}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.broken {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: s.keys})
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *jwksServer) set(broken bool, keys ...jose.JSONWebKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broken, s.keys = broken, keys
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pub(kid string, k *ecdsa.PrivateKey) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}
}

func token(t *testing.T, kid string, k *ecdsa.PrivateKey) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"sub": "u1", "aud": "authenticated", "exp": time.Now().Add(time.Hour).Unix(),
		"app_metadata": map[string]any{"role": "gestor"},
	})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + s
}

func authenticator(t *testing.T, ks *auth.KeySet) *auth.Authenticator {
	a, err := auth.New(auth.Config{JWKS: ks, Audience: "authenticated", RoleClaim: "app_metadata.role", AllowedRoles: []string{"gestor"}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func code(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return ""
}

func TestKeySetOverHTTP(t *testing.T) {
	k1, k2 := ecKey(t), ecKey(t)
	srv := newJWKSServer(t, pub("k1", k1))
	ctx := context.Background()

	broken := auth.NewKeySet(srv.srv.URL+"/missing-on-purpose", srv.srv.Client())
	srv.set(true)
	if err := broken.Load(ctx); err == nil {
		t.Fatal("Load of a failing JWKS succeeded")
	}
	srv.set(false, pub("k1", k1))

	ks := auth.NewKeySet(srv.srv.URL, srv.srv.Client())
	ks.MinRefresh = time.Hour
	if err := ks.Load(ctx); err != nil {
		t.Fatal(err)
	}
	a := authenticator(t, ks)
	if _, err := a.Authenticate(ctx, token(t, "k1", k1)); err != nil {
		t.Fatal(err)
	}

	// Unknown kids do not hammer the JWKS: at most one fetch per MinRefresh.
	before := srv.hits.Load()
	for range 5 {
		if _, err := a.Authenticate(ctx, token(t, "k2", k2)); code(err) != "TOKEN_UNKNOWN_KEY" {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := srv.hits.Load() - before; n > 1 {
		t.Errorf("%d fetches for 5 unknown-kid tokens within MinRefresh", n)
	}

	// An outage keeps the last good set working.
	srv.set(true)
	ks.MinRefresh, ks.MaxAge = 0, 0
	if _, err := a.Authenticate(ctx, token(t, "k1", k1)); err != nil {
		t.Fatalf("known key during a JWKS outage: %v", err)
	}

	// A key removed from the set stops working once the set is fetched again.
	srv.set(false, pub("k2", k2))
	if _, err := a.Authenticate(ctx, token(t, "k1", k1)); code(err) != "TOKEN_UNKNOWN_KEY" {
		t.Fatalf("removed key: %v", err)
	}
	if _, err := a.Authenticate(ctx, token(t, "k2", k2)); err != nil {
		t.Fatalf("new key: %v", err)
	}
}

func TestNewRefusesToRunWithoutKeys(t *testing.T) {
	if _, err := auth.New(auth.Config{Audience: "authenticated", RoleClaim: "r", AllowedRoles: []string{"gestor"}}); err == nil {
		t.Fatal("an authenticator without keys was built")
	}
}

func TestSignHS256RoundTrip(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	a, err := auth.New(auth.Config{HS256Secret: secret, Audience: "authenticated", RoleClaim: "app_metadata.role", AllowedRoles: []string{"gestor"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.SignHS256(secret, auth.Principal{Subject: "dev", Email: "d@x", Role: "gestor"}, "app_metadata.role", "authenticated", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Authenticate(context.Background(), "Bearer "+tok)
	if err != nil || p.Subject != "dev" || p.Email != "d@x" || p.Role != "gestor" {
		t.Fatalf("principal %+v, %v", p, err)
	}
}
