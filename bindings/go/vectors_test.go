package tokenward

// The conformance vectors, tests/vectors/*.json (schema in tests/vectors/README.md), through
// the Go API, with the expectations of the Rust runners (tests/vectors.rs against the core,
// tests/ffi_vectors.rs through the C ABI). Each case is a subtest named by its name. A case with
// no path through the Go API is skipped with the reason, and each file's runner checks how many
// cases it ran and skipped, so a file that silently stops running fails.

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// vectorFile is a file's envelope and what some kinds carry beside their cases.
type vectorFile struct {
	Schema      string            `json:"schema"`
	Kind        string            `json:"kind"`
	Cases       []json.RawMessage `json:"cases"`
	GoVersion   string            `json:"go_version"`
	Unprintable [][2]int          `json:"unprintable"`
}

// loadVectors reads tests/vectors/<file> and checks its envelope.
func loadVectors(t *testing.T, file, kind string) vectorFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "tests", "vectors", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc vectorFile
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if doc.Schema != "tokenward-vectors/1" {
		t.Fatalf("%s: unknown schema %q", file, doc.Schema)
	}
	if doc.Kind != kind {
		t.Fatalf("%s: kind %q, want %q", file, doc.Kind, kind)
	}
	if len(doc.Cases) == 0 {
		t.Fatalf("%s has no cases", file)
	}
	return doc
}

// skipper skips one case with its reason, and counts it.
type skipper func(t *testing.T, reason string)

// runVectors runs caseFn on every case of file as a subtest named by the case's name, and
// checks that wantRan cases ran and wantSkipped were skipped (update both when a file gains
// cases; tests/vectors/README.md lists each file's count).
func runVectors(t *testing.T, file, kind string, wantRan, wantSkipped int,
	caseFn func(t *testing.T, raw json.RawMessage, skip skipper)) {
	t.Helper()
	doc := loadVectors(t, file, kind)
	var started, skipped atomic.Int64
	skip := func(t *testing.T, reason string) {
		t.Helper()
		skipped.Add(1)
		t.Skip(reason)
	}
	seen := map[string]bool{}
	for _, raw := range doc.Cases {
		var named struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &named); err != nil || named.Name == "" {
			t.Fatalf("%s: a case without a name: %s", file, raw)
		}
		if seen[named.Name] {
			t.Fatalf("%s: case name %q twice", file, named.Name)
		}
		seen[named.Name] = true
		t.Run(named.Name, func(t *testing.T) {
			started.Add(1)
			caseFn(t, raw, skip)
		})
	}
	if int(started.Load()) != len(doc.Cases) {
		return // -run picked some cases: the counts are for a whole file
	}
	ran := len(doc.Cases) - int(skipped.Load())
	t.Logf("%s: %d cases run, %d skipped", file, ran, skipped.Load())
	if ran == 0 {
		t.Fatalf("%s: no case ran", file)
	}
	if ran != wantRan || int(skipped.Load()) != wantSkipped {
		t.Fatalf("%s: %d cases run and %d skipped, want %d and %d", file, ran, skipped.Load(), wantRan, wantSkipped)
	}
}

// decodeCase reads one case into v.
func decodeCase(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("case: %v", err)
	}
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("timestamp %q: %v", s, err)
	}
	return v
}

// asError is errors.As to *Error, failing the test when err is not one.
func asError(t *testing.T, err error, want string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %s", err, want)
	}
	return e
}

// checkBody checks that an error's JSON body holds its message and detail.
func checkBody(t *testing.T, e *Error) {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal([]byte(e.Body), &body); err != nil {
		t.Fatalf("body %q: %v", e.Body, err)
	}
	if body["message"] != e.Message || body["detail"] != e.Detail || !strings.HasSuffix(e.Body, "\n") {
		t.Errorf("body %q does not hold message %q and detail %q", e.Body, e.Message, e.Detail)
	}
}

// checkSentinels checks that err matches exactly the sentinel named name.
func checkSentinels(t *testing.T, err error, name string) {
	t.Helper()
	for _, s := range sentinels {
		if (s.Name == name) != errors.Is(err, s) {
			t.Errorf("errors.Is(err, %s) = %v", s.Name, errors.Is(err, s))
		}
	}
}

