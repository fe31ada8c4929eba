// Package tokenward binds the tokenward C ABI (include/tokenward.h): Coder-compatible API keys
// and session tokens.
//
// It links the static library libtokenward.a through cgo. Build that first (cargo build --lib
// in the repository root) and point the linker at a directory that holds it, and not
// libtokenward.so:
//
//	CGO_LDFLAGS=-L<dir holding only libtokenward.a> go build ./...
//
// Handles (Key, Settings, Authority) hold memory owned by the library. They have no
// finalizers: release each with Close, which may be called more than once. Every handle is
// safe for concurrent use, Close included.
package tokenward

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -ltokenward -lm -ldl -lpthread
#include <tokenward.h>

// What one verifying call answers, gathered in C so that Go crosses into C once per check:
// the status, the refresh (with its IP when there is one) and, for a failed call, the
// thread's error detail, read on the thread that failed.
typedef struct {
	tw_status status;
	tw_update update;
	tw_str ip;
	tw_str detail;
} gotw_answer;

static void gotw_read(tw_status status, const tw_verdict *verdict, gotw_answer *answer) {
	answer->status = status;
	if (status != TW_OK) {
		tw_last_error_detail(&answer->detail);
		return;
	}
	tw_verdict_update(verdict, &answer->update);
	if (answer->update.present) tw_verdict_update_ip(verdict, &answer->ip);
}

static void gotw_verify_record(const char *presented, size_t presented_len, const tw_key *key,
		const tw_settings *settings, int64_t now_micros, const char *remote_addr,
		size_t remote_addr_len, tw_verdict *verdict, gotw_answer *answer) {
	gotw_read(tw_verify_record(presented, presented_len, key, settings, now_micros,
			remote_addr, remote_addr_len, verdict), verdict, answer);
}

static void gotw_authenticate(const tw_authority *authority, const char *presented,
		size_t presented_len, const char *remote_addr, size_t remote_addr_len,
		tw_verdict *verdict, gotw_answer *answer) {
	gotw_read(tw_authority_authenticate(authority, presented, presented_len, remote_addr,
			remote_addr_len, verdict), verdict, answer);
}
*/
import "C"

import (
	"runtime"
	"sync"
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

// gostr copies a library-owned string into Go and releases it.
func gostr(s C.tw_str) string {
	if s.ptr == nil {
		return ""
	}
	out := C.GoStringN(s.ptr, C.int(s.len))
	C.tw_str_free(s)
	return out
}

// statusName is tw_status_name.
func statusName(code C.tw_status) string {
	return C.GoString(C.tw_status_name(C.uint32_t(code)))
}

// call runs f, which makes one C call, on a locked OS thread, and turns a failed status into
// an *Error carrying tw_last_error_detail (which is per thread, so it must be read on the
// thread that failed).
func call(f func() C.tw_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	status := f()
	if status == C.TW_OK {
		return nil
	}
	var detail C.tw_str
	C.tw_last_error_detail(&detail)
	return &Error{
		Code:   int(status),
		Name:   statusName(status),
		Status: httpStatus(int(status)),
		Detail: gostr(detail),
	}
}

func toMicros(t time.Time) C.int64_t { return C.int64_t(t.UnixMicro()) }

func fromMicros(m C.int64_t) time.Time { return time.UnixMicro(int64(m)).UTC() }

// Parse splits a token as Coder's SplitAPIToken does (`<10-byte id>-<22-byte secret>`, no
// alphabet check). On failure the error is ErrInvalidToken with Coder's words as its Detail.
func Parse(token string) (id, secret string, err error) {
	var cid, csecret C.tw_str
	p, n := cstr(token)
	err = call(func() C.tw_status { return C.tw_parse(p, n, &cid, &csecret) })
	if err != nil {
		return "", "", err
	}
	return gostr(cid), gostr(csecret), nil
}

// HashSecret is SHA-256 of the secret's bytes: the hashed_secret Coder stores. A secret that
// is not UTF-8 is ErrInvalidUTF8 (no token holds one).
func HashSecret(secret string) ([32]byte, error) {
	var out [32]byte
	p, n := cstr(secret)
	err := call(func() C.tw_status {
		return C.tw_hash_secret(p, n, (*C.uint8_t)(unsafe.Pointer(&out[0])), C.size_t(len(out)))
	})
	return out, err
}

// Generate mints a new random token, `<id>-<secret>`. Show it to its owner once; store only
// HashSecret of the secret.
func Generate() (string, error) {
	var out C.tw_str
	if err := call(func() C.tw_status { return C.tw_generate(&out) }); err != nil {
		return "", err
	}
	return gostr(out), nil
}

// Settings are Coder's deployment settings. Release them with Close.
type Settings struct {
	mu  sync.RWMutex
	ptr *C.tw_settings
}

// SettingsFromJSON reads settings from a JSON object (session_duration,
// disable_session_expiry_refresh, default_token_lifetime, max_token_lifetime,
// max_admin_token_lifetime, api_keys_retention as Go durations such as "24h", access_url);
// absent fields take Coder's defaults, so `{}` gives the defaults.
func SettingsFromJSON(data []byte) (*Settings, error) {
	var out *C.tw_settings
	p, n := cbytes(data)
	if err := call(func() C.tw_status { return C.tw_settings_from_json(p, n, &out) }); err != nil {
		return nil, err
	}
	return &Settings{ptr: out}, nil
}

// Close releases the settings. Later calls do nothing.
func (s *Settings) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	C.tw_settings_free(s.ptr)
	s.ptr = nil
}

