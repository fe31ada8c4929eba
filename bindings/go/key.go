package tokenward

// #include "gotw.h"
import "C"

import (
	"encoding/json"
	"sync"
	"time"
	"unsafe"
)

// Key is one key record (a row of Coder's api_keys), immutable. Make one with NewKey or
// KeyFromJSON, or get one from an Authority; release it with Close. Safe for concurrent use.
//
// Times come back in UTC, at the microsecond precision the record keeps.
type Key struct {
	mu  sync.RWMutex
	ptr C.uintptr_t
}

// KeyFields are the columns of a new key record, for NewKey. Its scopes are [coder:all] and
// its allow-list *:*, Coder's defaults (KeyFromJSON takes any other).
type KeyFields struct {
	// ID is the key id, the token's first 10 bytes (Parse). Required.
	ID string
	// HashedSecret is SHA-256 of the secret (HashSecret), 32 bytes. Required.
	HashedSecret []byte
	// UserID is the owner's id, not empty. Required.
	UserID string
	// LoginType is password, github, oidc, token, none or oauth2_provider_app. Required.
	LoginType string
	// CreatedAt is the creation time, also stored as updated_at. Required: the zero time is
	// Go's year 1, not "now".
	CreatedAt time.Time
	// ExpiresAt is the absolute expiry. Required.
	ExpiresAt time.Time
	// LastUsed is the last use; the zero time (or the Unix epoch) means never used.
	LastUsed time.Time
	// LifetimeSeconds is the sliding lifetime in seconds; 0 stores Coder's 86400.
	LifetimeSeconds int64
	// TokenName is the token's name; "" for none (a session).
	TokenName string
	// IPAddress is the creating request's IP address; "" for 0.0.0.0.
	IPAddress string
}

// NewKey builds a key record from its columns. ErrInvalidKey names a field that is not valid
// (an id that is not 10 bytes, a hash that is not 32, an empty user id);
// ErrInvalidLoginType, ErrInvalidTimestamp (a time out of range) or ErrInvalidArgument (an IP
// address) the others.
func NewKey(f KeyFields) (*Key, error) {
	idp, idn := cstr(f.ID)
	hp, hn := cbytes(f.HashedSecret)
	up, un := cstr(f.UserID)
	lp, ln := cstr(f.LoginType)
	np, nn := coptional(f.TokenName)
	ip, in := coptional(f.IPAddress)
	lastUsed := C.int64_t(0)
	if !f.LastUsed.IsZero() {
		lastUsed = toMicros(f.LastUsed)
	}
	var out C.uintptr_t
	var e C.gotw_error
	if C.gotw_key_new(idp, idn, (*C.uint8_t)(unsafe.Pointer(hp)), hn, up, un, lp, ln,
		toMicros(f.CreatedAt), toMicros(f.ExpiresAt), lastUsed, C.int64_t(f.LifetimeSeconds),
		np, nn, ip, in, &out, &e) != C.TW_OK {
		return nil, failure(&e)
	}
	return &Key{ptr: out}, nil
}

// KeyFromJSON reads a key record from its storage form (every column, hashed_secret as
// lower-case hex, times as RFC 3339; what StorageJSON writes). ErrInvalidKey when it does not
// decode.
func KeyFromJSON(data []byte) (*Key, error) {
	var out C.uintptr_t
	var e C.gotw_error
	p, n := cbytes(data)
	if C.gotw_key_from_json(p, n, &out, &e) != C.TW_OK {
		return nil, failure(&e)
	}
	return &Key{ptr: out}, nil
}

// Close releases the key. Later calls do nothing; other methods then return ErrClosed.
func (k *Key) Close() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	C.gotw_key_free(k.ptr)
	k.ptr = 0
}

// rlock read-locks k and returns its handle; the caller unlocks k.mu unless there is an
// error. ErrClosed for a nil or closed key.
func (k *Key) rlock() (C.uintptr_t, error) {
	if k == nil {
		return 0, ErrClosed
	}
	k.mu.RLock()
	if k.ptr == 0 {
		k.mu.RUnlock()
		return 0, ErrClosed
	}
	return k.ptr, nil
}

func (k *Key) textField(field C.int) (string, error) {
	p, err := k.rlock()
	if err != nil {
		return "", err
	}
	defer k.mu.RUnlock()
	var out C.tw_str
	var e C.gotw_error
	if C.gotw_key_text(p, field, &out, &e) != C.TW_OK {
		return "", failure(&e)
	}
	return gostr(out), nil
}

func (k *Key) intField(field C.int) (int64, error) {
	p, err := k.rlock()
	if err != nil {
		return 0, err
	}
	defer k.mu.RUnlock()
	var out C.int64_t
	var e C.gotw_error
	if C.gotw_key_int(p, field, &out, &e) != C.TW_OK {
		return 0, failure(&e)
	}
	return int64(out), nil
}

func (k *Key) timeField(field C.int) (time.Time, error) {
	m, err := k.intField(field)
	if err != nil {
		return time.Time{}, err
	}
	return fromMicros(C.int64_t(m)), nil
}

// ID is the key's id (10 bytes, not secret).
func (k *Key) ID() (string, error) { return k.textField(C.GOTW_KEY_ID) }

// UserID is the key's owner.
func (k *Key) UserID() (string, error) { return k.textField(C.GOTW_KEY_USER_ID) }

