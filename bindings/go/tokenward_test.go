package tokenward

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Each sentinel's number and name are the library's (tw_status_name), and its status the
// library's (tw_status_http).
// Each sentinel's Code, Name and Status are the library's (tw_status_name, tw_status_http),
// and errors.Is tells them apart. (TestCodeVectors compares them with codes.json.)
func TestSentinelsMatchTheLibrary(t *testing.T) {
	for i, s := range sentinels {
		if s.Code <= 0 || statusNameOf(s.Code) == "unknown" {
			t.Errorf("%s: the library has no status %d", s.Name, s.Code)
		}
		if got := statusNameOf(s.Code); got != s.Name {
			t.Errorf("status %d: library names it %q, Go %q", s.Code, got, s.Name)
		}
		if got := httpStatus(s.Code); got != s.Status || got < 400 || got > 599 {
			t.Errorf("%s: library answers %d, Go %d", s.Name, got, s.Status)
		}
		for j, other := range sentinels {
			if (i == j) != errors.Is(s, other) {
				t.Errorf("errors.Is(%s, %s) = %v", s.Name, other.Name, errors.Is(s, other))
			}
		}
		if errors.Is(s, ErrClosed) {
			t.Errorf("%s is ErrClosed", s.Name)
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
		e.Detail != "incorrect amount of API key parts, expected 2 got 3" || e.Status != 400 ||
		e.Message == "" || e.Body == "" {
		t.Fatalf("Parse of a bad token: %#v", err)
	}
	// The strict parse refuses what the plain one takes outside the alphabet.
	if _, _, err := Parse("abcdefghij-01234567890123456789_!"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ParseStrict("abcdefghij-01234567890123456789_!"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("strict: %v", err)
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
	if _, _, err := ParseStrict(token); err != nil {
		t.Fatalf("a generated token is strict: %v", err)
	}
}

func TestDurations(t *testing.T) {
	for text, want := range map[string]time.Duration{"90m": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "1y": 8760 * time.Hour, "-1.5h": -90 * time.Minute} {
		if got, err := ParseDuration(text); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v %v, want %v", text, got, err, want)
		}
	}
	_, err := ParseDuration("1x")
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrInvalidDuration) || e.Detail != `time: unknown unit "x" in duration "1x"` || e.Status != 400 {
		t.Errorf("ParseDuration(1x): %#v", err)
	}
	for d, want := range map[time.Duration]string{0: "0s", 90 * time.Minute: "1h30m0s", 1500: "1.5µs"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%d) = %q, want %q", d, got, want)
		}
	}
}

func TestSettings(t *testing.T) {
	s, err := DefaultSettings()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, err := s.Values()
	want := SettingsValues{
		SessionDuration:       24 * time.Hour,
		DefaultTokenLifetime:  168 * time.Hour,
		MaxTokenLifetime:      876600 * time.Hour,
		MaxAdminTokenLifetime: 168 * time.Hour,
		APIKeysRetention:      7 * 24 * time.Hour,
	}
	if err != nil || v != want {
		t.Fatalf("defaults: %+v %v", v, err)
	}
	// By name, flag or variable.
	for _, set := range [][2]string{
		{"session_duration", "48h"}, {"default-token-lifetime", "1d"},
		{"CODER_ACCESS_URL", "https://coder.example.com/"}, {"TOKENWARD_DISABLE_SESSION_EXPIRY_REFRESH", "true"},
	} {
		if err := s.Set(set[0], set[1]); err != nil {
			t.Fatalf("Set(%q, %q): %v", set[0], set[1], err)
		}
	}
	v, _ = s.Values()
	want.SessionDuration, want.DefaultTokenLifetime = 48*time.Hour, 24*time.Hour
	want.AccessURL, want.DisableSessionExpiryRefresh = "https://coder.example.com/", true
	if v != want {
		t.Fatalf("after Set: %+v", v)
	}
	for _, bad := range [][2]string{{"no_such_setting", "1h"}, {"session_duration", "soon"}} {
		var e *Error
		if err := s.Set(bad[0], bad[1]); !errors.Is(err, ErrInvalidSettings) || !errors.As(err, &e) || e.Detail == "" {
			t.Errorf("Set(%q, %q): %v", bad[0], bad[1], err)
		}
	}
	// JSON round-trips through SettingsFromJSON.
	data, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	again, err := SettingsFromJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	defer again.Close()
	if v2, _ := again.Values(); v2 != want {
		t.Fatalf("round trip of %s: %+v", data, v2)
	}

	t.Setenv("TOKENWARD_SESSION_DURATION", "")
	t.Setenv("CODER_SESSION_DURATION", "3h")
	t.Setenv("TOKENWARD_MAX_TOKEN_LIFETIME", "2d")
	env, err := SettingsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if v, _ := env.Values(); v.SessionDuration != 3*time.Hour || v.MaxTokenLifetime != 48*time.Hour {
		t.Fatalf("from the environment: %+v", v)
	}
	t.Setenv("CODER_SESSION_DURATION", "later")
	var e *Error
	if _, err := SettingsFromEnv(); !errors.Is(err, ErrInvalidSettings) || !errors.As(err, &e) ||
		!strings.Contains(e.Detail, "CODER_SESSION_DURATION") {
		t.Fatalf("a bad variable: %v", err)
	}
	if _, err := SettingsFromJSON([]byte(`{"session_duration":"nope"}`)); !errors.Is(err, ErrInvalidSettings) {
		t.Fatalf("bad settings: %v", err)
	}
}