func TestParseVectors(t *testing.T) {
	runVectors(t, "parse.json", "parse", 48, 0, func(t *testing.T, raw json.RawMessage, _ skipper) {
		var c struct {
			Input  string `json:"input"`
			Expect struct {
				ID     string  `json:"id"`
				Secret string  `json:"secret"`
				Error  *string `json:"error"`
			} `json:"expect"`
			Strict bool `json:"strict"`
		}
		decodeCase(t, raw, &c)
		id, secret, err := Parse(c.Input)
		if c.Expect.Error != nil {
			e := asError(t, err, "invalid_token")
			if !errors.Is(err, ErrInvalidToken) || e.Detail != *c.Expect.Error {
				t.Errorf("got %s %q, want invalid_token %q", e.Name, e.Detail, *c.Expect.Error)
			}
			if strings.Contains(err.Error(), c.Input) && len(c.Input) > 10 {
				t.Errorf("the error %q echoes the token", err)
			}
		} else if err != nil || id != c.Expect.ID || secret != c.Expect.Secret {
			t.Errorf("got %q %q %v, want %q %q", id, secret, err, c.Expect.ID, c.Expect.Secret)
		}
		sid, ssecret, serr := ParseStrict(c.Input)
		if (serr == nil) != c.Strict {
			t.Errorf("strict: got %v, want accepted %v", serr, c.Strict)
		}
		if serr == nil && (sid != id || ssecret != secret) {
			t.Errorf("strict: got %q %q, plain %q %q", sid, ssecret, id, secret)
		}
		if serr != nil && !errors.Is(serr, ErrInvalidToken) {
			t.Errorf("strict: got %v, want invalid_token", serr)
		}
	})
}

// hashRecord is a stored key whose hashed_secret is stored (hex), for the comparison cases:
// id "hashvector", valid at hashNow with nothing to refresh.
func hashRecord(stored string) []byte {
	return []byte(`{"id":"hashvector","hashed_secret":"` + stored + `","user_id":"u",` +
		`"last_used":"2026-03-01T11:59:00Z","expires_at":"2026-03-08T12:00:00Z",` +
		`"created_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-01T12:00:00Z",` +
		`"login_type":"token","lifetime_seconds":604800,"ip_address":"0.0.0.0","token_name":"",` +
		`"scopes":["coder:all"],"allow_list":[{"type":"*","id":"*"}]}`)
}

var hashNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestHashVectors(t *testing.T) {
	runVectors(t, "hash.json", "hash", 26, 2, func(t *testing.T, raw json.RawMessage, skip skipper) {
		var c struct {
			Secret  string  `json:"secret"`
			SHA256  *string `json:"sha256"`
			Stored  *string `json:"stored"`
			Matches bool    `json:"matches"`
		}
		decodeCase(t, raw, &c)
		if c.SHA256 != nil {
			got, err := HashSecret(c.Secret)
			if err != nil || hex.EncodeToString(got[:]) != *c.SHA256 {
				t.Errorf("got %x %v, want %s", got, err, *c.SHA256)
			}
			return
		}
		// A comparison case. No function compares hashes on its own; VerifyRecord does, on a
		// presented token against a record holding the stored bytes (the order puts the
		// comparison after the parse and before the expiry, which the record passes).
		if len(c.Secret) != 22 || strings.Contains(c.Secret, "-") {
			skip(t, "the comparison is reached through VerifyRecord only, on a token's 22-byte secret; this secret cannot be presented")
		}
		key, err := KeyFromJSON(hashRecord(*c.Stored))
		if err != nil {
			t.Fatal(err)
		}
		defer key.Close()
		update, err := VerifyRecord("hashvector-"+c.Secret, key, hashNow, nil, "")
		switch {
		case c.Matches && (err != nil || update != nil):
			t.Errorf("got %+v %v, want verified with nothing to write", update, err)
		case !c.Matches && !errors.Is(err, ErrInvalidSecret):
			t.Errorf("got %v, want invalid_secret", err)
		}
	})
}

