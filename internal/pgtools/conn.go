// Package pgtools runs PostgreSQL's client programs (pg_dump, pg_restore) for
// the backup routine: it finds the build whose major version fits the server,
// hands it the connection without putting the password on a command line, and
// turns its failures into errors that never carry the password.
package pgtools

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Conn is a PostgreSQL connection URL split for child processes: the URL without
// its password, which may appear in a process list or a log, and the password,
// which travels in the PGPASSWORD environment variable.
type Conn struct {
	raw      string
	safe     *url.URL
	password string
}

// ParseConn checks a postgres:// or postgresql:// URL. Keyword/value strings
// ("host=… password=…") are refused: the password could not be taken out of them
// reliably, and Supabase gives URLs.
func ParseConn(raw string) (Conn, error) {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return Conn{}, errors.New("the connection string must be a postgres:// URL (keyword=value strings are not supported here)")
	}
	if _, err := pgconn.ParseConfig(raw); err != nil {
		return Conn{}, errors.New("the connection URL cannot be parsed: check its syntax") // pgconn's text may echo the password
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Conn{}, errors.New("the connection URL cannot be parsed: check its syntax")
	}
	c := Conn{raw: raw}
	if u.User != nil {
		c.password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if p := q.Get("password"); p != "" {
		c.password = p
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	c.safe = u
	return c, nil
}

// URL is the full connection string, password included, for pgx.
func (c Conn) URL() string { return c.raw }

// String is the URL without its password: safe to log and to show.
func (c Conn) String() string {
	if c.safe == nil {
		return ""
	}
	return c.safe.String()
}

// Database is the database name of the URL.
func (c Conn) Database() string {
	if c.safe == nil {
		return ""
	}
	return strings.TrimPrefix(c.safe.Path, "/")
}

// WithDatabase returns the same connection to another database of the server.
func (c Conn) WithDatabase(name string) Conn {
	raw, err := url.Parse(c.raw)
	if err != nil { // c came from ParseConn, so this cannot happen
		panic(fmt.Sprintf("pgtools: reparse a checked URL: %v", err))
	}
	raw.Path = "/" + name
	raw.RawPath = ""
	safe := *c.safe
	safe.Path = "/" + name
	safe.RawPath = ""
	return Conn{raw: raw.String(), safe: &safe, password: c.password}
}

// env is what a child process needs beyond its own environment: the password,
// if the URL has one, and a name that shows in pg_stat_activity.
func (c Conn) env(app string) []string {
	env := []string{"PGAPPNAME=" + app}
	if c.password != "" {
		env = append(env, "PGPASSWORD="+c.password)
	}
	return env
}

// Scrub replaces the password, raw and URL-encoded, wherever it appears in s.
func (c Conn) Scrub(s string) string {
	if c.password == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.password, "***")
	return strings.ReplaceAll(s, url.QueryEscape(c.password), "***")
}
