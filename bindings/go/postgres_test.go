package tokenward

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
)

// postgresURL is the server of TOKENWARD_POSTGRES_URL, which `scripts/postgres.sh start` sets
// (scripts/test.sh starts one). Without it the test is skipped, unless TOKENWARD_TEST_POSTGRES
// is set (as CI sets it): then it fails.
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TOKENWARD_POSTGRES_URL")
	if u != "" {
		return u
	}
	if _, ci := os.LookupEnv("TOKENWARD_TEST_POSTGRES"); ci {
		t.Fatal(`TOKENWARD_TEST_POSTGRES is set but TOKENWARD_POSTGRES_URL is not: start a server with eval "$(scripts/postgres.sh start)"`)
	}
	t.Skip(`no PostgreSQL server (TOKENWARD_POSTGRES_URL is not set; eval "$(scripts/postgres.sh start)" starts one)`)
	return ""
}

// randomUUID is a random version-4 UUID: Coder's users.id is a uuid, and a new one per run keeps
// runs in other languages sharing the database apart.
func randomUUID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// A postgres:// URL opens a store: a token authenticates, then is expired; a wrong password
// fails as ErrStoreIO, and no text of the error shows either password.
func TestPostgres(t *testing.T) {
	server := postgresURL(t)
	user := User{ID: randomUUID(t)}
	a, err := Open(server, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	token, key, err := a.CreateToken(user, user, TokenRequest{TokenName: "ci"}, "")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := key.ID()
	key.Close()
	key, _, err = a.Authenticate(token, "")
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := key.UserID()
	key.Close()
	if owner != user.ID {
		t.Fatalf("authenticated user %q, want %q", owner, user.ID)
	}
	if err := a.Expire(user, id); err != nil {
		t.Fatal(err)
	}
	var e *Error
	if _, _, err := a.Authenticate(token, ""); !errors.Is(err, ErrExpired) || !errors.As(err, &e) || e.Status != 401 {
		t.Fatalf("an expired token: %v", err)
	}

	parsed, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := parsed.User.Password()
	if password == "" {
		t.Fatalf("the server's URL has no password")
	}
	wrong := "wrong-" + randomUUID(t)
	parsed.User = url.UserPassword(parsed.User.Username(), wrong)
	_, err = Open(parsed.String(), nil)
	if !errors.Is(err, ErrStoreIO) || !errors.As(err, &e) || e.Status != 500 {
		t.Fatalf("a wrong password: %v", err)
	}
	all := fmt.Sprintf("%v %#v", err, e)
	if strings.Contains(all, wrong) || strings.Contains(all, password) {
		t.Fatalf("the error shows a password: %s", all)
	}
}
