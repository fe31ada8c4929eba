// Command whoami is a small HTTP server protected by tokenward's Coder-compatible middleware.
//
// At start it mints an API token for a user and prints it (alone, on standard output); then
// it serves GET /whoami, which answers the verified key's user as JSON. A request without a
// valid token gets Coder's 401, byte for byte.
//
// Build the static library first (see bindings/go), then:
//
//	CGO_LDFLAGS=-L<dir holding only libtokenward.a> go run . -addr 127.0.0.1:8080
//	curl -H "Coder-Session-Token: <the token>" http://127.0.0.1:8080/whoami
//
// Settings come from the environment (CODER_SESSION_DURATION, CODER_ACCESS_URL, ...; see
// tokenward.SettingsFromEnv).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"tokenward"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	store := flag.String("store", ":memory:", `key store: ":memory:" or a SQLite file ("sqlite:keys.db")`)
	user := flag.String("user", "jane", "the user to mint a token for")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, ln, *store, *user, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run opens the store, mints a token for user and prints it to out, then serves on ln until
// ctx is done.
func run(ctx context.Context, ln net.Listener, store, user string, out io.Writer) error {
	settings, err := tokenward.SettingsFromEnv()
	if err != nil {
		return err
	}
	authority, err := tokenward.Open(store, settings)
	settings.Close() // Open keeps a copy
	if err != nil {
		return err
	}
	defer authority.Close()

	owner := tokenward.User{ID: user}
	token, key, err := authority.CreateToken(owner, owner, tokenward.TokenRequest{}, "")
	if err != nil {
		return err
	}
	key.Close()
	// Shown once, here; the store keeps only its hash.
	if _, err := fmt.Fprintln(out, token); err != nil {
		return err
	}
	log.Printf("serving http://%s/whoami (header Coder-Session-Token, Authorization: Bearer, the coder_session_token cookie or query parameter)", ln.Addr())

	server := &http.Server{Handler: newHandler(authority), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- server.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHandler serves GET /whoami behind the middleware.
func newHandler(authority *tokenward.Authority) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /whoami", tokenward.Middleware(authority)(http.HandlerFunc(whoami)))
	return mux
}

// Whoami is the answer of /whoami.
type Whoami struct {
	// UserID is the key's owner.
	UserID string `json:"user_id"`
	// KeyID is the key's id (the token's first 10 bytes; not secret).
	KeyID string `json:"key_id"`
	// LoginType is how the key was obtained (token, password, ...).
	LoginType string `json:"login_type"`
	// TokenName is the token's name, "" for a session.
	TokenName string `json:"token_name"`
	// ExpiresAt is the key's expiry.
	ExpiresAt time.Time `json:"expires_at"`
}

// whoami answers the verified key's user (the key is valid while the handler runs).
func whoami(w http.ResponseWriter, r *http.Request) {
	key, _ := tokenward.KeyFromContext(r.Context())
	public, err := key.APIKey()
	if err != nil {
		tokenward.WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(Whoami{
		UserID:    public.UserID,
		KeyID:     public.ID,
		LoginType: public.LoginType,
		TokenName: public.TokenName,
		ExpiresAt: public.ExpiresAt,
	})
}
