package tokenward

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// whoami answers the verified key's id and owner.
func whoami(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := KeyFromContext(r.Context())
		if !ok {
			t.Error("no key in context")
			http.Error(w, "no key", 500)
			return
		}
		id, _ := key.ID()
		user, _ := key.UserID()
		_, _ = io.WriteString(w, id+" "+user)
	})
}

// Coder's 401 for each failure, with the access URL of openWithToken.
const (
	signedOut      = `You are signed out or your session has expired. Please sign in again to continue.`
	challenge      = `Bearer realm="coder", error="invalid_token", error_description="The access token has expired", resource_metadata="https://coder.example.com/.well-known/oauth-protected-resource"`
	missingBody    = `{"message":"` + signedOut + `","detail":"Cookie \"coder_session_token\" or query parameter must be provided."}` + "\n"
	malformedBody  = `{"message":"` + signedOut + `","detail":"Invalid API key format: invalid API key secret length, expected 22 got 23"}` + "\n"
	badSecretBody  = `{"message":"` + signedOut + `","detail":"API key secret is invalid."}` + "\n"
	unknownKeyBody = `{"message":"` + signedOut + `","detail":"API key is invalid."}` + "\n"
	jsonType       = "application/json; charset=utf-8"
)

// tokenSources sets token on a request in each of the places Coder looks.
func tokenSources(token string) map[string]func(*http.Request) {
	return map[string]func(*http.Request){
		"cookie": func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "coder_session_token", Value: token}) },
		"query":  func(r *http.Request) { r.URL.RawQuery = "coder_session_token=" + url.QueryEscape(token) },
		"header": func(r *http.Request) { r.Header.Set("Coder-Session-Token", token) },
		"bearer": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) },
		"access_token": func(r *http.Request) {
			r.URL.RawQuery = "access_token=" + url.QueryEscape(token)
		},
	}
}