func TestCheckVectors(t *testing.T) {
	runVectors(t, "check.json", "check", 86, 0, func(t *testing.T, raw json.RawMessage, _ skipper) {
		var c struct {
			Presented  string          `json:"presented"`
			Record     json.RawMessage `json:"record"`
			Now        string          `json:"now"`
			Settings   json.RawMessage `json:"settings"`
			RemoteAddr string          `json:"remote_addr"`
			Expect     struct {
				Verified *struct {
					Update *struct {
						LastUsed  string `json:"last_used"`
						ExpiresAt string `json:"expires_at"`
						IPAddress string `json:"ip_address"`
					} `json:"update"`
				} `json:"verified"`
				Rejection *struct {
					Code            string `json:"code"`
					Status          int    `json:"status"`
					Message         string `json:"message"`
					Detail          string `json:"detail"`
					WWWAuthenticate string `json:"www_authenticate"`
				} `json:"rejection"`
			} `json:"expect"`
		}
		decodeCase(t, raw, &c)
		var key *Key
		if string(c.Record) != "null" {
			var err error
			if key, err = KeyFromJSON(c.Record); err != nil {
				t.Fatalf("record: %v", err)
			}
			defer key.Close()
		}
		settings, err := SettingsFromJSON(c.Settings)
		if err != nil {
			t.Fatalf("settings: %v", err)
		}
		defer settings.Close()
		now := ts(t, c.Now)
		update, err := VerifyRecord(c.Presented, key, now, settings, c.RemoteAddr)
		switch want := c.Expect; {
		case want.Verified != nil:
			if err != nil {
				t.Fatalf("got %v, want verified", err)
			}
			w := want.Verified.Update
			switch {
			case w == nil && update == nil:
			case w == nil || update == nil:
				t.Fatalf("update: got %+v, want %+v", update, w)
			default:
				if !update.LastUsed.Equal(ts(t, w.LastUsed)) {
					t.Errorf("last_used: got %v, want %v", update.LastUsed, w.LastUsed)
				}
				if !update.ExpiresAt.Equal(ts(t, w.ExpiresAt)) {
					t.Errorf("expires_at: got %v, want %v", update.ExpiresAt, w.ExpiresAt)
				}
				if update.IPAddress != w.IPAddress {
					t.Errorf("ip_address: got %q, want %q", update.IPAddress, w.IPAddress)
				}
				// The decision was made on the record's expires_at.
				recorded, _ := key.ExpiresAt()
				if !update.PreviousExpiresAt.Equal(recorded) {
					t.Errorf("previous expires_at: got %v, want %v", update.PreviousExpiresAt, recorded)
				}
				if update.LastUsed.Location() != time.UTC {
					t.Errorf("last_used not in UTC: %v", update.LastUsed)
				}
			}
		case want.Rejection != nil:
			w := want.Rejection
			e := asError(t, err, "rejection "+w.Code)
			if e.Name != w.Code {
				t.Errorf("code: got %q, want %q", e.Name, w.Code)
			}
			if e.Status != w.Status {
				t.Errorf("status: got %d, want %d", e.Status, w.Status)
			}
			if e.Message != w.Message {
				t.Errorf("message: got %q, want %q", e.Message, w.Message)
			}
			if e.Detail != w.Detail {
				t.Errorf("detail: got %q, want %q", e.Detail, w.Detail)
			}
			if e.WWWAuthenticate != w.WWWAuthenticate {
				t.Errorf("www_authenticate: got %q, want %q", e.WWWAuthenticate, w.WWWAuthenticate)
			}
			checkBody(t, e)
			checkSentinels(t, err, w.Code)
			// No rejection carries the presented token's secret.
			if _, secret, perr := Parse(c.Presented); perr == nil && secret != "" {
				if strings.Contains(e.Error(), secret) || strings.Contains(e.Body, secret) ||
					strings.Contains(e.WWWAuthenticate, secret) {
					t.Errorf("the rejection holds the secret: %q %q", e.Error(), e.Body)
				}
			}
		default:
			t.Fatal("case expects neither verified nor rejection")
		}
	})
}

// extractCase is a case of extract.json or extract_grammar.json.
type extractCase struct {
	Headers [][2]string `json:"headers"`
	Query   string      `json:"query"`
	Expect  *string     `json:"expect"`
	Source  *string     `json:"source"`
}

