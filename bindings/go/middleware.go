package tokenward

// #include "gotw.h"
import "C"

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"unicode/utf8"
)

// TokenSource says where a request carried its token.
type TokenSource int

// Where ExtractToken found the token, in the order it looks.
const (
	// SourceCookie is the coder_session_token cookie.
	SourceCookie TokenSource = C.TW_SOURCE_COOKIE
	// SourceQuery is the coder_session_token query parameter.
	SourceQuery TokenSource = C.TW_SOURCE_QUERY
	// SourceHeader is the Coder-Session-Token header.
	SourceHeader TokenSource = C.TW_SOURCE_HEADER
	// SourceBearer is Authorization: Bearer <token>.
	SourceBearer TokenSource = C.TW_SOURCE_BEARER
	// SourceAccessToken is the access_token query parameter.
	SourceAccessToken TokenSource = C.TW_SOURCE_ACCESS_TOKEN
)

// String names the source: "cookie", "query", "header", "bearer" or "access_token".
func (s TokenSource) String() string {
	switch s {
	case SourceCookie:
		return "cookie"
	case SourceQuery:
		return "query"
	case SourceHeader:
		return "header"
	case SourceBearer:
		return "bearer"
	case SourceAccessToken:
		return "access_token"
	}
	return "unknown"
}

// Header is one request header line, as received.
type Header struct {
	// Name is the header's name, matched ASCII case-insensitively.
	Name string
	// Value is its value.
	Value string
}

// headerBuf lays out headers for the C helpers: names and values one after the other in buf,
// their lengths in lens (Go memory holding no Go pointer, so it may be passed to C). A query
// that is not UTF-8 is copied after them, cleaned (see appendText).
//
// buf holds a request's header lines, the token's among them: release wipes it before the
// buffer goes back to the pool (or is dropped), and a buffer that grows is wiped before it is
// left to the collector, so no copy of those bytes outlives the request.
type headerBuf struct {
	buf  []byte
	lens []C.size_t
}

var headerBufs = sync.Pool{New: func() any { return &headerBuf{} }}

func (h *headerBuf) reset() {
	h.buf = h.buf[:0]
	h.lens = h.lens[:0]
}

// notUTF8 replaces a byte that is not part of UTF-8: DEL, which is neither in the token alphabet
// nor '-' nor a cookie-octet (RFC 6265), so it cannot join, split or end a token differently
// than in the bytes Coder sees, and it keeps every length (U+FFFD would take 3 bytes).
const notUTF8 = 0x7f

// appendText appends s to h.buf, each byte that is not part of UTF-8 replaced by notUTF8 (the
// C ABI takes UTF-8). Growing the buffer wipes the old one.
func (h *headerBuf) appendText(s string) {
	if cap(h.buf)-len(h.buf) < len(s) {
		grown := make([]byte, len(h.buf), max(2*cap(h.buf), len(h.buf)+len(s), 512))
		copy(grown, h.buf)
		clear(h.buf[:cap(h.buf)])
		h.buf = grown
	}
	start := len(h.buf)
	h.buf = append(h.buf, s...)
	if text := h.buf[start:]; !utf8.Valid(text) {
		cleanUTF8(text)
	}
}

// cleanUTF8 replaces, in place, each byte of b that is not part of UTF-8 by notUTF8.
func cleanUTF8(b []byte) {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			b[i] = notUTF8
		}
		i += size
	}
}

func (h *headerBuf) add(name, value string) {
	h.appendText(name)
	h.appendText(value)
	h.lens = append(h.lens, C.size_t(len(name)), C.size_t(len(value)))
}

// args are the pointers and count for a C helper (never NULL, even when empty), and the query:
// rawQuery itself when it is UTF-8, else a cleaned copy after the headers. Add nothing after.
func (h *headerBuf) args(rawQuery string) (*C.char, *C.size_t, C.size_t, *C.char, C.size_t) {
	qp, qn := cstr(rawQuery)
	if !utf8.ValidString(rawQuery) {
		start := len(h.buf)
		h.appendText(rawQuery)
		qp, qn = cbytes(h.buf[start:])
	}
	bp, _ := cbytes(h.buf)
	count := len(h.lens) / 2
	if count == 0 {
		var none C.size_t
		return bp, &none, 0, qp, qn
	}
	return bp, &h.lens[0], C.size_t(count), qp, qn
}

// release wipes h's buffer and returns h to its pool, dropping a buffer grown unusually large.
func (h *headerBuf) release() {
	clear(h.buf[:cap(h.buf)])
	h.reset()
	if cap(h.buf) <= 64<<10 {
		headerBufs.Put(h)
	}
}

// tokenHeaders are the headers a token may come in, as net/http keys them (canonical): Coder
// reads them with Request.Cookie and Header.Get, which look up these keys.
var tokenHeaders = [...]string{"Cookie", "Coder-Session-Token", "Authorization"}

// fromRequest fills h with the headers of r that may hold a token and returns the raw query.
func (h *headerBuf) fromRequest(r *http.Request) string {
	h.reset()
	for _, name := range tokenHeaders {
		for _, value := range r.Header[name] {
			h.add(name, value)
		}
	}
	if r.URL == nil {
		return ""
	}
	return r.URL.RawQuery
}

