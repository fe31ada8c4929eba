package tokenward

// #include "gotw.h"
import "C"

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a failure reported by the library: a rejected token, or a call that failed
// (invalid input, access, the key store, ...). It never holds a token's secret.
//
// Code is the library's stable status number (include/tokenward.h) and Name its snake_case
// name ("expired", "invalid_argument", ...). Status, Message, Detail, WWWAuthenticate and Body
// are Coder's HTTP answer to the failure, exactly: its status (401 for a rejected token, 400,
// 403, 404, 409, 500), the message and detail of its JSON body, the WWW-Authenticate value
// (only a rejected token has one) and the body itself. For a failure of the C ABI itself
// (bytes that are not UTF-8, ...) Coder has no words: Message is empty and Detail says what
// went wrong.
//
// errors.Is(err, ErrExpired) matches on Code; errors.As(err, &e) with e an *Error gives the
// fields; WriteHTTP writes the answer.
type Error struct {
	// Code is the status number: 1000-1999 a presented token that does not authenticate,
	// 2000 invalid input, 3000 a limit, 4000 access and conflicts, 5000 the key store, 6000
	// internal; -1 for ErrClosed.
	Code int
	// Name is the status's snake_case name (tw_status_name).
	Name string
	// Status is the HTTP status Coder answers with.
	Status int
	// Message is Coder's message ("You are signed out or your session has expired. ...").
	Message string
	// Detail is Coder's detail, or what went wrong.
	Detail string
	// WWWAuthenticate is the WWW-Authenticate value Coder sends, empty when it sends none.
	WWWAuthenticate string
	// Body is Coder's JSON body ({"message":...,"detail":...} and a newline), sent with
	// Content-Type: application/json; charset=utf-8. Empty for the sentinels and ErrClosed.
	Body string
}

// Error returns "tokenward: <name>: <detail>" (the message when there is no detail).
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

// jsonContentType is the Content-Type of Coder's answers (include/tokenward.h,
// tw_last_error_answer and tw_verdict_body).
const jsonContentType = "application/json; charset=utf-8"

