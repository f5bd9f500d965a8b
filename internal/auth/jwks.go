package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

var (
	errUnknownKey      = errors.New("no key with that kid")
	errKeysUnavailable = errors.New("key set unavailable")
)

// maxJWKSBytes bounds a key set document; real ones are a few KiB.
const maxJWKSBytes = 1 << 20

// KeySet is a JWKS (an http(s) URL or a file), cached. It is fetched again when a
// token names a kid it does not hold (a rotation), at most once per MinRefresh,
// and when the cached copy is older than MaxAge (so removed keys stop working).
type KeySet struct {
	source     string
	client     *http.Client
	MinRefresh time.Duration
	MaxAge     time.Duration

	mu          sync.Mutex
	keys        map[string]any // kid → *rsa.PublicKey or *ecdsa.PublicKey
	fetchedAt   time.Time      // of the set in keys
	attemptedAt time.Time      // of the last fetch, good or bad
}

// NewKeySet returns a KeySet reading source: an http(s) URL or a file path.
func NewKeySet(source string, client *http.Client) *KeySet {
	return &KeySet{source: source, client: client, MinRefresh: 30 * time.Second, MaxAge: 10 * time.Minute}
}

// Load fetches the key set now; serve calls it at start so that a wrong
// SUPABASE_JWKS_URL shows at once.
func (ks *KeySet) Load(ctx context.Context) error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.refresh(ctx)
}

// Key returns the public key with this kid, of the type alg needs.
func (ks *KeySet) Key(ctx context.Context, kid, alg string) (any, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	_, known := ks.keys[kid]
	stale := ks.keys == nil || !known || time.Since(ks.fetchedAt) > ks.MaxAge
	if stale && time.Since(ks.attemptedAt) >= ks.MinRefresh {
		// A failed fetch keeps the last good set; without one there is nothing to check with.
		if err := ks.refresh(ctx); err != nil && ks.keys == nil {
			return nil, err
		}
	}
	if ks.keys == nil {
		return nil, errKeysUnavailable
	}
	key, ok := ks.keys[kid]
	if !ok {
		return nil, errUnknownKey
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg == "RS256" {
			return k, nil
		}
	case *ecdsa.PublicKey:
		if alg == "ES256" && k.Curve == elliptic.P256() {
			return k, nil
		}
	}
	return nil, errUnknownKey // a key of another type cannot have signed this token
}

// refresh fetches the set; the caller holds mu. Requests wait for it, which
// MinRefresh keeps rare.
func (ks *KeySet) refresh(ctx context.Context) error {
	ks.attemptedAt = time.Now()
	doc, err := ks.fetch(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", errKeysUnavailable, err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		return fmt.Errorf("%w: parse JWKS: %w", errKeysUnavailable, err)
	}
	keys := map[string]any{}
	for _, k := range set.Keys {
		if !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
			keys[k.KeyID] = k.Key
		}
	}
	ks.keys, ks.fetchedAt = keys, time.Now()
	return nil
}

func (ks *KeySet) fetch(ctx context.Context) ([]byte, error) {
	if !strings.HasPrefix(ks.source, "http://") && !strings.HasPrefix(ks.source, "https://") {
		return os.ReadFile(ks.source)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.source, nil)
	if err != nil {
		return nil, err
	}
	resp, err := ks.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET JWKS: status %d", resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
}