// LoginType is password, github, oidc, token, none or oauth2_provider_app.
func (k *Key) LoginType() (string, error) { return k.textField(C.GOTW_KEY_LOGIN_TYPE) }

// TokenName is the token's name, "" for a session.
func (k *Key) TokenName() (string, error) { return k.textField(C.GOTW_KEY_TOKEN_NAME) }

// IPAddress is the address of the key's last refresh (or creation), canonical, "0.0.0.0"
// when unknown. Not part of the public view (JSON).
func (k *Key) IPAddress() (string, error) { return k.textField(C.GOTW_KEY_IP_ADDRESS) }

// ExpiresAt is the key's absolute expiry.
func (k *Key) ExpiresAt() (time.Time, error) { return k.timeField(C.GOTW_KEY_EXPIRES_AT) }

// LastUsed is the key's last authenticated use: the Unix epoch for a key never used.
func (k *Key) LastUsed() (time.Time, error) { return k.timeField(C.GOTW_KEY_LAST_USED) }

// CreatedAt is the key's creation time.
func (k *Key) CreatedAt() (time.Time, error) { return k.timeField(C.GOTW_KEY_CREATED_AT) }

// UpdatedAt is the last change of the key's settings (refreshes do not move it).
func (k *Key) UpdatedAt() (time.Time, error) { return k.timeField(C.GOTW_KEY_UPDATED_AT) }

// LifetimeSeconds is the lifetime a sliding refresh extends the key by, in seconds.
func (k *Key) LifetimeSeconds() (int64, error) { return k.intField(C.GOTW_KEY_LIFETIME_SECONDS) }

// HashedSecret is the key's hashed_secret: SHA-256 of its secret, normally 32 bytes (a record
// read with KeyFromJSON may hold any length, which never matches). It is itself a secret:
// store it, never return it from an API.
func (k *Key) HashedSecret() ([]byte, error) {
	p, err := k.rlock()
	if err != nil {
		return nil, err
	}
	defer k.mu.RUnlock()
	var buf [32]byte
	var needed C.size_t
	var e C.gotw_error
	status := C.gotw_key_hashed_secret(p, (*C.uint8_t)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &needed, &e)
	if status == C.TW_OK {
		return append([]byte(nil), buf[:needed]...), nil
	}
	if status != C.TW_BUFFER_TOO_SMALL {
		return nil, failure(&e)
	}
	_ = failure(&e) // release its strings
	out := make([]byte, needed)
	e = C.gotw_error{}
	if C.gotw_key_hashed_secret(p, (*C.uint8_t)(unsafe.Pointer(&out[0])), needed, &needed, &e) != C.TW_OK {
		return nil, failure(&e)
	}
	return out, nil
}

// JSON is codersdk's APIKey JSON of the key: its public view, without the hash or the IP
// address. The one form to return from an API.
func (k *Key) JSON() ([]byte, error) {
	s, err := k.textField(C.GOTW_KEY_JSON)
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// StorageJSON is the storage form of the key: every column, hashed_secret as lower-case hex,
// times as RFC 3339; what KeyFromJSON reads. It holds the hash: store it, never return it from
// an API (that is JSON).
func (k *Key) StorageJSON() ([]byte, error) {
	s, err := k.textField(C.GOTW_KEY_STORAGE_JSON)
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// APIKey decodes the key's public view (JSON) into codersdk's APIKey fields.
func (k *Key) APIKey() (APIKey, error) {
	data, err := k.JSON()
	if err != nil {
		return APIKey{}, err
	}
	var out APIKey
	if err := json.Unmarshal(data, &out); err != nil {
		return APIKey{}, err
	}
	return out.utc(), nil
}

// APIKey is codersdk's APIKey: the public view of a key record, as Coder's API returns it
// (no hash, no IP address). Its JSON is the library's.
type APIKey struct {
	// ID is the key id.
	ID string `json:"id"`
	// UserID is the owner.
	UserID string `json:"user_id"`
	// LastUsed is the last authenticated use (the Unix epoch when never used).
	LastUsed time.Time `json:"last_used"`
	// ExpiresAt is the absolute expiry.
	ExpiresAt time.Time `json:"expires_at"`
	// CreatedAt is the creation time.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is the last change of the key's settings.
	UpdatedAt time.Time `json:"updated_at"`
	// LoginType is how the key was obtained.
	LoginType string `json:"login_type"`
	// Scope is the deprecated single scope: "all", "application_connect" or "".
	Scope string `json:"scope"`
	// Scopes are the canonical scope names.
	Scopes []string `json:"scopes"`
	// TokenName is the token's name.
	TokenName string `json:"token_name"`
	// LifetimeSeconds is the sliding lifetime in seconds.
	LifetimeSeconds int64 `json:"lifetime_seconds"`
	// AllowList is the resources the key may touch.
	AllowList []AllowListEntry `json:"allow_list"`
}

// utc puts every time of a in UTC.
func (a APIKey) utc() APIKey {
	a.LastUsed = a.LastUsed.UTC()
	a.ExpiresAt = a.ExpiresAt.UTC()
	a.CreatedAt = a.CreatedAt.UTC()
	a.UpdatedAt = a.UpdatedAt.UTC()
	return a
}

// AllowListEntry is one allow-list entry (codersdk's APIAllowListTarget): an RBAC resource
// type such as "workspace", or "*", and a resource UUID, or "*".
type AllowListEntry struct {
	// Type is the resource type.
	Type string `json:"type"`
	// ID is the resource id.
	ID string `json:"id"`
}
