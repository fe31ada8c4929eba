package tokenward

// #include "gotw.h"
import "C"

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"
)

// User is a user as the authority sees it: an opaque id and its site roles ("owner" may act
// for others, and its tokens' maximum lifetime is max_admin_token_lifetime). tokenward keeps
// no users: the host says who acts.
type User struct {
	// ID is the user's id, never empty.
	ID string `json:"id"`
	// Roles are the user's site roles.
	Roles []string `json:"roles"`
}

// json is u as the C ABI takes it. encoding/json would turn bytes that are not UTF-8 into
// U+FFFD, making "user-\xff" and "user-\xfe" the same user: such a string is ErrInvalidUTF8.
func (u User) json() ([]byte, error) {
	if err := checkUTF8("user id", u.ID); err != nil {
		return nil, err
	}
	for _, role := range u.Roles {
		if err := checkUTF8("role", role); err != nil {
			return nil, err
		}
	}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	return json.Marshal(u)
}

// json is r as the C ABI takes it; a string that is not UTF-8 is ErrInvalidUTF8 (see User.json).
func (r TokenRequest) json() ([]byte, error) {
	if err := checkUTF8("scope", r.Scope); err != nil {
		return nil, err
	}
	for _, scope := range r.Scopes {
		if err := checkUTF8("scope", scope); err != nil {
			return nil, err
		}
	}
	if err := checkUTF8("token name", r.TokenName); err != nil {
		return nil, err
	}
	for _, entry := range r.AllowList {
		if err := checkUTF8("allow-list type", entry.Type); err != nil {
			return nil, err
		}
		if err := checkUTF8("allow-list id", entry.ID); err != nil {
			return nil, err
		}
	}
	return json.Marshal(r)
}

// json is o as the C ABI takes it; a user id that is not UTF-8 is ErrInvalidUTF8 (see
// User.json).
func (o ListOptions) json() ([]byte, error) {
	if err := checkUTF8("user id", o.UserID); err != nil {
		return nil, err
	}
	return json.Marshal(o)
}

// checkUTF8 is ErrInvalidUTF8 (status 400) when s, the named field, is not UTF-8.
func checkUTF8(field, s string) error {
	if utf8.ValidString(s) {
		return nil
	}
	return &Error{
		Code:   ErrInvalidUTF8.Code,
		Name:   ErrInvalidUTF8.Name,
		Status: ErrInvalidUTF8.Status,
		Detail: fmt.Sprintf("%s %q is not UTF-8", field, s),
	}
}

// TokenRequest is codersdk's CreateTokenRequest, the body of Coder's POST
// /users/{user}/keys/tokens. Zero fields take the defaults.
type TokenRequest struct {
	// Lifetime of the token; 0 for the settings' default_token_lifetime.
	Lifetime time.Duration `json:"lifetime,omitempty"`
	// Scope is the deprecated single scope ("all", "application_connect"); used only when
	// Scopes is empty.
	Scope string `json:"scope,omitempty"`
	// Scopes are the requested scopes; none means [coder:all].
	Scopes []string `json:"scopes,omitempty"`
	// TokenName is the token's name; "" gets a generated one.
	TokenName string `json:"token_name,omitempty"`
	// AllowList are the resources the token may touch; none means *:*.
	AllowList []AllowListEntry `json:"allow_list,omitempty"`
}

// ListOptions says which tokens ListTokens returns.
type ListOptions struct {
	// UserID is whose tokens; "" for the actor's own.
	UserID string `json:"user_id,omitempty"`
	// All lists every user's tokens (only an owner sees other users').
	All bool `json:"all"`
	// IncludeExpired includes expired tokens.
	IncludeExpired bool `json:"include_expired"`
}

// TokenConfig is codersdk's TokenConfig: what a user may request for a token.
type TokenConfig struct {
	// MaxTokenLifetime is the longest lifetime the user may request.
	MaxTokenLifetime time.Duration `json:"max_token_lifetime"`
}

