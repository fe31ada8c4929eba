// Package tokenward binds the tokenward C ABI (include/tokenward.h): Coder-compatible API keys
// and session tokens.
//
// Every rule (parsing, hashing, the checks and their order, the refresh, lifetimes, scopes,
// Coder's error answers) runs in the library; this package only converts Go values to the C
// ABI's and its statuses to errors.
//
// It links the static library libtokenward.a through cgo. Build that first (cargo build --lib
// in the repository root) and point the linker at a directory that holds it, and not
// libtokenward.so:
//
//	CGO_LDFLAGS=-L<dir holding only libtokenward.a> go build ./...
//
// Handles (Key, Settings, Authority) hold memory owned by the library. They have no
// finalizers: release each with Close, which may be called more than once. Every handle is
// safe for concurrent use, Close included; a handle used after Close returns ErrClosed.
//
// Failures are *Error values: errors.Is matches them against the sentinels (ErrExpired,
// ErrForbidden, ...) and errors.As gives the code, Coder's HTTP status, message, detail,
// WWW-Authenticate and JSON body. No error carries a token's secret.
package tokenward

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -ltokenward -lm -ldl -lpthread
#cgo noescape gotw_verify_record
#cgo nocallback gotw_verify_record
#cgo noescape gotw_authenticate
#cgo nocallback gotw_authenticate
#cgo noescape gotw_middleware
#cgo nocallback gotw_middleware
#cgo noescape gotw_take
#cgo nocallback gotw_take
#cgo noescape gotw_extract
#cgo nocallback gotw_extract
#cgo noescape gotw_parse
#cgo nocallback gotw_parse
#cgo noescape gotw_parse_strict
#cgo nocallback gotw_parse_strict
#cgo noescape gotw_hash_secret
#cgo nocallback gotw_hash_secret
#cgo noescape gotw_duration_parse
#cgo nocallback gotw_duration_parse
#cgo noescape gotw_duration_format
#cgo nocallback gotw_duration_format
#include "gotw.h"
*/
import "C"

import (
	"math"
	"time"
	"unsafe"
)

// emptyByte backs the pointer passed for an empty string: the C ABI refuses NULL even with
// length 0, and unsafe.StringData("") may be nil.
var emptyByte byte

// cstr passes a Go string to C without copying: a pointer to its bytes and its length. The
// bytes hold no Go pointers, so cgo's rules allow it for the duration of the call.
func cstr(s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return (*C.char)(unsafe.Pointer(&emptyByte)), 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// cbytes is cstr for a byte slice.
func cbytes(b []byte) (*C.char, C.size_t) {
	if len(b) == 0 {
		return (*C.char)(unsafe.Pointer(&emptyByte)), 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b))
}

// coptional is cstr, with NULL for "" (a column default in tw_key_new).
func coptional(s string) (*C.char, C.size_t) {
	if s == "" {
		return nil, 0
	}
	return cstr(s)
}

// gostr copies a library-owned string into Go and releases it (the library wipes it).
func gostr(s C.tw_str) string {
	if s.ptr == nil {
		return ""
	}
	out := C.GoStringN(s.ptr, C.int(s.len))
	C.tw_str_free(s)
	return out
}

// gobytes is gostr for a []byte.
func gobytes(s C.tw_str) []byte {
	if s.ptr == nil {
		return nil
	}
	out := C.GoBytes(unsafe.Pointer(s.ptr), C.int(s.len))
	C.tw_str_free(s)
	return out
}

// statusName is tw_status_name.
func statusName(code C.tw_status) string {
	return C.GoString(C.tw_status_name(C.uint32_t(code)))
}

// Seconds beyond which a time's microseconds do not fit in an int64.
const (
	maxMicrosSeconds = math.MaxInt64/1_000_000 - 1
	minMicrosSeconds = math.MinInt64/1_000_000 + 1
)

// toMicros is t in microseconds since the Unix epoch. A time beyond what an int64 holds (about
// 292,000 years from 1970) becomes the extreme int64, which the library refuses as out of
// range, rather than wrapping around.
func toMicros(t time.Time) C.int64_t {
	switch s := t.Unix(); {
	case s > maxMicrosSeconds:
		return math.MaxInt64
	case s < minMicrosSeconds:
		return math.MinInt64
	}
	return C.int64_t(t.UnixMicro())
}

func fromMicros(m C.int64_t) time.Time { return time.UnixMicro(int64(m)).UTC() }

// Parse splits a token as Coder's SplitAPIToken does (`<10-byte id>-<22-byte secret>`, no
// alphabet check). On failure the error is ErrInvalidToken with Coder's words as its Detail.
func Parse(token string) (id, secret string, err error) {
	var cid, csecret C.tw_str
	var e C.gotw_error
	p, n := cstr(token)
	if C.gotw_parse(p, n, &cid, &csecret, &e) != C.TW_OK {
		return "", "", failure(&e)
	}
	return gostr(cid), gostr(csecret), nil
}

// ParseStrict is Parse that also refuses a token whose characters are not all of the alphabet
// tokens are generated from (0-9A-Za-z): for checking a token before storing or showing it.
// Authentication takes what Parse takes, as Coder does.
func ParseStrict(token string) (id, secret string, err error) {
	var cid, csecret C.tw_str
	var e C.gotw_error
	p, n := cstr(token)
	if C.gotw_parse_strict(p, n, &cid, &csecret, &e) != C.TW_OK {
		return "", "", failure(&e)
	}
	return gostr(cid), gostr(csecret), nil
}