// WriteHTTP writes Coder's answer to the failure: its status, Content-Type, WWW-Authenticate
// (when there is one) and JSON body, byte for byte as Coder sends them. An Error without a
// body (ErrClosed, a sentinel) is written as a plain-text answer with its status.
func (e *Error) WriteHTTP(w http.ResponseWriter) {
	if e.Body == "" {
		status := e.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	if e.WWWAuthenticate != "" {
		h.Set("WWW-Authenticate", e.WWWAuthenticate)
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write([]byte(e.Body))
}

// WriteError writes the answer to err: Coder's answer (WriteHTTP) when err is an *Error,
// else a plain 500. For a handler that calls this package and returns what failed.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if errors.As(err, &e) {
		e.WriteHTTP(w)
		return
	}
	http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// failure converts a failed call's gotw_error into an *Error, releasing its strings.
func failure(e *C.gotw_error) *Error {
	code := int(e.status)
	status := int(e.http)
	if status == 0 {
		status = httpStatus(code)
	}
	return &Error{
		Code:            code,
		Name:            statusName(e.status),
		Status:          status,
		Message:         gostr(e.message),
		Detail:          gostr(e.detail),
		WWWAuthenticate: gostr(e.www),
		Body:            gostr(e.body),
	}
}

func sentinel(code int, name string) *Error {
	return &Error{Code: code, Name: name, Status: httpStatus(code)}
}

// The library's statuses, one sentinel each, for errors.Is. Numbers and names are those of
// include/tokenward.h and tw_status_name (checked by the tests against the library and
// tests/vectors/codes.json).
var (
	// ErrMissing: no token in the request (401).
	ErrMissing = sentinel(1000, "missing")
	// ErrMalformed: not `<10 bytes>-<22 bytes>`, as Coder splits it (401).
	ErrMalformed = sentinel(1001, "malformed")
	// ErrUnknownKey: no key has this id (401).
	ErrUnknownKey = sentinel(1002, "unknown_key")
	// ErrInvalidSecret: the secret does not match the stored hash (401).
	ErrInvalidSecret = sentinel(1003, "invalid_secret")
	// ErrExpired: the key expired (401).
	ErrExpired = sentinel(1004, "expired")
	// ErrUserDeleted: the key's owner was deleted (401; a store that knows users).
	ErrUserDeleted = sentinel(1005, "user_deleted")
	// ErrNoUserLink: a github or oidc key whose owner has no link to that provider (401).
	ErrNoUserLink = sentinel(1006, "no_user_link")
	// ErrUserInactive: the key's owner is not active (401).
	ErrUserInactive = sentinel(1007, "user_inactive")

	// ErrInvalidArgument: an argument that makes no sense (400).
	ErrInvalidArgument = sentinel(2000, "invalid_argument")
	// ErrInvalidToken: a text given as a token or key id that is not one (400).
	ErrInvalidToken = sentinel(2001, "invalid_token")
	// ErrInvalidDuration: a text that is not a Go duration (400).
	ErrInvalidDuration = sentinel(2002, "invalid_duration")
	// ErrInvalidSettings: settings that do not parse or are not acceptable (400).
	ErrInvalidSettings = sentinel(2003, "invalid_settings")
	// ErrInvalidTimestamp: a time out of range (400).
	ErrInvalidTimestamp = sentinel(2004, "invalid_timestamp")
	// ErrInvalidScope: a scope that is not accepted (400).
	ErrInvalidScope = sentinel(2005, "invalid_scope")
	// ErrInvalidAllowList: an allow-list entry that is not `<type>:<uuid>` (400).
	ErrInvalidAllowList = sentinel(2006, "invalid_allow_list")
	// ErrInvalidLoginType: a login type Coder does not have (400).
	ErrInvalidLoginType = sentinel(2007, "invalid_login_type")
	// ErrInvalidKey: a key record that cannot be stored or decoded (400).
	ErrInvalidKey = sentinel(2008, "invalid_key")
	// ErrInvalidLifetime: a token lifetime of zero or less (400).
	ErrInvalidLifetime = sentinel(2009, "invalid_lifetime")
	// ErrNullArgument: a required pointer was NULL (C ABI; not raised by this package).
	ErrNullArgument = sentinel(2100, "null_argument")
	// ErrInvalidUTF8: a string was not UTF-8 (C ABI).
	ErrInvalidUTF8 = sentinel(2101, "invalid_utf8")
	// ErrBufferTooSmall: a caller's buffer was too small (C ABI; not raised by this package).
	ErrBufferTooSmall = sentinel(2102, "buffer_too_small")

	// ErrLifetimeTooLong: a token lifetime above the target user's maximum (400).
	ErrLifetimeTooLong = sentinel(3000, "lifetime_too_long")

	// ErrForbidden: the actor may not do this (403).
	ErrForbidden = sentinel(4000, "forbidden")
	// ErrNotFound: no such key, or one the actor may not see (404).
	ErrNotFound = sentinel(4001, "not_found")
	// ErrConflict: the user already has a token of this name (409).
	ErrConflict = sentinel(4002, "conflict")

	// ErrStoreBusy: the store stayed locked by others past the busy timeout (500).
	ErrStoreBusy = sentinel(5000, "store_busy")
	// ErrStoreCorrupt: the store's data is damaged (500).
	ErrStoreCorrupt = sentinel(5001, "store_corrupt")
	// ErrStoreReadOnly: the store cannot be written (500).
	ErrStoreReadOnly = sentinel(5002, "store_read_only")
	// ErrStoreIO: the store could not be read or written (500).
	ErrStoreIO = sentinel(5003, "store_io")
	// ErrStoreFull: the disk is full (500).
	ErrStoreFull = sentinel(5004, "store_full")
	// ErrStoreConstraint: the store refused a write that breaks one of its rules (500).
	ErrStoreConstraint = sentinel(5005, "store_constraint")
	// ErrStoreIncompatible: not a tokenward store, or one written by a newer version (500).
	ErrStoreIncompatible = sentinel(5006, "store_incompatible")

	// ErrRandom: the operating system's random source failed (500).
	ErrRandom = sentinel(6000, "random")
	// ErrPanic: a panic was caught inside the library (500).
	ErrPanic = sentinel(6001, "panic")
	// ErrOAuthUnavailable: a github or oidc key whose owner's OAuth token expired, which
	// Coder would refresh with the provider; tokenward cannot (500).
	ErrOAuthUnavailable = sentinel(6002, "oauth_unavailable")

	// ErrClosed is returned by a handle used after Close (Go side only; no C status).
	ErrClosed = &Error{Code: -1, Name: "closed", Status: 500, Detail: "handle used after Close"}
)

// sentinels lists every status sentinel (not ErrClosed).
var sentinels = []*Error{
	ErrMissing, ErrMalformed, ErrUnknownKey, ErrInvalidSecret, ErrExpired,
	ErrUserDeleted, ErrNoUserLink, ErrUserInactive,
	ErrInvalidArgument, ErrInvalidToken, ErrInvalidDuration, ErrInvalidSettings,
	ErrInvalidTimestamp, ErrInvalidScope, ErrInvalidAllowList, ErrInvalidLoginType,
	ErrInvalidKey, ErrInvalidLifetime, ErrNullArgument, ErrInvalidUTF8, ErrBufferTooSmall,
	ErrLifetimeTooLong, ErrForbidden, ErrNotFound, ErrConflict,
	ErrStoreBusy, ErrStoreCorrupt, ErrStoreReadOnly, ErrStoreIO, ErrStoreFull,
	ErrStoreConstraint, ErrStoreIncompatible, ErrRandom, ErrPanic, ErrOAuthUnavailable,
}

// httpStatus is the HTTP status Coder answers a status with, from the core.
func httpStatus(code int) int {
	return int(C.tw_status_http(C.uint32_t(code)))
}

// statusNameInt is tw_status_name for a Go int.
func statusNameInt(code int) string { return statusName(C.tw_status(code)) }