// Authority keeps keys in a store (":memory:", a SQLite file or PostgreSQL) and runs their
// lifecycle as Coder does: it mints tokens and sessions, authenticates them (writing the
// refresh), lists, expires and deletes them. Safe for concurrent use; release it with Close.
type Authority struct {
	mu  sync.RWMutex
	ptr C.uintptr_t
}

// Open opens an authority over the store url names: ":memory:" (a new in-memory store, gone
// with the authority), "sqlite:<path>", "sqlite://<path>" or a plain file path (created when
// missing), or "postgres://user:password@host:port/database" (PostgreSQL, shared by many
// servers). settings nil means Coder's defaults; they are copied, so they may be closed after
// Open returns. The URL is never echoed in an error (it may hold a password).
func Open(url string, settings *Settings) (*Authority, error) {
	sp, unlock, err := settings.lockOrDefault()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out C.uintptr_t
	var e C.gotw_error
	up, un := cstr(url)
	if C.gotw_authority_open(up, un, sp, &out, &e) != C.TW_OK {
		return nil, failure(&e)
	}
	return &Authority{ptr: out}, nil
}

// Close releases the authority and closes its store. It waits for calls in progress; later
// calls do nothing, and other methods then return ErrClosed. Keys it returned stay valid.
func (a *Authority) Close() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	C.gotw_authority_free(a.ptr)
	a.ptr = 0
}

// rlock read-locks a against Close and returns its handle; the caller unlocks a.mu unless
// there is an error.
func (a *Authority) rlock() (C.uintptr_t, error) {
	if a == nil {
		return 0, ErrClosed
	}
	a.mu.RLock()
	if a.ptr == 0 {
		a.mu.RUnlock()
		return 0, ErrClosed
	}
	return a.ptr, nil
}

// minted reads what a minting call wrote: the token text and the key.
func minted(status C.tw_status, token C.tw_str, key C.uintptr_t, e *C.gotw_error) (string, *Key, error) {
	if status != C.TW_OK {
		return "", nil, failure(e)
	}
	return gostr(token), &Key{ptr: key}, nil
}

// CreateToken mints a named API token for target and stores it (Coder's POST
// /users/{user}/keys/tokens). The actor must be the target or an owner (else ErrForbidden);
// the lifetime is limited by the target's roles (ErrLifetimeTooLong, ErrInvalidLifetime);
// scopes and allow-list are checked (ErrInvalidScope, ErrInvalidAllowList); a name already
// taken is ErrConflict. It returns the token text (show it to its owner once, never log it)
// and the stored key, which the caller closes.
func (a *Authority) CreateToken(actor, target User, req TokenRequest, remoteAddr string) (string, *Key, error) {
	reqJSON, err := req.json()
	if err != nil {
		return "", nil, err
	}
	actorJSON, err := actor.json()
	if err != nil {
		return "", nil, err
	}
	targetJSON, err := target.json()
	if err != nil {
		return "", nil, err
	}
	p, err := a.rlock()
	if err != nil {
		return "", nil, err
	}
	defer a.mu.RUnlock()
	ap, an := cbytes(actorJSON)
	tp, tn := cbytes(targetJSON)
	qp, qn := cbytes(reqJSON)
	rp, rn := cstr(remoteAddr)
	var token C.tw_str
	var key C.uintptr_t
	var e C.gotw_error
	status := C.gotw_authority_create_token(p, ap, an, tp, tn, qp, qn, rp, rn, &token, &key, &e)
	return minted(status, token, key, &e)
}

// CreateSession mints a login session for user lasting the settings' session_duration (it
// slides while used) and stores it. loginType is password, github, oidc, none or
// oauth2_provider_app (ErrInvalidLoginType otherwise; token is ErrInvalidArgument). It returns
// the token text and the stored key, which the caller closes.
func (a *Authority) CreateSession(user User, loginType, remoteAddr string) (string, *Key, error) {
	userJSON, err := user.json()
	if err != nil {
		return "", nil, err
	}
	p, err := a.rlock()
	if err != nil {
		return "", nil, err
	}
	defer a.mu.RUnlock()
	up, un := cbytes(userJSON)
	lp, ln := cstr(loginType)
	rp, rn := cstr(remoteAddr)
	var token C.tw_str
	var key C.uintptr_t
	var e C.gotw_error
	status := C.gotw_authority_create_session(p, up, un, lp, ln, rp, rn, &token, &key, &e)
	return minted(status, token, key, &e)
}