// HashSecret is SHA-256 of the secret's bytes: the hashed_secret Coder stores. A secret that
// is not UTF-8 is ErrInvalidUTF8 (no token holds one).
func HashSecret(secret string) ([32]byte, error) {
	var out [32]byte
	var e C.gotw_error
	p, n := cstr(secret)
	if C.gotw_hash_secret(p, n, (*C.uint8_t)(unsafe.Pointer(&out[0])), C.size_t(len(out)), &e) != C.TW_OK {
		return [32]byte{}, failure(&e)
	}
	return out, nil
}

// Generate mints a new random token, `<id>-<secret>`, from the operating system's random
// source. Show it to its owner once; store only HashSecret of the secret.
func Generate() (string, error) {
	var out C.tw_str
	var e C.gotw_error
	if C.gotw_generate(&out, &e) != C.TW_OK {
		return "", failure(&e)
	}
	return gostr(out), nil
}

// ParseDuration parses a Go duration ("90m", "1h30m") as Coder reads its settings: Go's
// time.ParseDuration plus the units d (24h) and y (8760h). A text that is not one is
// ErrInvalidDuration, with Go's message as its Detail.
func ParseDuration(text string) (time.Duration, error) {
	var nanos C.int64_t
	var e C.gotw_error
	p, n := cstr(text)
	if C.gotw_duration_parse(p, n, &nanos, &e) != C.TW_OK {
		return 0, failure(&e)
	}
	return time.Duration(nanos), nil
}

// FormatDuration formats d as Go's Duration.String does ("1h30m0s", "1.5µs", "0s"), as
// Coder's messages print durations.
func FormatDuration(d time.Duration) string {
	var out C.tw_str
	var e C.gotw_error
	if C.gotw_duration_format(C.int64_t(d), &out, &e) != C.TW_OK {
		// Cannot fail for an int64 and a writable out-parameter; the library's own words.
		return failure(&e).Error()
	}
	return gostr(out)
}

// Update is the refresh a verified key needs written back (Coder's UpdateAPIKeyByID).
type Update struct {
	// LastUsed is the new last_used.
	LastUsed time.Time
	// ExpiresAt is the new expires_at.
	ExpiresAt time.Time
	// PreviousExpiresAt is the expires_at the decision was made on: write ExpiresAt only
	// while the row still has this value, so a concurrent expire stands.
	PreviousExpiresAt time.Time
	// IPAddress is the canonical bare IP, "0.0.0.0" when the remote address was not one.
	IPAddress string
}

// readResult turns what a verifying helper answered into the refresh or the failure (taking
// its strings with a second call into C only when there are any). A verified token with
// nothing to write allocates nothing here.
func readResult(r *C.gotw_result) (*Update, *Error) {
	if r.rest == 0 {
		if r.status != C.TW_OK { // cannot happen: a failure always has its strings
			return nil, &Error{Code: int(r.status), Name: statusName(r.status), Status: httpStatus(int(r.status))}
		}
		return nil, nil
	}
	var rest C.gotw_rest
	C.gotw_take(r.rest, &rest)
	if r.status != C.TW_OK {
		return nil, failure(&rest.err)
	}
	ip := gostr(rest.ip)
	if !bool(r.present) {
		return nil, nil
	}
	return &Update{
		LastUsed:          fromMicros(r.last_used_micros),
		ExpiresAt:         fromMicros(r.expires_at_micros),
		PreviousExpiresAt: fromMicros(r.previous_expires_at_micros),
		IPAddress:         ip,
	}, nil
}

// VerifyRecord checks a presented token against the record the host fetched for its id (nil
// when there is none), in Coder's order: missing, malformed, unknown key, invalid secret,
// expired; then decides the refresh. settings nil means Coder's defaults; remoteAddr is the
// request's remote address, recorded when last_used moves.
//
// A verified token returns the refresh to write back, or nil when there is nothing to write.
// A rejection is an *Error (ErrMissing, ErrMalformed, ErrUnknownKey, ErrInvalidSecret,
// ErrExpired) carrying Coder's 401 answer: status, message, detail, WWW-Authenticate, body.
//
// One call into C (with a verdict of the calling thread's own), no allocation when there is
// nothing to write; safe for concurrent use.
func VerifyRecord(presented string, key *Key, now time.Time, settings *Settings, remoteAddr string) (*Update, error) {
	var kp, sp C.uintptr_t
	if key != nil {
		key.mu.RLock()
		if kp = key.ptr; kp == 0 {
			key.mu.RUnlock()
			return nil, ErrClosed
		}
	}
	if settings != nil {
		settings.mu.RLock()
		if sp = settings.ptr; sp == 0 {
			settings.mu.RUnlock()
			if key != nil {
				key.mu.RUnlock()
			}
			return nil, ErrClosed
		}
	}
	pp, pn := cstr(presented)
	rp, rn := cstr(remoteAddr)
	var result C.gotw_result
	C.gotw_verify_record(pp, pn, kp, sp, toMicros(now), rp, rn, &result)
	if settings != nil {
		settings.mu.RUnlock()
	}
	if key != nil {
		key.mu.RUnlock()
	}
	if result.rest == 0 && result.status == C.TW_OK {
		return nil, nil // verified, nothing to write: the hot path
	}
	update, err := readResult(&result)
	if err != nil {
		return nil, err
	}
	return update, nil
}

// verdictCounts is how many threads' verdicts gotw.c made and freed so far (for the tests).
func verdictCounts() (made, freed uint64) {
	var m, f C.uint64_t
	C.gotw_verdict_counts(&m, &f)
	return uint64(m), uint64(f)
}

// threadVerdictHasKey is whether the calling thread's verdict holds a key (for the tests, on a
// goroutine locked to its thread).
func threadVerdictHasKey() bool { return bool(C.gotw_thread_verdict_has_key()) }
