package tokenward

// #include "gotw.h"
import "C"

import (
	"encoding/json"
	"sync"
	"time"
)

// Settings are Coder's deployment settings that govern API keys (session_duration,
// disable_session_expiry_refresh, default_token_lifetime, max_token_lifetime,
// max_admin_token_lifetime, api_keys_retention, access_url). Make them with DefaultSettings,
// SettingsFromEnv or SettingsFromJSON, adjust them with Set before sharing them, and release
// them with Close. Safe for concurrent use.
type Settings struct {
	mu  sync.RWMutex
	ptr C.uintptr_t
}

// DefaultSettings are Coder's defaults: sessions of 24h, tokens of 168h by default and at most
// 876600h (168h for an owner), expired keys kept 7d, no access URL.
func DefaultSettings() (*Settings, error) {
	var out C.uintptr_t
	var e C.gotw_error
	if C.gotw_settings_default(&out, &e) != C.TW_OK {
		return nil, failure(&e)
	}
	return &Settings{ptr: out}, nil
}

// SettingsFromEnv reads the settings from the process environment: for each setting
// TOKENWARD_<NAME> when set, else Coder's own CODER_<NAME> (CODER_SESSION_DURATION,
// CODER_DISABLE_SESSION_EXPIRY_REFRESH, CODER_DEFAULT_TOKEN_LIFETIME,
// CODER_MAX_TOKEN_LIFETIME, CODER_MAX_ADMIN_TOKEN_LIFETIME, CODER_API_KEYS_RETENTION,
// CODER_ACCESS_URL), else the default. ErrInvalidSettings names the variable and what is
// wrong with it.
func SettingsFromEnv() (*Settings, error) {
	var out C.uintptr_t
	var e C.gotw_error
	if C.gotw_settings_from_env(&out, &e) != C.TW_OK {
		return nil, failure(&e)
	}
	return &Settings{ptr: out}, nil
}

// SettingsFromJSON reads settings from a JSON object (session_duration,
// disable_session_expiry_refresh, default_token_lifetime, max_token_lifetime,
// max_admin_token_lifetime, api_keys_retention as Go durations such as "24h", access_url as
// a string or null); absent fields take Coder's defaults, so `{}` gives the defaults.
// ErrInvalidSettings names what is wrong.
func SettingsFromJSON(data []byte) (*Settings, error) {
	var out C.uintptr_t
	var e C.gotw_error
	p, n := cbytes(data)
	if C.gotw_settings_from_json(p, n, &out, &e) != C.TW_OK {
		return nil, failure(&e)
	}
	return &Settings{ptr: out}, nil
}