// CreateSessionKey mints a "new session key" for user, Coder's POST /users/{user}/keys: login
// type password, lasting the settings' default_token_lifetime, scopes [coder:all], no name;
// and stores it. It returns the token text and the stored key, which the caller closes.
func (a *Authority) CreateSessionKey(user User, remoteAddr string) (string, *Key, error) {
	userJSON, err := user.json()
	if err != nil {
		return "", nil, err
	}
	p, err := a.rlock()
	if err != nil {
		return "", nil, err
	}
	defer a.mu.RUnlock()
	up, un := cbytes(userJSON)
	rp, rn := cstr(remoteAddr)
	var token C.tw_str
	var key C.uintptr_t
	var e C.gotw_error
	status := C.gotw_authority_create_session_key(p, up, un, rp, rn, &token, &key, &e)
	return minted(status, token, key, &e)
}

// Authenticate checks a presented token against the store in Coder's order (missing,
// malformed, unknown key, invalid secret, expired) and writes the refresh it decides. It
// returns the key as stored after the refresh (the caller closes it) and the refresh written
// (nil when none). A rejection or a store failure is an *Error carrying Coder's HTTP answer
// (with the authority's access URL in WWW-Authenticate). One call into C.
func (a *Authority) Authenticate(presented, remoteAddr string) (*Key, *Update, error) {
	p, err := a.rlock()
	if err != nil {
		return nil, nil, err
	}
	defer a.mu.RUnlock()
	pp, pn := cstr(presented)
	rp, rn := cstr(remoteAddr)
	var result C.gotw_result
	C.gotw_authenticate(p, pp, pn, rp, rn, &result)
	update, failed := readResult(&result)
	if failed != nil {
		return nil, nil, failed
	}
	key := result.key
	return &Key{ptr: key}, update, nil
}

// TokenConfig is what user may request for a token (Coder's GET
// /users/{user}/keys/tokens/tokenconfig): the settings' max_admin_token_lifetime for an owner,
// max_token_lifetime otherwise.
func (a *Authority) TokenConfig(user User) (TokenConfig, error) {
	userJSON, err := user.json()
	if err != nil {
		return TokenConfig{}, err
	}
	p, err := a.rlock()
	if err != nil {
		return TokenConfig{}, err
	}
	defer a.mu.RUnlock()
	up, un := cbytes(userJSON)
	var max C.int64_t
	var e C.gotw_error
	if C.gotw_authority_token_config(p, up, un, &max, &e) != C.TW_OK {
		return TokenConfig{}, failure(&e)
	}
	return TokenConfig{MaxTokenLifetime: time.Duration(max)}, nil
}

// ListTokens lists the named tokens (login type token) actor may see, oldest first, as
// codersdk's APIKey (Coder's GET /users/{user}/keys/tokens). The zero ListOptions lists the
// actor's own unexpired tokens.
func (a *Authority) ListTokens(actor User, opts ListOptions) ([]APIKey, error) {
	actorJSON, err := actor.json()
	if err != nil {
		return nil, err
	}
	optsJSON, err := opts.json()
	if err != nil {
		return nil, err
	}
	p, err := a.rlock()
	if err != nil {
		return nil, err
	}
	var out C.tw_str
	var e C.gotw_error
	ap, an := cbytes(actorJSON)
	op, on := cbytes(optsJSON)
	status := C.gotw_authority_list_tokens(p, ap, an, op, on, &out, &e)
	a.mu.RUnlock()
	if status != C.TW_OK {
		return nil, failure(&e)
	}
	var keys []APIKey
	if err := json.Unmarshal(gobytes(out), &keys); err != nil {
		return nil, err
	}
	for i := range keys {
		keys[i] = keys[i].utc()
	}
	return keys, nil
}