var (
	fieldsCreated = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	fieldsSecret  = "0123456789abcdefABCDEF"
)

func newFields(t *testing.T) KeyFields {
	t.Helper()
	hash, err := HashSecret(fieldsSecret)
	if err != nil {
		t.Fatal(err)
	}
	return KeyFields{
		ID:              "abcdefghij",
		HashedSecret:    hash[:],
		UserID:          "jane",
		LoginType:       "password",
		CreatedAt:       fieldsCreated,
		ExpiresAt:       fieldsCreated.Add(24 * time.Hour),
		LastUsed:        fieldsCreated.Add(time.Minute),
		LifetimeSeconds: 3600,
		TokenName:       "ci",
		IPAddress:       "203.0.113.7",
	}
}

func TestKeyFromFields(t *testing.T) {
	f := newFields(t)
	// A time in another zone, with nanoseconds: stored in UTC at microseconds.
	f.ExpiresAt = f.ExpiresAt.In(time.FixedZone("X", 3600)).Add(999)
	key, err := NewKey(f)
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	texts := map[string]func() (string, error){
		"abcdefghij": key.ID, "jane": key.UserID, "password": key.LoginType, "ci": key.TokenName,
		"203.0.113.7": key.IPAddress,
	}
	for want, get := range texts {
		if got, err := get(); err != nil || got != want {
			t.Errorf("got %q %v, want %q", got, err, want)
		}
	}
	times := []struct {
		get  func() (time.Time, error)
		want time.Time
	}{
		{key.CreatedAt, fieldsCreated}, {key.UpdatedAt, fieldsCreated},
		{key.ExpiresAt, fieldsCreated.Add(24 * time.Hour)}, {key.LastUsed, fieldsCreated.Add(time.Minute)},
	}
	for _, tc := range times {
		if got, err := tc.get(); err != nil || got != tc.want || got.Location() != time.UTC {
			t.Errorf("got %v %v, want %v", got, err, tc.want)
		}
	}
	if got, err := key.LifetimeSeconds(); err != nil || got != 3600 {
		t.Errorf("lifetime: %d %v", got, err)
	}
	if got, err := key.HashedSecret(); err != nil || !bytes.Equal(got, f.HashedSecret) {
		t.Errorf("hash: %x %v", got, err)
	}
	// The storage form reads back to the same record; the public view has no hash or IP.
	storage, err := key.StorageJSON()
	if err != nil {
		t.Fatal(err)
	}
	again, err := KeyFromJSON(storage)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if s2, _ := again.StorageJSON(); !bytes.Equal(s2, storage) {
		t.Errorf("storage round trip:\n%s\n%s", storage, s2)
	}
	public, err := key.JSON()
	if err != nil || bytes.Contains(public, []byte("hashed_secret")) || bytes.Contains(public, []byte("203.0.113.7")) {
		t.Errorf("public JSON %s %v", public, err)
	}
	api, err := key.APIKey()
	if err != nil || api.ID != "abcdefghij" || api.UserID != "jane" || api.TokenName != "ci" ||
		!api.CreatedAt.Equal(fieldsCreated) || api.LifetimeSeconds != 3600 || api.Scope != "all" ||
		len(api.Scopes) != 1 || api.Scopes[0] != "coder:all" ||
		len(api.AllowList) != 1 || api.AllowList[0] != (AllowListEntry{Type: "*", ID: "*"}) {
		t.Errorf("APIKey: %+v %v", api, err)
	}
	// It verifies its token.
	if update, err := VerifyRecord("abcdefghij-"+fieldsSecret, key, fieldsCreated.Add(2*time.Minute), nil, ""); err != nil || update != nil {
		t.Errorf("verify: %+v %v", update, err)
	}

	// Defaults: never used, 86400 s, no name, 0.0.0.0.
	f = newFields(t)
	f.LastUsed, f.LifetimeSeconds, f.TokenName, f.IPAddress = time.Time{}, 0, "", ""
	key2, err := NewKey(f)
	if err != nil {
		t.Fatal(err)
	}
	defer key2.Close()
	lastUsed, _ := key2.LastUsed()
	lifetime, _ := key2.LifetimeSeconds()
	name, _ := key2.TokenName()
	ip, _ := key2.IPAddress()
	if !lastUsed.Equal(time.Unix(0, 0)) || lifetime != 86400 || name != "" || ip != "0.0.0.0" {
		t.Errorf("defaults: %v %d %q %q", lastUsed, lifetime, name, ip)
	}

	// Each bad field.
	for _, tc := range []struct {
		change func(*KeyFields)
		want   *Error
	}{
		{func(f *KeyFields) { f.ID = "short" }, ErrInvalidKey},
		{func(f *KeyFields) { f.HashedSecret = f.HashedSecret[:31] }, ErrInvalidKey},
		{func(f *KeyFields) { f.HashedSecret = nil }, ErrInvalidKey},
		{func(f *KeyFields) { f.UserID = "" }, ErrInvalidKey},
		{func(f *KeyFields) { f.LoginType = "magic" }, ErrInvalidLoginType},
		{func(f *KeyFields) { f.IPAddress = "localhost" }, ErrInvalidArgument},
		{func(f *KeyFields) { f.LifetimeSeconds = -1 }, ErrInvalidKey},
		{func(f *KeyFields) { f.ExpiresAt = time.Date(270000, 1, 1, 0, 0, 0, 0, time.UTC) }, ErrInvalidTimestamp},
		// Beyond int64 microseconds: clamped, not wrapped around.
		{func(f *KeyFields) { f.ExpiresAt = time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC) }, ErrInvalidTimestamp},
		{func(f *KeyFields) { f.CreatedAt = time.Date(-300000, 1, 1, 0, 0, 0, 0, time.UTC) }, ErrInvalidTimestamp},
	} {
		f := newFields(t)
		tc.change(&f)
		if k, err := NewKey(f); !errors.Is(err, tc.want) {
			k.Close()
			t.Errorf("%+v: got %v, want %s", f, err, tc.want.Name)
		}
	}
}

