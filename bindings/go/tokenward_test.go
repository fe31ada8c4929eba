package tokenward

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Each sentinel's number and name are the library's (tw_status_name).
func TestSentinelsMatchTheLibrary(t *testing.T) {
	for _, s := range sentinels {
		if got := statusNameOf(s.Code); got != s.Name {
			t.Errorf("status %d: library names it %q, Go %q", s.Code, got, s.Name)
		}
	}
}

func TestParseAndHash(t *testing.T) {
	id, secret, err := Parse("abcdefghij-0123456789012345678901")
	if err != nil || id != "abcdefghij" || secret != "0123456789012345678901" {
		t.Fatalf("Parse: %q %q %v", id, secret, err)
	}
	_, _, err = Parse("test-wow-hello")
	var e *Error
	if !errors.Is(err, ErrInvalidToken) || !errors.As(err, &e) ||
		e.Detail != "incorrect amount of API key parts, expected 2 got 3" || e.Status != 400 {
		t.Fatalf("Parse of a bad token: %#v", err)
	}
	for _, s := range []string{"", "0123456789012345678901", "é\x00😀"} {
		if got, err := HashSecret(s); err != nil || got != sha256.Sum256([]byte(s)) {
			t.Errorf("HashSecret(%q) = %x, %v", s, got, err)
		}
	}
	if _, err := HashSecret("\xff"); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("HashSecret of bytes that are not UTF-8: %v", err)
	}
	token, err := Generate()
	if err != nil || len(token) != 33 {
		t.Fatalf("Generate: %q %v", token, err)
	}
}

func TestHandlesCloseTwice(t *testing.T) {
	s, err := SettingsFromJSON([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if _, err := VerifyRecord("", nil, time.Now(), s, ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed settings: %v", err)
	}
	if _, err := SettingsFromJSON([]byte(`{"session_duration":"nope"}`)); !errors.Is(err, ErrInvalidSettings) {
		t.Fatalf("bad settings: %v", err)
	}
	if _, err := KeyFromJSON([]byte(`{}`)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("bad key: %v", err)
	}
	a, err := Open(":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	a.Close()
	if _, _, err := a.Authenticate("x", ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed authority: %v", err)
	}
}

var jane = User{ID: "jane"}

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
	key.Close()
	if owner != "jane" || loginType != "token" || update == nil || update.IPAddress != "203.0.113.7" {
		t.Fatalf("authenticate: owner %q, login type %q, update %+v", owner, loginType, update)
	}
	if _, _, err := a.CreateToken(jane, jane, TokenRequest{TokenName: "ci"}, ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("second token named ci: %v", err)
	}
	if _, _, err := a.CreateToken(User{ID: "bob"}, jane, TokenRequest{}, ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("bob minting for jane: %v", err)
	}
	if err := a.Expire(User{ID: "bob"}, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob expiring jane's key: %v", err)
	}
	if err := a.Expire(jane, id); err != nil {
		t.Fatal(err)
	}
	_, _, err = a.Authenticate(token, "")
	var e *Error
	if !errors.Is(err, ErrExpired) || !errors.As(err, &e) || e.Status != 401 ||
		!strings.HasSuffix(e.WWWAuthenticate, `resource_metadata="https://coder.example.com/.well-known/oauth-protected-resource"`) {
		t.Fatalf("expired: %#v", err)
	}
	if err := a.Delete(User{ID: "root", Roles: []string{"owner"}}, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Authenticate(token, ""); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("deleted: %v", err)
	}
}

func TestMiddleware(t *testing.T) {
	a, token, id := openWithToken(t)
	handler := Middleware(a)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := KeyFromContext(r.Context())
		if !ok {
			t.Error("no key in context")
			return
		}
		got, _ := key.ID()
		_, _ = io.WriteString(w, got)
	}))
	server := httptest.NewServer(handler)
	defer server.Close()

	for _, tc := range []struct {
		name string
		set  func(*http.Request)
	}{
		{"header", func(r *http.Request) { r.Header.Set("Coder-Session-Token", token) }},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }},
		{"cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "coder_session_token", Value: token}) }},
		{"query", func(r *http.Request) { r.URL.RawQuery = "coder_session_token=" + token }},
	} {
		req, _ := http.NewRequest("GET", server.URL, nil)
		tc.set(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != id {
			t.Errorf("%s: %d %q", tc.name, resp.StatusCode, body)
		}
	}

	// No token: Coder's 401, body and WWW-Authenticate exactly.
	resp, err := http.Get(server.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantBody := `{"message":"You are signed out or your session has expired. Please sign in again to continue.","detail":"Cookie \"coder_session_token\" or query parameter must be provided."}` + "\n"
	wantWWW := `Bearer realm="coder", error="invalid_token", error_description="The access token has expired", resource_metadata="https://coder.example.com/.well-known/oauth-protected-resource"`
	if resp.StatusCode != 401 || string(body) != wantBody ||
		resp.Header.Get("WWW-Authenticate") != wantWWW ||
		resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("missing: %d %q %q %q", resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"), resp.Header.Get("Content-Type"))
	}
	var parsed map[string]string
	if err := json.Unmarshal(body, &parsed); err != nil || len(parsed) != 2 {
		t.Errorf("body %q: %v", body, err)
	}

	// A bad secret, with an unrelated header that is not UTF-8.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Coder-Session-Token", token[:32]+"!")
	req.Header.Set("X-Other", "\xff")
	handler.ServeHTTP(rec, req)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), "API key secret is invalid.") {
		t.Errorf("invalid secret: %d %q", rec.Code, rec.Body.String())
	}
}

// 16 goroutines authenticating on one authority (run with -race).
func TestConcurrentAuthenticate(t *testing.T) {
	a, token, _ := openWithToken(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16*20)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				key, _, err := a.Authenticate(token, "203.0.113.7")
				if err != nil {
					errs <- err
					continue
				}
				if owner, err := key.UserID(); err != nil || owner != "jane" {
					errs <- errors.New("wrong owner " + owner)
				}
				key.Close()
				if _, _, err := a.Authenticate("", ""); !errors.Is(err, ErrMissing) {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
