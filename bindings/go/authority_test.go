package tokenward

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	jane = User{ID: "jane"}
	bob  = User{ID: "bob"}
	root = User{ID: "root", Roles: []string{"owner"}}
)

// openWithToken opens ":memory:" with an access URL and mints jane's token "ci" (1h).
func openWithToken(t *testing.T) (*Authority, string, string) {
	t.Helper()
	settings, err := SettingsFromJSON([]byte(`{"access_url":"https://coder.example.com/"}`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(":memory:", settings)
	settings.Close() // copied by Open
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	token, key, err := a.CreateToken(jane, jane, TokenRequest{TokenName: "ci", Lifetime: time.Hour}, "203.0.113.7")
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	id, err := key.ID()
	if err != nil {
		t.Fatal(err)
	}
	return a, token, id
}

func TestAuthority(t *testing.T) {
	a, token, id := openWithToken(t)
	key, update, err := a.Authenticate(token, "203.0.113.7")
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := key.UserID()
	loginType, _ := key.LoginType()
	lastUsed, _ := key.LastUsed()
	key.Close()
	if owner != "jane" || loginType != "token" || update == nil || update.IPAddress != "203.0.113.7" ||
		!update.LastUsed.Equal(lastUsed) {
		t.Fatalf("authenticate: owner %q, login type %q, update %+v, stored last_used %v", owner, loginType, update, lastUsed)
	}
	// Used a moment ago: nothing to write.
	key, update, err = a.Authenticate(token, "203.0.113.7")
	if err != nil || update != nil {
		t.Fatalf("second authenticate: %+v %v", update, err)
	}
	key.Close()
	if _, _, err := a.CreateToken(jane, jane, TokenRequest{TokenName: "ci"}, ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("second token named ci: %v", err)
	}
	var e *Error
	if _, _, err := a.CreateToken(bob, jane, TokenRequest{}, ""); !errors.Is(err, ErrForbidden) ||
		!errors.As(err, &e) || e.Status != 403 || e.WWWAuthenticate != "" || e.Message == "" {
		t.Fatalf("bob minting for jane: %#v", err)
	}
	if err := a.Expire(bob, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob expiring jane's key: %v", err)
	}
	if err := a.Expire(jane, "not-an-id"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expiring a text that is not an id: %v", err)
	}
	if err := a.Expire(jane, id); err != nil {
		t.Fatal(err)
	}
	_, _, err = a.Authenticate(token, "")
	if !errors.Is(err, ErrExpired) || !errors.As(err, &e) || e.Status != 401 ||
		!strings.HasSuffix(e.WWWAuthenticate, `resource_metadata="https://coder.example.com/.well-known/oauth-protected-resource"`) {
		t.Fatalf("expired: %#v", err)
	}
	if err := a.Delete(root, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Authenticate(token, ""); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("deleted: %v", err)
	}
	if err := a.Delete(root, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
}

func TestAuthorityLifecycle(t *testing.T) {
	settings, _ := SettingsFromJSON([]byte(`{"max_token_lifetime":"720h","session_duration":"2h"}`))
	a, err := Open(":memory:", settings)
	settings.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	// Token config by role.
	if c, err := a.TokenConfig(jane); err != nil || c.MaxTokenLifetime != 720*time.Hour {
		t.Fatalf("member config: %+v %v", c, err)
	}
	if c, err := a.TokenConfig(root); err != nil || c.MaxTokenLifetime != 168*time.Hour {
		t.Fatalf("owner config: %+v %v", c, err)
	}
	if _, _, err := a.CreateToken(jane, jane, TokenRequest{Lifetime: 721 * time.Hour}, ""); !errors.Is(err, ErrLifetimeTooLong) {
		t.Fatalf("too long: %v", err)
	}

	// A token with scopes and an allow-list.
	workspace := "0b0b0b0b-1c1c-4d4d-8e8e-9f9f9f9f9f9f"
	token, key, err := a.CreateToken(root, jane, TokenRequest{
		TokenName: "deploy", Lifetime: 48 * time.Hour, Scopes: []string{"workspace:read", "all"},
		AllowList: []AllowListEntry{{Type: "workspace", ID: workspace}},
	}, "198.51.100.4")
	if err != nil {
		t.Fatal(err)
	}
	api, _ := key.APIKey()
	key.Close()
	if api.TokenName != "deploy" || api.UserID != "jane" || !slices.Equal(api.Scopes, []string{"workspace:read", "coder:all"}) ||
		api.Scope != "all" || len(api.AllowList) != 1 || api.AllowList[0] != (AllowListEntry{"workspace", workspace}) ||
		api.ExpiresAt.Sub(api.CreatedAt) != 48*time.Hour {
		t.Fatalf("created: %+v", api)
	}
	// A bad allow-list entry is the core's refusal, with Coder's message and a 400.
	var e *Error
	if _, _, err := a.CreateToken(jane, jane, TokenRequest{AllowList: []AllowListEntry{{"workspace", "nope"}}}, ""); !errors.As(err, &e) ||
		!errors.Is(err, ErrInvalidAllowList) || e.Status != 400 || e.Message != "Failed to create API key." {
		t.Fatalf("bad allow-list: %v", err)
	}
	if _, _, err := a.CreateToken(jane, jane, TokenRequest{Scope: "everything"}, ""); !errors.Is(err, ErrInvalidScope) {
		t.Fatalf("bad scope: %v", err)
	}

	// A session and a session key; neither is listed as a token.
	session, skey, err := a.CreateSession(jane, "oidc", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	lt, _ := skey.LoginType()
	exp, _ := skey.ExpiresAt()
	created, _ := skey.CreatedAt()
	skey.Close()
	if lt != "oidc" || exp.Sub(created) != 2*time.Hour {
		t.Fatalf("session: %s %v", lt, exp.Sub(created))
	}
	if _, _, err := a.CreateSession(jane, "token", ""); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a session of login type token: %v", err)
	}
	if _, _, err := a.CreateSession(jane, "magic", ""); !errors.Is(err, ErrInvalidLoginType) {
		t.Fatalf("an unknown login type: %v", err)
	}
	if _, _, err := a.CreateSession(User{}, "password", ""); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a user without an id: %v", err)
	}
	sessionKey, kkey, err := a.CreateSessionKey(jane, "")
	if err != nil {
		t.Fatal(err)
	}
	lt, _ = kkey.LoginType()
	kkey.Close()
	if lt != "password" {
		t.Fatalf("session key: %s", lt)
	}
	for _, tok := range []string{token, session, sessionKey} {
		k, _, err := a.Authenticate(tok, "")
		if err != nil {
			t.Fatalf("authenticate: %v", err)
		}
		k.Close()
	}

	// Listing: own, another's (owner only), all, with expired.
	_, bkey, err := a.CreateToken(bob, bob, TokenRequest{TokenName: "bobs"}, "")
	if err != nil {
		t.Fatal(err)
	}
	bkey.Close()
	names := func(keys []APIKey, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range keys {
			out = append(out, k.UserID+"/"+k.TokenName)
			if k.LastUsed.Location() != time.UTC {
				t.Errorf("not UTC: %v", k.LastUsed)
			}
		}
		return out
	}
	if got := names(a.ListTokens(jane, ListOptions{})); !slices.Equal(got, []string{"jane/deploy"}) {
		t.Fatalf("jane's: %v", got)
	}
	if got := names(a.ListTokens(jane, ListOptions{UserID: "bob"})); len(got) != 0 {
		t.Fatalf("jane listing bob's: %v", got)
	}
	if got := names(a.ListTokens(root, ListOptions{All: true})); !slices.Equal(got, []string{"jane/deploy", "bob/bobs"}) {
		t.Fatalf("all: %v", got)
	}

	// Get and find, with access.
	id, _, _ := Parse(token)
	k, err := a.GetKey(jane, id)
	if err != nil {
		t.Fatal(err)
	}
	k.Close()
	if _, err := a.GetKey(bob, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob getting jane's key: %v", err)
	}
	for _, typed := range []string{"deploy", id, token} {
		k, err := a.FindToken(jane, "jane", typed)
		if err != nil {
			t.Fatalf("find %q: %v", typed, err)
		}
		got, _ := k.ID()
		k.Close()
		if got != id {
			t.Fatalf("find %q: %s", typed, got)
		}
	}
	if _, err := a.FindToken(jane, "jane", "nothing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("find nothing: %v", err)
	}

	// Expired tokens list only on request; purge keeps them within the retention.
	if err := a.Expire(jane, id); err != nil {
		t.Fatal(err)
	}
	if got := names(a.ListTokens(jane, ListOptions{})); len(got) != 0 {
		t.Fatalf("after expiry: %v", got)
	}
	if got := names(a.ListTokens(jane, ListOptions{IncludeExpired: true})); !slices.Equal(got, []string{"jane/deploy"}) {
		t.Fatalf("with expired: %v", got)
	}
	if n, err := a.Purge(); err != nil || n != 0 {
		t.Fatalf("purge: %d %v", n, err)
	}

	// Deleting a user's keys.
	if n, err := a.DeleteUserKeys("jane"); err != nil || n != 3 {
		t.Fatalf("delete jane's keys: %d %v", n, err)
	}
	if _, _, err := a.Authenticate(session, ""); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("after deleting the user's keys: %v", err)
	}
}

// A SQLite file keeps keys across authorities.
func TestAuthoritySQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	a, err := Open("sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	token, key, err := a.CreateSessionKey(jane, "")
	if err != nil {
		t.Fatal(err)
	}
	key.Close()
	a.Close()
	b, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	key, _, err = b.Authenticate(token, "")
	if err != nil {
		t.Fatal(err)
	}
	key.Close()
	if _, err := Open("", nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("an empty URL: %v", err)
	}
	// An unsupported scheme is refused before any connection (postgres:// connects: see
	// TestPostgres).
	var e *Error
	if _, err := Open("mysql://user:hunter2@db/keys", nil); !errors.As(err, &e) || !errors.Is(err, ErrInvalidArgument) || strings.Contains(err.Error(), "hunter2") || strings.Contains(e.Body, "hunter2") {
		t.Fatalf("an unsupported URL: %v", err)
	}
}

// No error carries a token's secret, whatever the call it was given to.
func TestErrorsNeverCarryTheSecret(t *testing.T) {
	a, token, _ := openWithToken(t)
	id, secret, err := Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	wrong := id + "-" + strings.Repeat("x", 22)
	var errs []error
	record := func(err error) {
		if err == nil {
			t.Errorf("call %d: no error", len(errs))
		}
		errs = append(errs, err)
	}
	_, _, err = Parse(token + "x")
	record(err)
	_, _, err = Parse(token[:32])
	record(err)
	_, _, err = ParseStrict(token[:11] + "!" + token[12:])
	record(err)
	_, _, err = a.Authenticate(token+"x", "")
	record(err)
	_, _, err = a.Authenticate(token[:11]+strings.Repeat("y", 22), "") // the right id, a wrong secret
	record(err)
	_, err = a.FindToken(bob, "bob", token) // a whole token where a name or id goes
	record(err)
	_, err = a.GetKey(jane, token)
	record(err)
	record(a.Expire(jane, token))
	record(a.Delete(jane, token))
	_, _, err = a.CreateToken(jane, jane, TokenRequest{TokenName: "ci"}, "")
	record(err)
	key, err := KeyFromJSON(hashRecord(strings.Repeat("00", 32)))
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	_, err = VerifyRecord("hashvector-"+secret, key, hashNow, nil, "")
	record(err)
	_, err = VerifyRecord(wrong, key, hashNow, nil, "")
	record(err)
	if err := a.Expire(jane, id); err != nil {
		t.Fatal(err)
	}
	_, _, err = a.Authenticate(token, "")
	record(err)
	for i, err := range errs {
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("call %d: %v is not an *Error", i, err)
			continue
		}
		all := fmt.Sprintf("%v %#v", err, e)
		if strings.Contains(all, secret) || strings.Contains(all, secret[:16]) {
			t.Errorf("call %d: the error holds the secret: %s", i, all)
		}
	}
}

