package tokenward

// #include "gotw.h"
import "C"

import (
	"context"
	"net/http"
	"strings"
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
// their lengths in lens (Go memory holding no Go pointer, so it may be passed to C).
type headerBuf struct {
	buf  []byte
	lens []C.size_t
}

var headerBufs = sync.Pool{New: func() any { return &headerBuf{} }}

func (h *headerBuf) reset() {
	h.buf = h.buf[:0]
	h.lens = h.lens[:0]
}

func (h *headerBuf) add(name, value string) {
	h.buf = append(h.buf, name...)
	h.buf = append(h.buf, value...)
	h.lens = append(h.lens, C.size_t(len(name)), C.size_t(len(value)))
}

// args are the pointers and count for a C helper (never NULL, even when empty).
func (h *headerBuf) args() (*C.char, *C.size_t, C.size_t) {
	bp, _ := cbytes(h.buf)
	count := len(h.lens) / 2
	if count == 0 {
		var none C.size_t
		return bp, &none, 0
	}
	return bp, &h.lens[0], C.size_t(count)
}

// release returns h to its pool, dropping a buffer grown unusually large.
func (h *headerBuf) release() {
	if cap(h.buf) <= 64<<10 {
		headerBufs.Put(h)
	}
}

// tokenHeaders are the headers a token may come in, as net/http keys them (canonical): Coder
// reads them with Request.Cookie and Header.Get, which look up these keys.
var tokenHeaders = [...]string{"Cookie", "Coder-Session-Token", "Authorization"}

// fromRequest fills h with the headers of r that may hold a token and returns the raw query.
// The C ABI takes UTF-8: bytes that are not are replaced (U+FFFD), so that another cookie's
// bytes cannot hide the token (a token is ASCII).
func (h *headerBuf) fromRequest(r *http.Request) string {
	h.reset()
	for _, name := range tokenHeaders {
		for _, value := range r.Header[name] {
			h.add(name, validUTF8(value))
		}
	}
	if r.URL == nil {
		return ""
	}
	return validUTF8(r.URL.RawQuery)
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// ExtractToken finds the API token a request presents, as Coder's APITokenFromRequest: the
// coder_session_token cookie, then that query parameter, the Coder-Session-Token header,
// Authorization: Bearer, then the access_token query parameter. headers are the request's
// header lines in the order received (every Cookie line included); rawQuery is the query
// string without the '?', still percent-encoded. ErrMissing (Coder's detail) when it holds no
// token. The token is a secret: never log it.
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
	bp, lp, count := h.args()
	qp, qn := cstr(rawQuery)
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
// Content-Type, WWW-Authenticate and JSON body. One call into C per request; the token never
// enters Go's memory.
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

// authenticateRequest extracts and authenticates r's token in one C call.
func (a *Authority) authenticateRequest(r *http.Request) (*Key, error) {
	h := headerBufs.Get().(*headerBuf)
	defer h.release()
	query := h.fromRequest(r)
	p, err := a.rlock()
	if err != nil {
		return nil, err
	}
	defer a.mu.RUnlock()
	bp, lp, count := h.args()
	qp, qn := cstr(query)
	rp, rn := cstr(r.RemoteAddr)
	var result C.gotw_result
	C.gotw_middleware(p, bp, lp, count, qp, qn, rp, rn, &result)
	if _, failed := readResult(&result); failed != nil {
		return nil, failed
	}
	key := result.key
	return &Key{ptr: key}, nil
}