// A stored hash of another length comes back whole.
func TestKeyHashedSecretOfAnyLength(t *testing.T) {
	for _, n := range []int{0, 31, 33, 64} {
		stored := strings.Repeat("ab", n)
		key, err := KeyFromJSON(hashRecord(stored))
		if err != nil {
			t.Fatal(err)
		}
		got, err := key.HashedSecret()
		key.Close()
		if err != nil || len(got) != n || (n > 0 && got[0] != 0xab) {
			t.Errorf("%d bytes: got %x %v", n, got, err)
		}
	}
}

func TestHandlesCloseTwiceAndConcurrently(t *testing.T) {
	s, err := SettingsFromJSON([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	key, err := NewKey(newFields(t))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Racing uses and closes: each use either works or answers ErrClosed.
			if _, err := VerifyRecord("abcdefghij-"+fieldsSecret, key, fieldsCreated, s, ""); err != nil && !errors.Is(err, ErrClosed) {
				t.Error(err)
			}
			if _, _, err := a.Authenticate("", ""); !errors.Is(err, ErrMissing) && !errors.Is(err, ErrClosed) {
				t.Error(err)
			}
			s.Close()
			key.Close()
			a.Close()
		}()
	}
	wg.Wait()
	s.Close()
	if _, err := VerifyRecord("", nil, time.Now(), s, ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed settings: %v", err)
	}
	if _, err := VerifyRecord("", key, time.Now(), nil, ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed key: %v", err)
	}
	if _, err := key.ID(); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed key: %v", err)
	}
	if err := s.Set("session_duration", "1h"); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed settings: %v", err)
	}
	if _, err := Open(":memory:", s); !errors.Is(err, ErrClosed) {
		t.Fatalf("open with closed settings: %v", err)
	}
	if _, _, err := a.Authenticate("x", ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed authority: %v", err)
	}
	if _, err := a.Purge(); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed authority: %v", err)
	}
	var nilKey *Key
	var nilSettings *Settings
	var nilAuthority *Authority
	nilKey.Close()
	nilSettings.Close()
	nilAuthority.Close()
	if _, err := nilKey.ID(); !errors.Is(err, ErrClosed) {
		t.Fatalf("nil key: %v", err)
	}
}