// lock read-locks s and returns its pointer (NULL for nil settings: Coder's defaults).
func (s *Settings) lock() (*C.tw_settings, func(), error) {
	if s == nil {
		return nil, func() {}, nil
	}
	s.mu.RLock()
	if s.ptr == nil {
		s.mu.RUnlock()
		return nil, nil, ErrClosed
	}
	return s.ptr, s.mu.RUnlock, nil
}

// Key is one key record (a row of Coder's api_keys). Release it with Close.
type Key struct {
	mu  sync.RWMutex
	ptr *C.tw_key
}

// KeyFromJSON reads a key record from its storage form (every column, hashed_secret as
// lower-case hex, times as RFC 3339). ErrInvalidKey when it does not decode.
func KeyFromJSON(data []byte) (*Key, error) {
	var out *C.tw_key
	p, n := cbytes(data)
	if err := call(func() C.tw_status { return C.tw_key_from_json(p, n, &out) }); err != nil {
		return nil, err
	}
	return &Key{ptr: out}, nil
}

// Close releases the key. Later calls do nothing.
func (k *Key) Close() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	C.tw_key_free(k.ptr)
	k.ptr = nil
}

func (k *Key) lock() (*C.tw_key, func(), error) {
	if k == nil {
		return nil, func() {}, nil
	}
	k.mu.RLock()
	if k.ptr == nil {
		k.mu.RUnlock()
		return nil, nil, ErrClosed
	}
	return k.ptr, k.mu.RUnlock, nil
}

func (k *Key) text(get func(*C.tw_key, *C.tw_str) C.tw_status) (string, error) {
	if k == nil {
		return "", ErrClosed
	}
	ptr, unlock, err := k.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	var out C.tw_str
	if err := call(func() C.tw_status { return get(ptr, &out) }); err != nil {
		return "", err
	}
	return gostr(out), nil
}

// ID is the key's id (10 bytes, not secret).
func (k *Key) ID() (string, error) {
	return k.text(func(p *C.tw_key, s *C.tw_str) C.tw_status { return C.tw_key_id(p, s) })
}

// UserID is the key's owner.
func (k *Key) UserID() (string, error) {
	return k.text(func(p *C.tw_key, s *C.tw_str) C.tw_status { return C.tw_key_user_id(p, s) })
}

// LoginType is password, github, oidc, token, none or oauth2_provider_app.
func (k *Key) LoginType() (string, error) {
	return k.text(func(p *C.tw_key, s *C.tw_str) C.tw_status { return C.tw_key_login_type(p, s) })
}

// JSON is codersdk's APIKey JSON of the key: its public view, without hash or IP address.
func (k *Key) JSON() ([]byte, error) {
	s, err := k.text(func(p *C.tw_key, s *C.tw_str) C.tw_status { return C.tw_key_to_json(p, s) })
	return []byte(s), err
}

// ExpiresAt is the key's absolute expiry.
func (k *Key) ExpiresAt() (time.Time, error) {
	if k == nil {
		return time.Time{}, ErrClosed
	}
	ptr, unlock, err := k.lock()
	if err != nil {
		return time.Time{}, err
	}
	defer unlock()
	var m C.int64_t
	if err := call(func() C.tw_status { return C.tw_key_expires_at(ptr, &m) }); err != nil {
		return time.Time{}, err
	}
	return fromMicros(m), nil
}

// Update is the refresh a verified key needs written back (Coder's UpdateAPIKeyByID).
type Update struct {
	LastUsed  time.Time
	ExpiresAt time.Time
	// The expires_at the decision was made on: write ExpiresAt only while the row still has
	// this value, so a concurrent expire stands.
	PreviousExpiresAt time.Time
	// Canonical bare IP, "0.0.0.0" when the remote address was not one.
	IPAddress string
}