func TestMiddlewareRecorder(t *testing.T) {
	a, token, id := openWithToken(t)
	handler := Middleware(a)(whoami(t))
	for name, set := range tokenSources(token) {
		req := httptest.NewRequest("GET", "/", nil)
		set(req)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Body.String() != id+" jane" {
			t.Errorf("%s: %d %q", name, rec.Code, rec.Body.String())
		}
		// TokenFromRequest finds the same token in the same place.
		got, source, err := TokenFromRequest(req)
		if err != nil || got != token || source.String() != name {
			t.Errorf("%s: TokenFromRequest: %v %v", name, source, err)
		}
	}
	// A bad secret, with an unrelated header that is not UTF-8, and another cookie that is not
	// UTF-8 beside a good token.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Coder-Session-Token", token[:32]+"!")
	req.Header.Set("X-Other", "\xff")
	handler.ServeHTTP(rec, req)
	if rec.Code != 401 || rec.Body.String() != badSecretBody || rec.Header().Get("WWW-Authenticate") != challenge {
		t.Errorf("invalid secret: %d %q", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Add("Cookie", "theme=\xff\xfe; coder_session_token="+token)
	handler.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("a cookie that is not UTF-8 beside the token: %d %q", rec.Code, rec.Body.String())
	}
	// A closed authority answers 500, and the handler is not reached.
	a.Close()
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Coder-Session-Token", token)
	handler.ServeHTTP(rec, req)
	if rec.Code != 500 || rec.Body.String() != closedBody || rec.Header().Get("Content-Type") != jsonType ||
		rec.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("closed authority: %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
}

// Coder's internal-error answer, for a closed authority.
const closedBody = `{"message":"An internal error occurred. Please try again or contact the system administrator.","detail":"Internal error fetching API key by id. the authority is closed"}` + "\n"

// A closed or nil authority is answered as a store failure is: the message is the library's
// (the C ABI cannot answer a failure it did not see, so Go writes it).
func TestClosedAuthorityAnswersAsTheStoreDoes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database. ", 64)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, nil)
	var store *Error
	if !errors.As(err, &store) || store.Status != 500 || store.Code < 5000 || store.Code >= 6000 {
		t.Fatalf("a store that is not one: %#v", err)
	}
	wantPrefix := `{"message":` + strconv.Quote(store.Message) + `,"detail":"`
	if store.Message != internalErrorMessage || !strings.HasPrefix(store.Body, wantPrefix) ||
		!strings.HasPrefix(closedBody, wantPrefix) {
		t.Fatalf("the store's answer %q, the closed authority's %q", store.Body, closedBody)
	}
	for name, a := range map[string]*Authority{"nil": nil, "closed": func() *Authority {
		a, _, _ := openWithToken(t)
		a.Close()
		return a
	}()} {
		rec := httptest.NewRecorder()
		Middleware(a)(whoami(t)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 500 || rec.Body.String() != closedBody || rec.Header().Get("Content-Type") != jsonType {
			t.Errorf("%s: %d %q %v", name, rec.Code, rec.Body.String(), rec.Header())
		}
	}
}

// serve runs handler on a real listener at 127.0.0.1 until the test ends.
func serve(t *testing.T, handler http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- server.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := server.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

// get sends a real request and returns the response with its body read.
func get(t *testing.T, client *http.Client, base string, set func(*http.Request)) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	if set != nil {
		set(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestMiddlewareOverARealListener(t *testing.T) {
	a, token, id := openWithToken(t)
	base := serve(t, Middleware(a)(whoami(t)))
	client := &http.Client{Timeout: 10 * time.Second}

	for name, set := range tokenSources(token) {
		resp, body := get(t, client, base, set)
		if resp.StatusCode != 200 || body != id+" jane" {
			t.Errorf("%s: %d %q", name, resp.StatusCode, body)
		}
	}
	// The connection's address is host:port, stored as 0.0.0.0 as in Coder; the key was used.
	key, err := a.GetKey(jane, id)
	if err != nil {
		t.Fatal(err)
	}
	ip, _ := key.IPAddress()
	lastUsed, _ := key.LastUsed()
	key.Close()
	if ip != "0.0.0.0" || time.Since(lastUsed) > time.Minute {
		t.Errorf("after use: ip %q, last used %v", ip, lastUsed)
	}

	// Each rejection, byte for byte: status, Content-Type, WWW-Authenticate, body.
	otherID := "zzzzzzzzzz"
	if otherID == id {
		otherID = "yyyyyyyyyy"
	}
	rejections := []struct {
		name string
		set  func(*http.Request)
		body string
	}{
		{"missing", nil, missingBody},
		{"malformed", tokenSources(token + "x")["bearer"], malformedBody},
		{"bad secret", tokenSources(id + "-" + strings.Repeat("0", 22))["cookie"], badSecretBody},
		{"unknown key", tokenSources(otherID + token[10:])["header"], unknownKeyBody},
		{"empty bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }, missingBody},
	}
	if err := a.Expire(jane, id); err != nil {
		t.Fatal(err)
	}
	key, _ = a.GetKey(jane, id)
	expiresAt, _ := key.ExpiresAt()
	key.Close()
	expiredBody := `{"message":"` + signedOut + `","detail":"API key expired at \"` + expiresAt.String() + `\"."}` + "\n"
	rejections = append(rejections, struct {
		name string
		set  func(*http.Request)
		body string
	}{"expired", tokenSources(token)["query"], expiredBody})
	for _, rj := range rejections {
		resp, body := get(t, client, base, rj.set)
		if resp.StatusCode != 401 || body != rj.body || resp.Header.Get("Content-Type") != jsonType ||
			len(resp.Header.Values("WWW-Authenticate")) != 1 || resp.Header.Get("WWW-Authenticate") != challenge {
			t.Errorf("%s: %d %q %v", rj.name, resp.StatusCode, body, resp.Header)
		}
		if strings.Contains(body, token[11:]) {
			t.Errorf("%s: the answer holds the secret", rj.name)
		}
	}
}

// Each byte that is not UTF-8 is read as one byte (DEL), so a token keeps the split and the
// lengths Coder sees: a 21-byte secret and a stray byte is a secret of 22 bytes that does not
// match, "API key secret is invalid.", not a secret of the wrong length (U+FFFD is 3 bytes).
func TestMiddlewareKeepsLengthsOfBytesThatAreNotUTF8(t *testing.T) {
	a, token, id := openWithToken(t)
	handler := Middleware(a)(whoami(t))
	presented := id + "-" + token[len(id)+1:len(id)+1+21] + "\xff"
	for name, set := range map[string]func(*http.Request){
		"header": func(r *http.Request) { r.Header.Set("Coder-Session-Token", presented) },
		"bearer": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+presented) },
		"query":  func(r *http.Request) { r.URL.RawQuery = "coder_session_token=" + presented },
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		set(req)
		handler.ServeHTTP(rec, req)
		if rec.Code != 401 || rec.Body.String() != badSecretBody || rec.Header().Get("WWW-Authenticate") != challenge {
			t.Errorf("%s: %d %q", name, rec.Code, rec.Body.String())
		}
	}
}

// ExtractToken reads bytes that are not UTF-8, in any header or the query, as the middleware
// does: they do not fail the call, nor hide the token.
func TestExtractTokenBesideBytesThatAreNotUTF8(t *testing.T) {
	token := "abcdefghij-0123456789012345678901"
	for name, c := range map[string]struct {
		headers []Header
		query   string
		source  TokenSource
	}{
		"user agent":  {[]Header{{"User-Agent", "\xff"}, {"Coder-Session-Token", token}}, "", SourceHeader},
		"header name": {[]Header{{"X-\xfe", "1"}, {"Authorization", "Bearer " + token}}, "", SourceBearer},
		"cookie":      {[]Header{{"Cookie", "theme=\xff\xfe; coder_session_token=" + token}}, "", SourceCookie},
		"query":       {[]Header{{"Accept", "*/*"}}, "q=\xff&coder_session_token=" + token, SourceQuery},
		"query and cookie": {
			[]Header{{"Cookie", "coder_session_token=" + token + "\xff"}}, "x=\xfe&access_token=" + token, SourceAccessToken,
		},
	} {
		got, source, err := ExtractToken(c.headers, c.query)
		if err != nil || got != token || source != c.source {
			t.Errorf("%s: %q %v %v", name, got, source, err)
		}
	}
	// A token that holds such a byte is not cut there: it is the whole, wrong-length text.
	got, _, err := ExtractToken([]Header{{"Coder-Session-Token", token + "\xff"}}, "")
	if err != nil || got != token+"\x7f" {
		t.Errorf("a stray byte: %q %v", got, err)
	}
}

// The pooled buffer holds the token's header: it is wiped when released, and when it grows.
func TestHeaderBufferIsWiped(t *testing.T) {
	token := "abcdefghij-0123456789012345678901"
	h := &headerBuf{}
	h.add("Coder-Session-Token", token)
	first := h.buf[:cap(h.buf)]
	h.add("Cookie", strings.Repeat("x", 4<<10)) // grows
	if cap(h.buf) == cap(first) || strings.Trim(string(first), "\x00") != "" {
		t.Errorf("the buffer left behind when growing: %q", strings.Trim(string(first), "\x00"))
	}
	h.args("q=\xff&coder_session_token=" + token) // a cleaned copy of the query, in the buffer
	all := h.buf[:cap(h.buf)]
	h.release()
	if strings.Trim(string(all), "\x00") != "" {
		t.Errorf("released: %d bytes left", len(strings.ReplaceAll(string(all), "\x00", "")))
	}
}