func TestWriteHTTP(t *testing.T) {
	s, _ := SettingsFromJSON([]byte(`{"access_url":"https://coder.example.com/"}`))
	defer s.Close()
	_, err := VerifyRecord("", nil, time.Now(), s, "")
	rec := httptest.NewRecorder()
	WriteError(rec, err)
	wantBody := `{"message":"You are signed out or your session has expired. Please sign in again to continue.","detail":"Cookie \"coder_session_token\" or query parameter must be provided."}` + "\n"
	wantWWW := `Bearer realm="coder", error="invalid_token", error_description="The access token has expired", resource_metadata="https://coder.example.com/.well-known/oauth-protected-resource"`
	if rec.Code != 401 || rec.Body.String() != wantBody || rec.Header().Get("WWW-Authenticate") != wantWWW ||
		rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("missing: %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	// An operational error: Coder's answer, no challenge.
	_, err = ParseDuration("soon")
	rec = httptest.NewRecorder()
	WriteError(rec, err)
	var body map[string]string
	if rec.Code != 400 || rec.Header().Get("WWW-Authenticate") != "" ||
		json.Unmarshal(rec.Body.Bytes(), &body) != nil || body["detail"] != `time: invalid duration "soon"` {
		t.Errorf("invalid duration: %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	// Go-side errors: a plain answer.
	rec = httptest.NewRecorder()
	WriteError(rec, ErrClosed)
	if rec.Code != 500 {
		t.Errorf("closed: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	WriteError(rec, errors.New("other"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "other") {
		t.Errorf("other: %d %q", rec.Code, rec.Body.String())
	}
}

// A verified token with nothing to write costs VerifyRecord no Go allocation (one call into C,
// with the calling thread's own verdict).
func TestVerifyRecordAllocatesNothing(t *testing.T) {
	key, err := NewKey(newFields(t))
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	settings, err := DefaultSettings()
	if err != nil {
		t.Fatal(err)
	}
	defer settings.Close()
	token, now := "abcdefghij-"+fieldsSecret, fieldsCreated.Add(2*time.Minute)
	for _, s := range []*Settings{nil, settings} {
		allocs := testing.AllocsPerRun(1000, func() {
			if update, err := VerifyRecord(token, key, now, s, "203.0.113.7"); err != nil || update != nil {
				t.Fatal(update, err)
			}
		})
		if allocs != 0 {
			t.Errorf("settings %v: %v allocations per verification", s != nil, allocs)
		}
	}
}

// Input the library refuses before it has a verdict still comes with Coder's answer (here the
// C ABI's own failure, which Coder has no words for).
func TestVerifyRecordRefusesBytesThatAreNotUTF8(t *testing.T) {
	_, err := VerifyRecord("abcdefghij-\xff", nil, time.Now(), nil, "")
	var e *Error
	if !errors.Is(err, ErrInvalidUTF8) || !errors.As(err, &e) || e.Status != 400 || e.Body == "" ||
		e.WWWAuthenticate != "" || !strings.Contains(e.Detail, "UTF-8") {
		t.Fatalf("%#v", err)
	}
	checkBody(t, e)
}

// A thread that ends (a goroutine locked to it returns without unlocking) frees its verdict,
// and the next verification runs on another thread with a verdict of its own.
func TestVerdictOfAThreadThatEnds(t *testing.T) {
	key, err := NewKey(newFields(t))
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	token, now := "abcdefghij-"+fieldsSecret, fieldsCreated.Add(2*time.Minute)
	made, freed := verdictCounts()
	const threads = 4
	for range threads {
		done := make(chan error)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			_, err := VerifyRecord(token, key, now, nil, "")
			done <- err
		}()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := VerifyRecord(token, key, now, nil, ""); err != nil {
		t.Fatal(err)
	}
	// Each ended thread freed its verdict (a pthread key destructor, run as the thread exits:
	// soon, not at once), but one: Go does not end the process's main thread, it parks it, so
	// a goroutine that ran there leaves its verdict to it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		nowMade, nowFreed := verdictCounts()
		if nowFreed-freed >= threads-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("verdicts made %d, freed %d (%d threads ended)", nowMade-made, nowFreed-freed, threads)
		}
	}
}