// extractVector runs ExtractToken on a case: the token and its source, or "" and no source
// for ErrMissing (after checking Coder's detail).
func extractVector(t *testing.T, c extractCase) (*string, *string) {
	t.Helper()
	headers := make([]Header, len(c.Headers))
	for i, h := range c.Headers {
		headers[i] = Header{Name: h[0], Value: h[1]}
	}
	token, source, err := ExtractToken(headers, c.Query)
	if err != nil {
		e := asError(t, err, "a token or missing")
		if !errors.Is(err, ErrMissing) ||
			e.Detail != `Cookie "coder_session_token" or query parameter must be provided.` {
			t.Fatalf("got %v, want missing", err)
		}
		checkBody(t, e)
		return nil, nil
	}
	name := source.String()
	return &token, &name
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%q", *s)
}

func TestExtractVectors(t *testing.T) {
	runVectors(t, "extract.json", "extract", 68, 0, func(t *testing.T, raw json.RawMessage, _ skipper) {
		var c extractCase
		decodeCase(t, raw, &c)
		token, _ := extractVector(t, c)
		if deref(token) != deref(c.Expect) {
			t.Errorf("token: got %s, want %s", deref(token), deref(c.Expect))
		}
	})
}

func TestExtractGrammarVectors(t *testing.T) {
	doc := loadVectors(t, "extract_grammar.json", "extract_grammar")
	if !strings.HasPrefix(doc.GoVersion, "go") {
		t.Fatalf("go_version %q", doc.GoVersion)
	}
	runVectors(t, "extract_grammar.json", "extract_grammar", 138, 0, func(t *testing.T, raw json.RawMessage, _ skipper) {
		var c extractCase
		decodeCase(t, raw, &c)
		token, source := extractVector(t, c)
		if deref(token) != deref(c.Expect) {
			t.Errorf("token: got %s, want %s", deref(token), deref(c.Expect))
		}
		if deref(source) != deref(c.Source) {
			t.Errorf("source: got %s, want %s", deref(source), deref(c.Source))
		}
	})
}

func TestDurationVectors(t *testing.T) {
	runVectors(t, "duration.json", "duration", 127, 0, func(t *testing.T, raw json.RawMessage, _ skipper) {
		var c struct {
			Input     string `json:"input"`
			Nanos     *int64 `json:"nanos"`
			Formatted string `json:"formatted"`
			Expect    struct {
				Nanos *int64  `json:"nanos"`
				Error *string `json:"error"`
			} `json:"expect"`
		}
		decodeCase(t, raw, &c)
		if c.Nanos != nil {
			if got := FormatDuration(time.Duration(*c.Nanos)); got != c.Formatted {
				t.Errorf("formatted: got %q, want %q", got, c.Formatted)
			}
			return
		}
		got, err := ParseDuration(c.Input)
		switch {
		case c.Expect.Error != nil:
			e := asError(t, err, "invalid_duration")
			if !errors.Is(err, ErrInvalidDuration) || e.Detail != *c.Expect.Error || got != 0 {
				t.Errorf("got %v %s %q, want invalid_duration %q", got, e.Name, e.Detail, *c.Expect.Error)
			}
		case c.Expect.Nanos != nil:
			if err != nil || int64(got) != *c.Expect.Nanos {
				t.Errorf("got %d %v, want %d", got, err, *c.Expect.Nanos)
			}
		default:
			t.Fatal("case expects neither nanos nor an error")
		}
	})
}

