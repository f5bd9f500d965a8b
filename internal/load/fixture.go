package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/educacao-continuada/content-transfer/internal/auth"
	"github.com/educacao-continuada/content-transfer/internal/coursefile"
	"github.com/educacao-continuada/content-transfer/internal/coursegen"
	"github.com/educacao-continuada/content-transfer/internal/demo"
	"github.com/educacao-continuada/content-transfer/internal/store"
)

// Fixture is what a load run needs beside the replicas: a gestor token, the
// secret that signs it (the replicas' SUPABASE_JWT_SECRET), and the files.
type Fixture struct {
	Secret, Token string
	// Files are the demo course and three generated S courses (about 0.5 MiB
	// each), each with competencies of its own.
	Files [][]byte
}

// NewFixture seeds the demo course into pool and makes the token and files.
func NewFixture(ctx context.Context, pool *pgxpool.Pool) (*Fixture, error) {
	course, err := demo.Course()
	if err != nil {
		return nil, err
	}
	if _, err := store.New(pool).SeedCourse(ctx, course); err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	fx := &Fixture{Secret: hex.EncodeToString(secret), Files: [][]byte{demo.File}}
	if fx.Token, err = auth.SignHS256([]byte(fx.Secret), auth.Principal{Subject: "load", Email: "carga@empresa.com.br", Role: "gestor"},
		"app_metadata.role", "authenticated", 24*time.Hour, time.Now()); err != nil {
		return nil, err
	}
	for seed := range uint64(3) {
		raw, err := coursefile.Marshal(coursegen.Generate(coursegen.S, seed+1))
		if err != nil {
			return nil, err
		}
		fx.Files = append(fx.Files, raw)
	}
	return fx, nil
}
