package tokenward

/*
#include <tokenward.h>
*/
import "C"

import (
	"encoding/json"
	"sync"
	"time"
)

// User is a user as the authority sees it: an id and its roles ("owner" may act for others).
type User struct {
	ID    string   `json:"id"`
	Roles []string `json:"roles"`
}

func (u User) json() []byte {
	if u.Roles == nil {
		u.Roles = []string{}
	}
	b, _ := json.Marshal(u) // strings only: cannot fail
	return b
}

// TokenRequest is codersdk's CreateTokenRequest. Zero fields take the defaults.
type TokenRequest struct {
	// Lifetime of the token; 0 for the settings' default_token_lifetime.
	Lifetime  time.Duration `json:"lifetime,omitempty"`
	Scope     string        `json:"scope,omitempty"`
	Scopes    []string      `json:"scopes,omitempty"`
	TokenName string        `json:"token_name,omitempty"`
}

// Authority keeps keys in a store (":memory:" or a SQLite file) and mints, authenticates,
// expires and deletes them. Safe for concurrent use; release it with Close.
type Authority struct {
	mu  sync.RWMutex
	ptr *C.tw_authority
}

// Open opens an authority over the store url names: ":memory:" (a new in-memory store, gone
// with the authority), "sqlite:<path>", "sqlite://<path>" or a plain file path. settings nil
// means Coder's defaults; they are copied, so they may be closed after Open returns.
func Open(url string, settings *Settings) (*Authority, error) {
	sp, sunlock, err := settings.lock()
	if err != nil {
		return nil, err
	}
	defer sunlock()
	var out *C.tw_authority
	up, un := cstr(url)
	if err := call(func() C.tw_status { return C.tw_authority_open(up, un, sp, &out) }); err != nil {
		return nil, err
	}
	return &Authority{ptr: out}, nil
}

// Close releases the authority and closes its store. It waits for calls in progress; later
// calls do nothing, and other methods then return ErrClosed.
func (a *Authority) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	C.tw_authority_free(a.ptr)
	a.ptr = nil
}

// with runs f with the authority's handle, read-locked against Close.
func (a *Authority) with(f func(*C.tw_authority) error) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.ptr == nil {
		return ErrClosed
	}
	return f(a.ptr)
}

// CreateToken mints a named API token for target and stores it (Coder's POST
// /users/{user}/keys/tokens). The actor must be the target or an owner. It returns the token
// text (show it once, never log it) and the stored key, which the caller closes.
func (a *Authority) CreateToken(actor, target User, req TokenRequest, remoteAddr string) (string, *Key, error) {
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return "", nil, err
	}
	actorJSON, targetJSON := actor.json(), target.json()
	var token C.tw_str
	var key *C.tw_key
	err = a.with(func(p *C.tw_authority) error {
		ap, an := cbytes(actorJSON)
		tp, tn := cbytes(targetJSON)
		qp, qn := cbytes(reqJSON)
		rp, rn := cstr(remoteAddr)
		return call(func() C.tw_status {
			return C.tw_authority_create_token(p, ap, an, tp, tn, qp, qn, rp, rn, &token, &key)
		})
	})
	if err != nil {
		return "", nil, err
	}
	return gostr(token), &Key{ptr: key}, nil
}

// authenticate runs tw_authority_authenticate and reads its verdict; the key is returned only
// when verified.
func (a *Authority) authenticate(presented, remoteAddr string) (*Key, verdict, error) {
	var got verdict
	var key *Key
	err := a.with(func(p *C.tw_authority) error {
		got, key = authenticateWith(p, presented, remoteAddr)
		return nil
	})
	return key, got, err
}

// Authenticate checks a presented token against the store in Coder's order and writes the
// refresh it decides. It returns the key as stored after the refresh (the caller closes it)
// and the refresh written (nil when none). A rejection or a store failure is an *Error
// carrying Coder's HTTP answer.
func (a *Authority) Authenticate(presented, remoteAddr string) (*Key, *Update, error) {
	key, got, err := a.authenticate(presented, remoteAddr)
	if err != nil {
		return nil, nil, err
	}
	if got.err != nil {
		return nil, nil, got.err
	}
	return key, got.update, nil
}

func (a *Authority) byID(actor User, id string, f func(*C.tw_authority, *C.char, C.size_t, *C.char, C.size_t) C.tw_status) error {
	actorJSON := actor.json()
	return a.with(func(p *C.tw_authority) error {
		ap, an := cbytes(actorJSON)
		ip, in := cstr(id)
		return call(func() C.tw_status { return f(p, ap, an, ip, in) })
	})
}

// Expire ends the key id now, keeping its row: its token then authenticates as ErrExpired.
// The actor must own the key or be an owner (else ErrNotFound, as for a missing key).
func (a *Authority) Expire(actor User, id string) error {
	return a.byID(actor, id, func(p *C.tw_authority, ap *C.char, an C.size_t, ip *C.char, in C.size_t) C.tw_status {
		return C.tw_authority_expire(p, ap, an, ip, in)
	})
}

// Delete deletes the key id: its token then authenticates as ErrUnknownKey. Access as Expire.
func (a *Authority) Delete(actor User, id string) error {
	return a.byID(actor, id, func(p *C.tw_authority, ap *C.char, an C.size_t, ip *C.char, in C.size_t) C.tw_status {
		return C.tw_authority_delete(p, ap, an, ip, in)
	})
}