func TestCodeVectors(t *testing.T) {
	doc := loadVectors(t, "codes.json", "codes")
	// Every number the library names is listed, and nothing else; every one but ok has a
	// sentinel. Statuses are grouped below 7000; the scan goes further.
	var named, listed, ours []int
	for n := 0; n <= 0xFFFF; n++ {
		if statusNameOf(n) != "unknown" {
			named = append(named, n)
		}
	}
	for _, raw := range doc.Cases {
		var c struct {
			Number int `json:"number"`
		}
		decodeCase(t, raw, &c)
		listed = append(listed, c.Number)
	}
	ours = append(ours, 0)
	for _, s := range sentinels {
		ours = append(ours, s.Code)
	}
	slices.Sort(listed)
	slices.Sort(ours)
	if !slices.Equal(named, listed) || !slices.Equal(named, ours) {
		t.Fatalf("statuses: the library names %v, codes.json lists %v, the sentinels are %v", named, listed, ours)
	}
	runVectors(t, "codes.json", "codes", 36, 0, func(t *testing.T, raw json.RawMessage, _ skipper) {
		var c struct {
			Name      string `json:"name"`
			Number    int    `json:"number"`
			Status    int    `json:"status"`
			Rejection bool   `json:"rejection"`
		}
		decodeCase(t, raw, &c)
		name, status := statusNameOf(c.Number), httpStatus(c.Number)
		if c.Number != 0 {
			i := slices.IndexFunc(sentinels, func(s *Error) bool { return s.Code == c.Number })
			if i < 0 {
				t.Fatalf("no sentinel numbered %d", c.Number)
			}
			name, status = sentinels[i].Name, sentinels[i].Status
		}
		if name != c.Name || status != c.Status {
			t.Errorf("got %q %d, want %q %d", name, status, c.Name, c.Status)
		}
		// Nothing answers "is this a rejection": the header documents the range (1000 a
		// presented token does not authenticate), as tests/ffi_vectors.rs checks.
		if got := c.Number >= 1000 && c.Number < 2000; got != c.Rejection {
			t.Errorf("rejection (in 1000..2000): got %v, want %v", got, c.Rejection)
		}
	})
}

// vectorUser is the user every authority case acts as, and for.
func vectorUser(roles []string) User { return User{ID: "vector-user", Roles: roles} }

// openVectorAuthority opens ":memory:" with settings (a partial Settings object).
func openVectorAuthority(t *testing.T, settings json.RawMessage) *Authority {
	t.Helper()
	s, err := SettingsFromJSON(settings)
	if err != nil {
		t.Fatalf("settings: %v", err)
	}
	defer s.Close()
	a, err := Open(":memory:", s)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(a.Close)
	return a
}

// vectorError is an operational error's expectation: Coder's HTTP answer.
type vectorError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
	Detail  string `json:"detail"`
}

func checkVectorError(t *testing.T, e *Error, want vectorError) {
	t.Helper()
	if e.Status != want.Status || e.Message != want.Message || e.Detail != want.Detail {
		t.Errorf("got %d %q %q, want %d %q %q", e.Status, e.Message, e.Detail, want.Status, want.Message, want.Detail)
	}
	checkBody(t, e)
	if e.WWWAuthenticate != "" {
		t.Errorf("WWW-Authenticate %q on an operational error", e.WWWAuthenticate)
	}
}