// Verdict is a verified token: the refresh to write back, nil when there is none.
type Verdict struct {
	Update *Update
}

// verdicts holds reusable C verdicts: a verified token then costs no allocation in C. A
// verdict the pool drops is freed by its cleanup.
var verdicts = sync.Pool{New: func() any {
	box := &verdictBox{}
	if C.tw_verdict_new(&box.ptr) != C.TW_OK {
		panic("tokenward: tw_verdict_new failed: out of memory")
	}
	runtime.AddCleanup(box, func(p *C.tw_verdict) { C.tw_verdict_free(p) }, box.ptr)
	return box
}}

type verdictBox struct{ ptr *C.tw_verdict }

// verdict is what one verifying call answered: the refresh when verified, else the failure
// (with Coder's answer and body when the verdict holds one).
type verdict struct {
	update *Update
	err    *Error
	body   string
}

// verify runs one verifying call (f, a gotw_ function) with a pooled verdict and reads it.
func verify(f func(*C.tw_verdict, *C.gotw_answer)) verdict {
	box := verdicts.Get().(*verdictBox)
	defer verdicts.Put(box)
	var answer C.gotw_answer
	f(box.ptr, &answer)
	if answer.status == C.TW_OK {
		var got verdict
		if bool(answer.update.present) {
			got.update = &Update{
				LastUsed:          fromMicros(answer.update.last_used_micros),
				ExpiresAt:         fromMicros(answer.update.expires_at_micros),
				PreviousExpiresAt: fromMicros(answer.update.previous_expires_at_micros),
				IPAddress:         gostr(answer.ip),
			}
		}
		return got
	}
	detail := gostr(answer.detail)
	return readFailure(box.ptr, answer.status, detail)
}

// readFailure reads the failure of a call that returned status: Coder's answer when the
// verdict holds one (a rejection, a store failure), else detail alone.
func readFailure(v *C.tw_verdict, status C.tw_status, detail string) verdict {
	code := int(status)
	failure := &Error{Code: code, Name: statusName(status), Status: httpStatus(code), Detail: detail}
	var held C.tw_status
	if C.tw_verdict_code(v, &held) != C.TW_OK {
		return verdict{err: failure} // bad input: the verdict is empty
	}
	var http C.uint16_t
	var msg, www, body C.tw_str
	C.tw_verdict_http_status(v, &http)
	C.tw_verdict_message(v, &msg)
	C.tw_verdict_www_authenticate(v, &www)
	C.tw_verdict_body(v, &body)
	failure.Status = int(http)
	failure.Message = gostr(msg)
	failure.WWWAuthenticate = gostr(www)
	return verdict{err: failure, body: gostr(body)}
}

// authenticateWith runs tw_authority_authenticate on p; the key only when verified.
func authenticateWith(p *C.tw_authority, presented, remoteAddr string) (verdict, *Key) {
	var key *Key
	pp, pn := cstr(presented)
	rp, rn := cstr(remoteAddr)
	got := verify(func(v *C.tw_verdict, answer *C.gotw_answer) {
		C.gotw_authenticate(p, pp, pn, rp, rn, v, answer)
		if answer.status == C.TW_OK {
			var k *C.tw_key
			if C.tw_verdict_key(v, &k) == C.TW_OK {
				key = &Key{ptr: k}
			}
		}
	})
	return got, key
}

// VerifyRecord checks a presented token against the record the host fetched for its id (nil
// when there is none), in Coder's order: missing, malformed, unknown key, invalid secret,
// expired; then decides the refresh. settings nil means Coder's defaults. A rejection is an
// *Error (ErrMissing, ...) carrying Coder's status, message, detail and WWW-Authenticate.
func VerifyRecord(presented string, key *Key, now time.Time, settings *Settings, remoteAddr string) (*Verdict, error) {
	kp, kunlock, err := key.lock()
	if err != nil {
		return nil, err
	}
	defer kunlock()
	sp, sunlock, err := settings.lock()
	if err != nil {
		return nil, err
	}
	defer sunlock()
	pp, pn := cstr(presented)
	rp, rn := cstr(remoteAddr)
	got := verify(func(v *C.tw_verdict, answer *C.gotw_answer) {
		C.gotw_verify_record(pp, pn, kp, sp, toMicros(now), rp, rn, v, answer)
	})
	if got.err != nil {
		return nil, got.err
	}
	return &Verdict{Update: got.update}, nil
}

// statusNameInt is tw_status_name for a Go int.
func statusNameInt(code int) string { return statusName(C.tw_status(code)) }