// 16 goroutines share one authority: each mints, authenticates, expires and deletes its own
// keys, and authenticates the others', under the race detector. A key expired or deleted is
// never authenticated afterwards.
func TestConcurrentLifecycle(t *testing.T) {
	a, shared, _ := openWithToken(t)
	const goroutines, rounds = 16, 12
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*rounds*8)
	fail := func(format string, args ...any) { errs <- fmt.Errorf(format, args...) }
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := User{ID: fmt.Sprintf("user-%d", g)}
			for i := range rounds {
				token, key, err := a.CreateToken(user, user, TokenRequest{TokenName: fmt.Sprintf("t%d", i)}, "203.0.113.7")
				if err != nil {
					fail("create: %v", err)
					continue
				}
				id, _ := key.ID()
				key.Close()
				k, _, err := a.Authenticate(token, "203.0.113.7")
				if err != nil {
					fail("authenticate a new key: %v", err)
					continue
				}
				if owner, _ := k.UserID(); owner != user.ID {
					fail("owner %q, want %q", owner, user.ID)
				}
				k.Close()
				if k, _, err := a.Authenticate(shared, ""); err != nil {
					fail("shared token: %v", err)
				} else {
					k.Close()
				}
				// Half the keys expire, half are deleted; neither authenticates again.
				var want *Error
				if i%2 == 0 {
					err, want = a.Expire(user, id), ErrExpired
				} else {
					err, want = a.Delete(user, id), ErrUnknownKey
				}
				if err != nil {
					fail("end key: %v", err)
					continue
				}
				for range 3 {
					if k, _, err := a.Authenticate(token, ""); !errors.Is(err, want) {
						k.Close()
						fail("a key ended by this goroutine authenticated: %v, want %s", err, want.Name)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	keys, err := a.ListTokens(root, ListOptions{All: true, IncludeExpired: true})
	if err != nil {
		t.Fatal(err)
	}
	// jane's "ci" and the half of each goroutine's keys that were expired, not deleted.
	if want := 1 + goroutines*rounds/2; len(keys) != want {
		t.Fatalf("%d keys left, want %d", len(keys), want)
	}
}

// Strings that are not UTF-8 are refused, not turned into U+FFFD by encoding/json: else
// "user-\xff" and "user-\xfe" (and "user-\uFFFD") would be one user, each able to list and
// delete the others' keys.
func TestUsersThatAreNotUTF8StayDistinct(t *testing.T) {
	a, _, _ := openWithToken(t)
	replaced := User{ID: "user-\uFFFD"} // what encoding/json makes of both
	token, key, err := a.CreateToken(replaced, replaced, TokenRequest{TokenName: "mine"}, "")
	if err != nil {
		t.Fatal(err)
	}
	id, err := key.ID()
	key.Close()
	if err != nil {
		t.Fatal(err)
	}
	invalid := func(what string, err error) {
		t.Helper()
		var e *Error
		if !errors.Is(err, ErrInvalidUTF8) || !errors.As(err, &e) || e.Status != 400 ||
			e.Code != ErrInvalidUTF8.Code || e.Name != "invalid_utf8" {
			t.Errorf("%s: %#v", what, err)
		}
	}
	for _, u := range []User{{ID: "user-\xff"}, {ID: "user-\xfe"}, {ID: "jane", Roles: []string{"owner\xff"}}} {
		_, k, err := a.CreateToken(u, u, TokenRequest{}, "")
		if k != nil {
			k.Close()
		}
		invalid("create for "+u.ID, err)
		keys, err := a.ListTokens(u, ListOptions{})
		invalid(fmt.Sprintf("list as %q (%d keys)", u.ID, len(keys)), err)
		invalid("delete as "+u.ID, a.Delete(u, id))
		invalid("expire as "+u.ID, a.Expire(u, id))
		k, err = a.GetKey(u, id)
		if k != nil {
			k.Close()
		}
		invalid("get as "+u.ID, err)
		_, k, err = a.CreateSession(u, "password", "")
		if k != nil {
			k.Close()
		}
		invalid("session for "+u.ID, err)
		_, err = a.TokenConfig(u)
		invalid("token config of "+u.ID, err)
	}
	for _, req := range []TokenRequest{
		{TokenName: "name\xff"},
		{Scope: "all\xff"},
		{Scopes: []string{"coder:all", "\xfe"}},
		{AllowList: []AllowListEntry{{Type: "workspace\xff", ID: "*"}}},
		{AllowList: []AllowListEntry{{Type: "*", ID: "\xff"}}},
	} {
		_, k, err := a.CreateToken(jane, jane, req, "")
		if k != nil {
			k.Close()
		}
		invalid(fmt.Sprintf("request %+q", req), err)
	}
	_, err = a.ListTokens(root, ListOptions{UserID: "user-\xff"})
	invalid("list another's as owner", err)
	// The key of "user-\uFFFD" is untouched.
	k, _, err := a.Authenticate(token, "")
	if err != nil {
		t.Fatalf("after the attempts: %v", err)
	}
	k.Close()
}

// Once an authentication returns, the thread's verdict no longer holds the key (nor its hash).
func TestAuthenticateLeavesNoKeyInTheVerdict(t *testing.T) {
	a, token, _ := openWithToken(t)
	handler := Middleware(a)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	done := make(chan string)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		key, _, err := a.Authenticate(token, "")
		if err != nil {
			done <- err.Error()
			return
		}
		key.Close()
		if threadVerdictHasKey() {
			done <- "Authenticate left the key in the verdict"
			return
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Coder-Session-Token", token)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != 200 || threadVerdictHasKey() {
			done <- fmt.Sprintf("Middleware (%d) left the key in the verdict", rec.Code)
			return
		}
		done <- ""
	}()
	if msg := <-done; msg != "" {
		t.Fatal(msg)
	}
}
