// Package auth verifies the bearer tokens in front of the service — Supabase access
// tokens: HS256 signed with the project's JWT secret, or RS256/ES256 signed with a
// key of the project's JWKS — and decides whether their role may use it.
package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/educacao-continuada/content-transfer/internal/fault"
)

// Config says which tokens to accept.
type Config struct {
	// HS256Secret is the Supabase project's JWT secret; empty to refuse HS256.
	HS256Secret []byte
	// JWKS is where the public keys of RS256/ES256 tokens are; nil to refuse them.
	JWKS *KeySet
	// Audience is the required "aud" ("authenticated" for Supabase users).
	Audience string
	// RoleClaim is the dotted path of the role claim, e.g. "app_metadata.role".
	RoleClaim string
	// AllowedRoles are the roles that may use the service.
	AllowedRoles []string
	// Leeway absorbs clock skew in exp and nbf.
	Leeway time.Duration
}

// Principal is who a valid token speaks for.
type Principal struct {
	Subject string
	Email   string
	Role    string
}

// Authenticator checks tokens against a Config.
type Authenticator struct {
	cfg     Config
	methods []string
	parser  *jwt.Parser
}

// New returns an Authenticator. At least one kind of key is required: there is no
// way to turn authentication off.
func New(cfg Config) (*Authenticator, error) {
	if len(cfg.HS256Secret) == 0 && cfg.JWKS == nil {
		return nil, errors.New("auth: set SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL (or both)")
	}
	if cfg.Audience == "" || cfg.RoleClaim == "" || len(cfg.AllowedRoles) == 0 {
		return nil, errors.New("auth: audience, role claim and allowed roles are required")
	}
	var methods []string
	if len(cfg.HS256Secret) > 0 {
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if cfg.JWKS != nil {
		methods = append(methods, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
	}
	return &Authenticator{cfg: cfg, methods: methods, parser: jwt.NewParser(
		jwt.WithValidMethods(methods), // "none" and every other algorithm are refused
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
	)}, nil
}

// The ways a request is refused. Their messages say what is wrong, never a key.
func unauthenticated(code, msg string) error {
	return fault.New(fault.ErrUnauthenticated, code, "authorization", msg)
}

// Authenticate verifies the value of an Authorization header ("Bearer <token>")
// and returns its principal, or a fault of kind ErrUnauthenticated (no or bad
// token) or ErrPermissionDenied (a valid token without an allowed role).
func (a *Authenticator) Authenticate(ctx context.Context, header string) (*Principal, error) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	switch {
	case header == "":
		return nil, unauthenticated("TOKEN_MISSING", "Autenticação necessária: envie o cabeçalho Authorization: Bearer <token>.")
	case !strings.EqualFold(scheme, "Bearer") || token == "":
		return nil, unauthenticated("TOKEN_MALFORMED", "Cabeçalho Authorization inválido: use o formato Bearer <token>.")
	}
	// The algorithm is checked first, so that "none" or an algorithm this
	// configuration has no key for gets its own answer.
	unverified, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		return nil, tokenError(err)
	}
	if alg := unverified.Method.Alg(); !slices.Contains(a.methods, alg) {
		return nil, unauthenticated("TOKEN_UNSUPPORTED_ALGORITHM",
			fmt.Sprintf("Algoritmo de assinatura %q não aceito; são aceitos: %s.", fault.Excerpt(alg, 20), strings.Join(a.methods, ", ")))
	}
	claims := jwt.MapClaims{}
	_, err = a.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) { return a.key(ctx, t) })
	if err != nil {
		return nil, tokenError(err)
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return nil, unauthenticated("TOKEN_INVALID", "Token inválido: falta o identificador do usuário (sub).")
	}
	email, _ := claims["email"].(string)
	role, _ := lookup(claims, a.cfg.RoleClaim).(string)
	p := &Principal{Subject: sub, Email: email, Role: role}
	switch {
	case role == "":
		return p, fault.New(fault.ErrPermissionDenied, "ROLE_MISSING", "authorization",
			fmt.Sprintf("O token não informa um papel (%s): apenas gestores podem transferir conteúdo.", a.cfg.RoleClaim))
	case !slices.Contains(a.cfg.AllowedRoles, role):
		return p, fault.New(fault.ErrPermissionDenied, "ROLE_NOT_ALLOWED", "authorization",
			fmt.Sprintf("O papel %q não pode transferir conteúdo; são aceitos: %s.", fault.Excerpt(role, 40), strings.Join(a.cfg.AllowedRoles, ", ")))
	}
	return p, nil
}

// key picks the verification key by algorithm: the secret for HS256 only, a JWKS
// key of the matching type for RS256 and ES256 only. So an HS256 token "signed"
// with a public key is checked against the secret, and fails.
func (a *Authenticator) key(ctx context.Context, t *jwt.Token) (any, error) {
	switch t.Method.Alg() {
	case jwt.SigningMethodHS256.Alg():
		return a.cfg.HS256Secret, nil
	case jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg():
		kid, _ := t.Header["kid"].(string)
		return a.cfg.JWKS.Key(ctx, kid, t.Method.Alg())
	}
	return nil, jwt.ErrTokenUnverifiable
}

// tokenError turns a jwt validation error into a fault that says which check failed.
func tokenError(err error) error {
	switch {
	case errors.Is(err, errUnknownKey):
		return unauthenticated("TOKEN_UNKNOWN_KEY", "Token assinado com uma chave desconhecida (kid).")
	case errors.Is(err, errKeysUnavailable):
		return fault.New(fault.ErrUnavailable, "JWKS_UNAVAILABLE", "authorization",
			"Não foi possível obter as chaves de verificação de tokens. Tente novamente em instantes.")
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthenticated("TOKEN_MALFORMED", "Token malformado: não é um JWT.")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrInvalidKeyType):
		return unauthenticated("TOKEN_BAD_SIGNATURE", "Assinatura do token inválida.")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return unauthenticated("TOKEN_UNSUPPORTED_ALGORITHM", "Algoritmo de assinatura do token não aceito.")
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthenticated("TOKEN_EXPIRED", "Token expirado: faça login novamente.")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauthenticated("TOKEN_NOT_YET_VALID", "Token ainda não é válido (nbf no futuro).")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return unauthenticated("TOKEN_WRONG_AUDIENCE", "Token emitido para outro público (aud).")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return unauthenticated("TOKEN_INVALID", "Token inválido: falta a expiração (exp).")
	}
	return unauthenticated("TOKEN_INVALID", "Token inválido.")
}

// lookup follows a dotted path ("app_metadata.role") into the claims.
func lookup(claims map[string]any, path string) any {
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// SignHS256 mints a token for p, signed with secret, as Supabase would: sub,
// email, aud, the role at roleClaim, iat, exp. It is for local use and tests.
func SignHS256(secret []byte, p Principal, roleClaim, audience string, ttl time.Duration, now time.Time) (string, error) {
	claims := jwt.MapClaims{
		"sub": p.Subject, "aud": audience,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
	if p.Email != "" {
		claims["email"] = p.Email
	}
	setPath(claims, roleClaim, p.Role)
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// setPath writes v at a dotted path of m, creating the objects on the way.
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, part := range parts[:len(parts)-1] {
		next, ok := m[part].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[part] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}