// Set changes one setting, named by its name (session_duration), Coder's flag
// (session-duration) or its environment variable (CODER_SESSION_DURATION), from text as the
// environment holds it: a Go duration ("168h", "7d"), a Go boolean ("true", "1"), a URL (""
// for none). ErrInvalidSettings for an unknown name or a bad value, and the settings are
// unchanged.
//
// Call it before sharing the settings. It waits for calls using them to finish, but an
// Authority opened with them keeps the copy it made at Open.
func (s *Settings) Set(name, value string) error {
	if s == nil {
		return ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr == 0 {
		return ErrClosed
	}
	var e C.gotw_error
	np, nn := cstr(name)
	vp, vn := cstr(value)
	if C.gotw_settings_set(s.ptr, np, nn, vp, vn, &e) != C.TW_OK {
		return failure(&e)
	}
	return nil
}

// JSON is the settings as a JSON object, durations as Go strings such as "24h0m0s": what
// SettingsFromJSON reads.
func (s *Settings) JSON() ([]byte, error) {
	sp, err := s.rlock()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out C.tw_str
	var e C.gotw_error
	if C.gotw_settings_to_json(sp, &out, &e) != C.TW_OK {
		return nil, failure(&e)
	}
	return gobytes(out), nil
}

// SettingsValues is a typed view of Settings, from (*Settings).Values.
type SettingsValues struct {
	// SessionDuration is the lifetime of a browser session and the length of its sliding
	// refresh (CODER_SESSION_DURATION).
	SessionDuration time.Duration
	// DisableSessionExpiryRefresh turns off the sliding refresh of session expiry
	// (CODER_DISABLE_SESSION_EXPIRY_REFRESH).
	DisableSessionExpiryRefresh bool
	// DefaultTokenLifetime is the lifetime of a token created without one
	// (CODER_DEFAULT_TOKEN_LIFETIME).
	DefaultTokenLifetime time.Duration
	// MaxTokenLifetime is the longest lifetime a member may request
	// (CODER_MAX_TOKEN_LIFETIME).
	MaxTokenLifetime time.Duration
	// MaxAdminTokenLifetime is the longest lifetime for a user with the owner role
	// (CODER_MAX_ADMIN_TOKEN_LIFETIME).
	MaxAdminTokenLifetime time.Duration
	// APIKeysRetention is how long expired keys are kept before they are purged; zero turns
	// the purge off (CODER_API_KEYS_RETENTION).
	APIKeysRetention time.Duration
	// AccessURL is the deployment's external URL, "" for none (CODER_ACCESS_URL).
	AccessURL string
}

// Values reads the settings into a SettingsValues (from JSON, durations through
// ParseDuration).
func (s *Settings) Values() (SettingsValues, error) {
	data, err := s.JSON()
	if err != nil {
		return SettingsValues{}, err
	}
	var raw struct {
		SessionDuration             string  `json:"session_duration"`
		DisableSessionExpiryRefresh bool    `json:"disable_session_expiry_refresh"`
		DefaultTokenLifetime        string  `json:"default_token_lifetime"`
		MaxTokenLifetime            string  `json:"max_token_lifetime"`
		MaxAdminTokenLifetime       string  `json:"max_admin_token_lifetime"`
		APIKeysRetention            string  `json:"api_keys_retention"`
		AccessURL                   *string `json:"access_url"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return SettingsValues{}, err
	}
	v := SettingsValues{DisableSessionExpiryRefresh: raw.DisableSessionExpiryRefresh}
	if raw.AccessURL != nil {
		v.AccessURL = *raw.AccessURL
	}
	for _, d := range []struct {
		text string
		into *time.Duration
	}{
		{raw.SessionDuration, &v.SessionDuration},
		{raw.DefaultTokenLifetime, &v.DefaultTokenLifetime},
		{raw.MaxTokenLifetime, &v.MaxTokenLifetime},
		{raw.MaxAdminTokenLifetime, &v.MaxAdminTokenLifetime},
		{raw.APIKeysRetention, &v.APIKeysRetention},
	} {
		if *d.into, err = ParseDuration(d.text); err != nil {
			return SettingsValues{}, err
		}
	}
	return v, nil
}

// Close releases the settings. Later calls do nothing; other methods then return ErrClosed.
func (s *Settings) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	C.gotw_settings_free(s.ptr)
	s.ptr = 0
}

// rlock read-locks s and returns its handle; the caller unlocks s.mu unless there is an
// error. ErrClosed for nil or closed settings.
func (s *Settings) rlock() (C.uintptr_t, error) {
	if s == nil {
		return 0, ErrClosed
	}
	s.mu.RLock()
	if s.ptr == 0 {
		s.mu.RUnlock()
		return 0, ErrClosed
	}
	return s.ptr, nil
}

// lockOrDefault read-locks s and returns its handle and the unlock to defer; 0 and a no-op
// for nil settings (Coder's defaults).
func (s *Settings) lockOrDefault() (C.uintptr_t, func(), error) {
	if s == nil {
		return 0, func() {}, nil
	}
	sp, err := s.rlock()
	if err != nil {
		return 0, nil, err
	}
	return sp, s.mu.RUnlock, nil
}