func TestLifetimeVectors(t *testing.T) {
	runVectors(t, "lifetime.json", "lifetime", 32, 0, func(t *testing.T, raw json.RawMessage, _ skipper) {
		var c struct {
			Name        string          `json:"name"`
			Settings    json.RawMessage `json:"settings"`
			TargetRoles []string        `json:"target_roles"`
			LifetimeNS  int64           `json:"lifetime_ns"`
			Now         string          `json:"now"`
			MaxNS       int64           `json:"max_token_lifetime_ns"`
			Expect      struct {
				ExpiresAt       *string      `json:"expires_at"`
				LifetimeSeconds int64        `json:"lifetime_seconds"`
				Error           *vectorError `json:"error"`
			} `json:"expect"`
		}
		decodeCase(t, raw, &c)
		a := openVectorAuthority(t, c.Settings)
		user := vectorUser(c.TargetRoles)
		config, err := a.TokenConfig(user)
		if err != nil || config.MaxTokenLifetime != time.Duration(c.MaxNS) {
			t.Errorf("max_token_lifetime: got %d %v, want %d", config.MaxTokenLifetime, err, c.MaxNS)
		}
		_, key, err := a.CreateToken(user, user, TokenRequest{Lifetime: time.Duration(c.LifetimeNS), TokenName: c.Name}, "203.0.113.7")
		if c.Expect.Error != nil {
			// The vectors name no code: either lifetime status.
			e := asError(t, err, "a lifetime error")
			if !errors.Is(err, ErrInvalidLifetime) && !errors.Is(err, ErrLifetimeTooLong) {
				t.Errorf("got %v, want a lifetime error", err)
			}
			checkVectorError(t, e, *c.Expect.Error)
			return
		}
		if err != nil {
			t.Fatalf("got %v, want a token", err)
		}
		defer key.Close()
		public, err := key.APIKey()
		if err != nil {
			t.Fatal(err)
		}
		expiresAt, _ := key.ExpiresAt()
		createdAt, _ := key.CreatedAt()
		if !public.ExpiresAt.Equal(expiresAt) {
			t.Errorf("expires_at: JSON %v, getter %v", public.ExpiresAt, expiresAt)
		}
		// The authority reads the system clock, which cannot be set: compare the span from
		// the key's created_at (its "now") with the span the case expects from now (as
		// tests/ffi_vectors.rs does).
		if got, want := expiresAt.Sub(createdAt), ts(t, *c.Expect.ExpiresAt).Sub(ts(t, c.Now)); got != want {
			t.Errorf("expires_at - created_at: got %v, want %v", got, want)
		}
		// The key is the stored one: a lifetime of 0 whole seconds is stored as 86400
		// (tests/vectors/README.md: "That substitution belongs to the store").
		want := c.Expect.LifetimeSeconds
		if want == 0 {
			want = 86400
		}
		if got, _ := key.LifetimeSeconds(); got != want || public.LifetimeSeconds != want {
			t.Errorf("lifetime_seconds: got %d (JSON %d), want %d", got, public.LifetimeSeconds, want)
		}
	})
}

func TestScopesVectors(t *testing.T) {
	a := openVectorAuthority(t, json.RawMessage(`{}`))
	user := vectorUser(nil)
	runVectors(t, "scopes.json", "scopes", 31, 0, func(t *testing.T, raw json.RawMessage, _ skipper) {
		var c struct {
			Name   string   `json:"name"`
			Scope  *string  `json:"scope"`
			Scopes []string `json:"scopes"`
			Expect struct {
				Scopes []string     `json:"scopes"`
				Scope  string       `json:"scope"`
				Error  *vectorError `json:"error"`
			} `json:"expect"`
		}
		decodeCase(t, raw, &c)
		req := TokenRequest{Scopes: c.Scopes, TokenName: c.Name}
		if c.Scope != nil { // null and "" both mean "not given"
			req.Scope = *c.Scope
		}
		_, key, err := a.CreateToken(user, user, req, "")
		if c.Expect.Error != nil {
			e := asError(t, err, "invalid_scope")
			if !errors.Is(err, ErrInvalidScope) {
				t.Errorf("got %v, want invalid_scope", err)
			}
			checkVectorError(t, e, *c.Expect.Error)
			return
		}
		if err != nil {
			t.Fatalf("got %v, want a token", err)
		}
		defer key.Close()
		public, err := key.APIKey()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(public.Scopes, c.Expect.Scopes) || public.Scope != c.Expect.Scope {
			t.Errorf("got %q %q, want %q %q", public.Scopes, public.Scope, c.Expect.Scopes, c.Expect.Scope)
		}
	})
}

func TestIPVectors(t *testing.T) {
	a := openVectorAuthority(t, json.RawMessage(`{}`))
	user := vectorUser(nil)
	runVectors(t, "ip.json", "ip", 30, 0, func(t *testing.T, raw json.RawMessage, _ skipper) {
		var c struct {
			Input  string `json:"input"`
			Expect string `json:"expect"`
		}
		decodeCase(t, raw, &c)
		// The address a new key records for the request's remote address (tests/vectors.rs
		// mints a session for it too).
		_, key, err := a.CreateSession(user, "password", c.Input)
		if err != nil {
			t.Fatal(err)
		}
		defer key.Close()
		if got, err := key.IPAddress(); err != nil || got != c.Expect {
			t.Errorf("got %q %v, want %q", got, err, c.Expect)
		}
	})
}

// quoter reads Go's %q of caller input back from the details that use it.
type quoter struct {
	a    *Authority
	user User
}