// GetKey reads the key id (10 bytes). The actor must own it or be an owner: another user's
// key is ErrNotFound, as is a missing one; an id that is not one is ErrInvalidToken. The
// caller closes the key.
func (a *Authority) GetKey(actor User, id string) (*Key, error) {
	actorJSON, err := actor.json()
	if err != nil {
		return nil, err
	}
	p, err := a.rlock()
	if err != nil {
		return nil, err
	}
	defer a.mu.RUnlock()
	ap, an := cbytes(actorJSON)
	ip, in := cstr(id)
	var key C.uintptr_t
	var e C.gotw_error
	if C.gotw_authority_get_key(p, ap, an, ip, in, &key, &e) != C.TW_OK {
		return nil, failure(&e)
	}
	return &Key{ptr: key}, nil
}

// FindToken resolves what an operator typed, as Coder's `tokens rm` does: a token name of
// userID first, then the text before the first '-' as a key id (so a whole token works too).
// The actor must own the key or be an owner. ErrNotFound when nothing matches (never echoing
// a secret). The caller closes the key.
func (a *Authority) FindToken(actor User, userID, nameOrID string) (*Key, error) {
	actorJSON, err := actor.json()
	if err != nil {
		return nil, err
	}
	p, err := a.rlock()
	if err != nil {
		return nil, err
	}
	defer a.mu.RUnlock()
	ap, an := cbytes(actorJSON)
	up, un := cstr(userID)
	np, nn := cstr(nameOrID)
	var key C.uintptr_t
	var e C.gotw_error
	if C.gotw_authority_find_token(p, ap, an, up, un, np, nn, &key, &e) != C.TW_OK {
		return nil, failure(&e)
	}
	return &Key{ptr: key}, nil
}

// byID runs Expire or Delete.
func (a *Authority) byID(actor User, id string, del bool) error {
	actorJSON, err := actor.json()
	if err != nil {
		return err
	}
	p, err := a.rlock()
	if err != nil {
		return err
	}
	defer a.mu.RUnlock()
	ap, an := cbytes(actorJSON)
	ip, in := cstr(id)
	var e C.gotw_error
	var status C.tw_status
	if del {
		status = C.gotw_authority_delete(p, ap, an, ip, in, &e)
	} else {
		status = C.gotw_authority_expire(p, ap, an, ip, in, &e)
	}
	if status != C.TW_OK {
		return failure(&e)
	}
	return nil
}

// Expire ends the key id now, keeping its row for audit: its token then authenticates as
// ErrExpired. Expiring an expired key changes nothing. The actor must own the key or be an
// owner (else ErrNotFound, as for a missing key); an id that is not one is ErrInvalidToken.
func (a *Authority) Expire(actor User, id string) error { return a.byID(actor, id, false) }

// Delete deletes the key id: its token then authenticates as ErrUnknownKey. Access and errors
// as Expire.
func (a *Authority) Delete(actor User, id string) error { return a.byID(actor, id, true) }

// DeleteUserKeys deletes every key of the user userID, as Coder does when a user is deleted,
// and returns how many. No access check: call it when the host deletes the user.
func (a *Authority) DeleteUserKeys(userID string) (int, error) {
	p, err := a.rlock()
	if err != nil {
		return 0, err
	}
	defer a.mu.RUnlock()
	up, un := cstr(userID)
	var count C.uint64_t
	var e C.gotw_error
	if C.gotw_authority_delete_user_keys(p, up, un, &count, &e) != C.TW_OK {
		return 0, failure(&e)
	}
	return int(count), nil
}

// Purge deletes the keys that expired longer than the settings' api_keys_retention ago (a
// retention of zero disables it) and returns how many.
func (a *Authority) Purge() (int, error) {
	p, err := a.rlock()
	if err != nil {
		return 0, err
	}
	defer a.mu.RUnlock()
	var count C.uint64_t
	var e C.gotw_error
	if C.gotw_authority_purge(p, &count, &e) != C.TW_OK {
		return 0, failure(&e)
	}
	return int(count), nil
}
