package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/educacao-continuada/content-transfer/internal/auth"
)

// testKeys are the keys of one test server: an HS256 secret, and a JWKS file
// holding an RSA and an EC key. other is an RSA key the JWKS does not hold.
type testKeys struct {
	secret        []byte
	rsa, other    *rsa.PrivateKey
	ec            *ecdsa.PrivateKey
	jwksPath      string
	keySet        *auth.KeySet
	rsaKid, ecKid string
}

var (
	keysOnce         sync.Once
	rsaKey, otherKey *rsa.PrivateKey
	ecKey            *ecdsa.PrivateKey
	errKeys          error
)

func newTestKeys(t testing.TB) *testKeys {
	t.Helper()
	keysOnce.Do(func() { // RSA generation is slow: once per test binary
		if rsaKey, errKeys = rsa.GenerateKey(rand.Reader, 2048); errKeys != nil {
			return
		}
		if otherKey, errKeys = rsa.GenerateKey(rand.Reader, 2048); errKeys != nil {
			return
		}
		ecKey, errKeys = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
	if errKeys != nil {
		t.Fatal(errKeys)
	}
	k := &testKeys{
		secret: []byte("super-secret-jwt-token-with-at-least-32-characters-long"),
		rsa:    rsaKey, other: otherKey, ec: ecKey,
		jwksPath: filepath.Join(t.TempDir(), "jwks.json"),
		rsaKid:   "rsa-1", ecKid: "ec-1",
	}
	k.writeJWKS(t, k.jwk(k.rsaKid, &k.rsa.PublicKey, "RS256"), k.jwk(k.ecKid, &k.ec.PublicKey, "ES256"))
	k.keySet = auth.NewKeySet(k.jwksPath, http.DefaultClient)
	k.keySet.MinRefresh = 0 // let rotations show at once
	return k
}

func (k *testKeys) jwk(kid string, pub any, alg string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}
}

func (k *testKeys) writeJWKS(t testing.TB, keys ...jose.JSONWebKey) {
	t.Helper()
	doc, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.jwksPath, doc, 0o600); err != nil {
		t.Fatal(err)
	}
}

// gestorClaims are the claims of a valid Supabase gestor token.
func (k *testKeys) gestorClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "5e0b3b1a-gestora", "email": "gestora@empresa.com.br", "aud": "authenticated", "role": "authenticated",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
		"app_metadata": map[string]any{"role": "gestor", "provider": "email"},
	}
}

// token signs claims with the HS256 secret.
func (k *testKeys) token(t testing.TB, claims jwt.MapClaims) string {
	return k.sign(t, jwt.SigningMethodHS256, k.secret, "", claims)
}

func (k *testKeys) sign(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