// byLoginType quotes s as CreateSession's "unknown login type %q".
func (q quoter) byLoginType(s string) (string, error) {
	_, key, err := q.a.CreateSession(q.user, s, "")
	key.Close()
	return strip(err, ErrInvalidLoginType, "unknown login type ")
}

// byScope quotes s as CreateToken's "invalid or unsupported API key scope: %q".
func (q quoter) byScope(s string) (string, error) {
	_, key, err := q.a.CreateToken(q.user, q.user, TokenRequest{Scopes: []string{s}}, "")
	key.Close()
	return strip(err, ErrInvalidScope, "invalid or unsupported API key scope: ")
}

func strip(err error, want *Error, prefix string) (string, error) {
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, want) {
		return "", fmt.Errorf("got %v, want %s", err, want.Name)
	}
	quoted, ok := strings.CutPrefix(e.Detail, prefix)
	if !ok {
		return "", fmt.Errorf("unexpected detail %q", e.Detail)
	}
	return quoted, nil
}

func TestQuoteVectors(t *testing.T) {
	q := quoter{a: openVectorAuthority(t, json.RawMessage(`{}`)), user: vectorUser(nil)}
	runVectors(t, "quote.json", "quote", 100, 0, func(t *testing.T, raw json.RawMessage, _ skipper) {
		var c struct {
			Input  string `json:"input"`
			Quoted string `json:"quoted"`
		}
		decodeCase(t, raw, &c)
		for _, by := range []func(string) (string, error){q.byScope, q.byLoginType} {
			if got, err := by(c.Input); err != nil || got != c.Quoted {
				t.Errorf("got %q %v, want %q", got, err, c.Quoted)
			}
		}
	})
}

// Every code point a string can hold comes back raw from the library's %q exactly when Go's
// unicode.IsPrint (as quote.json records it) accepts it. Through the debug library a code point
// costs about 20 µs, so by default the walk takes both sides of every edge of the unprintable
// ranges and every 61st code point besides; TOKENWARD_QUOTE_WALK=all walks all 1,112,064 (as
// tests/ffi_vectors.rs does).
func TestQuoteEscapesExactlyWhatGoFindsUnprintable(t *testing.T) {
	doc := loadVectors(t, "quote.json", "quote")
	ranges := doc.Unprintable
	if len(ranges) == 0 {
		t.Fatal("quote.json has no unprintable ranges")
	}
	for i, r := range ranges {
		if r[0] > r[1] || i > 0 && ranges[i-1][1] >= r[0] {
			t.Fatalf("unprintable ranges out of order at %v", r)
		}
	}
	all := os.Getenv("TOKENWARD_QUOTE_WALK") == "all"
	edges := map[rune]bool{}
	for _, r := range ranges {
		for _, u := range []int{r[0] - 1, r[0], r[0] + 1, r[1] - 1, r[1], r[1] + 1} {
			edges[rune(u)] = true
		}
	}
	q := quoter{a: openVectorAuthority(t, json.RawMessage(`{}`)), user: vectorUser(nil)}
	var wrong []string
	walked, next := 0, 0
	for u := rune(0); u <= 0x10FFFF; u++ {
		if u >= 0xD800 && u <= 0xDFFF || !all && !edges[u] && u%61 != 0 {
			continue
		}
		for next < len(ranges) && ranges[next][1] < int(u) {
			next++
		}
		goPrintable := next == len(ranges) || int(u) < ranges[next][0]
		quoted, err := q.byLoginType(string(u))
		if err != nil {
			t.Fatalf("U+%04X: %v", u, err)
		}
		raw := quoted == `"`+string(u)+`"`
		// Go escapes '"' and '\\' although it can print them.
		if raw != (goPrintable && u != '"' && u != '\\') {
			wrong = append(wrong, fmt.Sprintf("U+%04X (raw: %v, Go printable: %v)", u, raw, goPrintable))
		}
		walked++
	}
	if all && walked != 0x110000-0x800 || walked < 0x110000/61 {
		t.Fatalf("walked %d code points", walked)
	}
	t.Logf("%d code points walked", walked)
	if len(wrong) > 0 {
		t.Fatalf("%d code points quoted unlike Go %s, first: %v", len(wrong), doc.GoVersion, wrong[:min(len(wrong), 20)])
	}
}
