package tokenward

// #include <stdint.h>
// #include "tokenward.h"
import "C"

import "fmt"

// Error is a failure reported by the library: a rejected token (with Coder's HTTP answer), or
// a call that failed (invalid input, access, the key store, ...).
//
// Code is the library's stable status number (include/tokenward.h), Name its snake_case name
// ("expired", "invalid_argument", ...), Status the HTTP status Coder answers with. For a
// rejected token Message, Detail and WWWAuthenticate are Coder's exactly; for other failures
// Message is empty and Detail says what went wrong.
//
// errors.Is(err, ErrExpired) matches on Code; errors.As(err, &e) with e an *Error gives the
// fields.
type Error struct {
	Code            int
	Name            string
	Status          int
	Message         string
	Detail          string
	WWWAuthenticate string
}

// Error returns the name and the detail (or the message when there is no detail).
func (e *Error) Error() string {
	text := e.Detail
	if text == "" {
		text = e.Message
	}
	if text == "" {
		return "tokenward: " + e.Name
	}
	return fmt.Sprintf("tokenward: %s: %s", e.Name, text)
}

// Is reports whether target is an *Error with the same Code, so errors.Is works against the
// sentinels (ErrExpired, ...).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Code == e.Code
}

func sentinel(code int, name string) *Error {
	return &Error{Code: code, Name: name, Status: httpStatus(code)}
}

// The library's statuses, one sentinel each, for errors.Is. Numbers and names are those of
// include/tokenward.h and tw_status_name (checked by the tests).
var (
	// A presented token does not authenticate (401).
	ErrMissing       = sentinel(1000, "missing")
	ErrMalformed     = sentinel(1001, "malformed")
	ErrUnknownKey    = sentinel(1002, "unknown_key")
	ErrInvalidSecret = sentinel(1003, "invalid_secret")
	ErrExpired       = sentinel(1004, "expired")

	// Invalid input (400).
	ErrInvalidArgument  = sentinel(2000, "invalid_argument")
	ErrInvalidToken     = sentinel(2001, "invalid_token")
	ErrInvalidDuration  = sentinel(2002, "invalid_duration")
	ErrInvalidSettings  = sentinel(2003, "invalid_settings")
	ErrInvalidTimestamp = sentinel(2004, "invalid_timestamp")
	ErrInvalidScope     = sentinel(2005, "invalid_scope")
	ErrInvalidAllowList = sentinel(2006, "invalid_allow_list")
	ErrInvalidLoginType = sentinel(2007, "invalid_login_type")
	ErrInvalidKey       = sentinel(2008, "invalid_key")
	ErrInvalidLifetime  = sentinel(2009, "invalid_lifetime")
	ErrNullArgument     = sentinel(2100, "null_argument")
	ErrInvalidUTF8      = sentinel(2101, "invalid_utf8")
	ErrBufferTooSmall   = sentinel(2102, "buffer_too_small")

	// A limit exceeded (400).
	ErrLifetimeTooLong = sentinel(3000, "lifetime_too_long")

	// Access and conflicts (403, 404, 409).
	ErrForbidden = sentinel(4000, "forbidden")
	ErrNotFound  = sentinel(4001, "not_found")
	ErrConflict  = sentinel(4002, "conflict")

	// The key store failed (500).
	ErrStoreBusy         = sentinel(5000, "store_busy")
	ErrStoreCorrupt      = sentinel(5001, "store_corrupt")
	ErrStoreReadOnly     = sentinel(5002, "store_read_only")
	ErrStoreIO           = sentinel(5003, "store_io")
	ErrStoreFull         = sentinel(5004, "store_full")
	ErrStoreConstraint   = sentinel(5005, "store_constraint")
	ErrStoreIncompatible = sentinel(5006, "store_incompatible")

	// Internal failures (500).
	ErrRandom = sentinel(6000, "random")
	ErrPanic  = sentinel(6001, "panic")

	// ErrClosed is returned by a handle used after Close (Go side only; no C status).
	ErrClosed = &Error{Code: -1, Name: "closed", Status: 500, Detail: "handle used after Close"}
)

// sentinels lists every status sentinel (not ErrClosed).
var sentinels = []*Error{
	ErrMissing, ErrMalformed, ErrUnknownKey, ErrInvalidSecret, ErrExpired,
	ErrInvalidArgument, ErrInvalidToken, ErrInvalidDuration, ErrInvalidSettings,
	ErrInvalidTimestamp, ErrInvalidScope, ErrInvalidAllowList, ErrInvalidLoginType,
	ErrInvalidKey, ErrInvalidLifetime, ErrNullArgument, ErrInvalidUTF8, ErrBufferTooSmall,
	ErrLifetimeTooLong, ErrForbidden, ErrNotFound, ErrConflict,
	ErrStoreBusy, ErrStoreCorrupt, ErrStoreReadOnly, ErrStoreIO, ErrStoreFull,
	ErrStoreConstraint, ErrStoreIncompatible, ErrRandom, ErrPanic,
}

// httpStatus is the HTTP status Coder answers a status with, from the core.
func httpStatus(code int) int {
	return int(C.tw_status_http(C.uint32_t(code)))
}