// ExtractToken finds the API token a request presents, as Coder's APITokenFromRequest: the
// coder_session_token cookie, then that query parameter, the Coder-Session-Token header,
// Authorization: Bearer, then the access_token query parameter. headers are the request's
// header lines in the order received (every Cookie line included); rawQuery is the query
// string without the '?', still percent-encoded. ErrMissing (Coder's detail) when it holds no
// token. Bytes that are not UTF-8 (in any header or the query) are each read as one DEL byte,
// which no token holds: they neither fail the call nor change where a token starts or ends.
// The token is a secret: never log it.
func ExtractToken(headers []Header, rawQuery string) (string, TokenSource, error) {
	h := headerBufs.Get().(*headerBuf)
	defer h.release()
	h.reset()
	for _, header := range headers {
		h.add(header.Name, header.Value)
	}
	return extract(h, rawQuery)
}

// TokenFromRequest is ExtractToken on r's Cookie, Coder-Session-Token and Authorization
// headers and its raw query.
func TokenFromRequest(r *http.Request) (string, TokenSource, error) {
	h := headerBufs.Get().(*headerBuf)
	defer h.release()
	query := h.fromRequest(r)
	return extract(h, query)
}

func extract(h *headerBuf, rawQuery string) (string, TokenSource, error) {
	bp, lp, count, qp, qn := h.args(rawQuery)
	var out C.tw_str
	var source C.uint32_t
	var e C.gotw_error
	if C.gotw_extract(bp, lp, count, qp, qn, &out, &source, &e) != C.TW_OK {
		return "", 0, failure(&e)
	}
	return gostr(out), TokenSource(source), nil
}

type contextKey struct{}

// KeyFromContext returns the key Middleware verified for this request. The key is valid
// until the handler returns (the middleware closes it then): do not keep it.
func KeyFromContext(ctx context.Context) (*Key, bool) {
	k, ok := ctx.Value(contextKey{}).(*Key)
	return k, ok
}

// Middleware authenticates every request as Coder's API key middleware does: it finds the
// token (the coder_session_token cookie, then that query parameter, the Coder-Session-Token
// header, Authorization: Bearer, then the access_token query parameter; see ExtractToken),
// authenticates it against a (writing the refresh), and either passes the request on with the
// key in its context (KeyFromContext) or answers Coder's failure byte for byte: its status,
// Content-Type, WWW-Authenticate and JSON body. One call into C per request. The middleware
// makes no Go string of the token: the headers that may hold it (already in the request's Go
// memory) are copied into a pooled buffer that is wiped after each request, and the token is
// extracted, authenticated and wiped in C. Bytes that are not UTF-8 are read as in
// ExtractToken. A closed (or nil) authority is answered as a store failure: Coder's JSON 500.
//
// r.RemoteAddr is recorded as given; a bare IP is stored as is, anything else (such as
// "host:port") as 0.0.0.0, as in Coder. Put a real-IP middleware in front to record the IP.
func Middleware(a *Authority) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, err := a.authenticateRequest(r)
			if err != nil {
				WriteError(w, err)
				return
			}
			defer key.Close()
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), contextKey{}, key)))
		})
	}
}

// internalErrorMessage is Coder's message for a 500, the library's (src/error.rs,
// INTERNAL_ERROR_MESSAGE). The C ABI answers only failures it saw, and it never sees a closed
// authority, so the message is written here, once; TestClosedAuthorityAnswersAsTheStoreDoes
// compares it with a real store failure's.
const internalErrorMessage = "An internal error occurred. Please try again or contact the system administrator."

// closedAnswer is what Middleware answers for a closed (or nil) authority: Coder's 500, as for
// a store that cannot be read. errors.Is(closedAnswer, ErrClosed).
var closedAnswer = func() *Error {
	const detail = "Internal error fetching API key by id. the authority is closed"
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
		Detail  string `json:"detail"`
	}{internalErrorMessage, detail}) // strings only: cannot fail
	return &Error{
		Code:    ErrClosed.Code,
		Name:    ErrClosed.Name,
		Status:  http.StatusInternalServerError,
		Message: internalErrorMessage,
		Detail:  detail,
		Body:    string(body) + "\n", // as Go's json.Encoder writes it
	}
}()

// authenticateRequest extracts and authenticates r's token in one C call.
func (a *Authority) authenticateRequest(r *http.Request) (*Key, error) {
	p, err := a.rlock()
	if err != nil {
		return nil, closedAnswer
	}
	defer a.mu.RUnlock()
	h := headerBufs.Get().(*headerBuf)
	defer h.release()
	query := h.fromRequest(r)
	bp, lp, count, qp, qn := h.args(query)
	rp, rn := cstr(r.RemoteAddr)
	var result C.gotw_result
	C.gotw_middleware(p, bp, lp, count, qp, qn, rp, rn, &result)
	if _, failed := readResult(&result); failed != nil {
		return nil, failed
	}
	key := result.key
	return &Key{ptr: key}, nil
}
