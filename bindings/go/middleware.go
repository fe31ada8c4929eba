package tokenward

/*
#include <tokenward.h>
*/
import "C"

import (
	"context"
	"net/http"
	"runtime"
	"strings"
)

type contextKey struct{}

// KeyFromContext returns the key Middleware verified for this request. The key is valid
// until the handler returns (the middleware closes it then): do not keep it.
func KeyFromContext(ctx context.Context) (*Key, bool) {
	k, ok := ctx.Value(contextKey{}).(*Key)
	return k, ok
}

// Middleware authenticates every request as Coder's API key middleware does: it finds the
// token (the coder_session_token cookie, then that query parameter, the Coder-Session-Token
// header, Authorization: Bearer, then the access_token query parameter), authenticates it
// against a, and either passes the request on with the key in its context (KeyFromContext) or
// answers Coder's failure: its status, WWW-Authenticate and JSON body, byte for byte.
//
// r.RemoteAddr is recorded as given; a bare IP is stored as is, anything else (such as
// "host:port") as 0.0.0.0, as in Coder. Put a real-IP middleware in front to record the IP.
func Middleware(a *Authority) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token := extractToken(r)
			key, got, err := a.authenticate(token, r.RemoteAddr)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if got.err != nil && got.body == "" {
				// Not a rejection: input the core refused (no token holds it).
				http.Error(w, got.err.Error(), got.err.Status)
				return
			}
			if got.err != nil {
				h := w.Header()
				if got.err.WWWAuthenticate != "" {
					h.Set("WWW-Authenticate", got.err.WWWAuthenticate)
				}
				h.Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(got.err.Status)
				_, _ = w.Write([]byte(got.body))
				return
			}
			defer key.Close()
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), contextKey{}, key)))
		})
	}
}

// extractToken runs tw_extract_token over the request's headers and raw query; "" when it
// holds no token (then authenticating "" answers Coder's "missing").
func extractToken(r *http.Request) string {
	// The header structs point at the Go strings' bytes: pinned, so the (Go-allocated) array
	// holding those pointers may be passed to C.
	var pinner runtime.Pinner
	defer pinner.Unpin()
	headers := make([]C.tw_header, 0, len(r.Header)+1)
	for name, values := range r.Header {
		// Only the headers the extraction reads: another header's bytes (not UTF-8, say)
		// must not stop it.
		if !strings.EqualFold(name, "Cookie") && !strings.EqualFold(name, "Coder-Session-Token") &&
			!strings.EqualFold(name, "Authorization") {
			continue
		}
		np, nn := cstr(name)
		pinner.Pin(np)
		for _, value := range values {
			vp, vn := cstr(value)
			pinner.Pin(vp)
			headers = append(headers, C.tw_header{name: np, name_len: nn, value: vp, value_len: vn})
		}
	}
	count := C.size_t(len(headers))
	if len(headers) == 0 {
		headers = append(headers, C.tw_header{}) // the array must not be NULL
	}
	qp, qn := cstr(r.URL.RawQuery)
	var out C.tw_str
	var source C.uint32_t
	if C.tw_extract_token(&headers[0], count, qp, qn, &out, &source) != C.TW_OK {
		return ""
	}
	return gostr(out)
}
