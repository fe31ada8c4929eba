package tokenward

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type checkCase struct {
	Name       string          `json:"name"`
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

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("timestamp %q: %v", s, err)
	}
	return v
}

// TestCheckVectors runs every case of tests/vectors/check.json through VerifyRecord, compared
// as tests/vectors.rs does.
func TestCheckVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "tests", "vectors", "check.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema string      `json:"schema"`
		Kind   string      `json:"kind"`
		Cases  []checkCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "tokenward-vectors/1" || doc.Kind != "check" || len(doc.Cases) == 0 {
		t.Fatalf("envelope: schema %q kind %q, %d cases", doc.Schema, doc.Kind, len(doc.Cases))
	}
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var key *Key
			if string(c.Record) != "null" {
				key, err = KeyFromJSON(c.Record)
				if err != nil {
					t.Fatalf("record: %v", err)
				}
				defer key.Close()
			}
			settings, err := SettingsFromJSON(c.Settings)
			if err != nil {
				t.Fatalf("settings: %v", err)
			}
			defer settings.Close()
			verdict, err := VerifyRecord(c.Presented, key, ts(t, c.Now), settings, c.RemoteAddr)
			switch want := c.Expect; {
			case want.Verified != nil:
				if err != nil {
					t.Fatalf("got %v, want verified", err)
				}
				w := want.Verified.Update
				u := verdict.Update
				switch {
				case w == nil && u == nil:
				case w == nil || u == nil:
					t.Fatalf("update: got %+v, want %+v", u, w)
				default:
					if !u.LastUsed.Equal(ts(t, w.LastUsed)) {
						t.Errorf("last_used: got %v, want %v", u.LastUsed, w.LastUsed)
					}
					if !u.ExpiresAt.Equal(ts(t, w.ExpiresAt)) {
						t.Errorf("expires_at: got %v, want %v", u.ExpiresAt, w.ExpiresAt)
					}
					if u.IPAddress != w.IPAddress {
						t.Errorf("ip_address: got %q, want %q", u.IPAddress, w.IPAddress)
					}
				}
			case want.Rejection != nil:
				w := want.Rejection
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("got %v (%v), want rejection %s", verdict, err, w.Code)
				}
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
				// The sentinel of that name matches through errors.Is.
				for _, s := range sentinels {
					if (s.Name == w.Code) != errors.Is(err, s) {
						t.Errorf("errors.Is(err, %s) = %v", s.Name, errors.Is(err, s))
					}
				}
			default:
				t.Fatal("case expects neither verified nor rejection")
			}
		})
	}
}
