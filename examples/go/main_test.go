package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tokenward"
)

// The program itself: it prints a token, serves /whoami on a real listener with it, answers
// Coder's 401 without it, and stops with its context.
func TestRun(t *testing.T) {
	t.Setenv("CODER_ACCESS_URL", "https://coder.example.com")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, in := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, ln, "sqlite:"+filepath.Join(t.TempDir(), "keys.db"), "jane", in)
		in.Close()
	}()
	token, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(token)
	if _, _, err := tokenward.ParseStrict(token); err != nil {
		t.Fatalf("printed %q: %v", token, err)
	}
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}

	req, _ := http.NewRequest("GET", base+"/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got Whoami
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	id, _, _ := tokenward.Parse(token)
	if err != nil || resp.StatusCode != 200 || got.UserID != "jane" || got.KeyID != id || got.LoginType != "token" {
		t.Fatalf("whoami: %d %+v %v", resp.StatusCode, got, err)
	}

	resp, err = client.Get(base + "/whoami")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantBody := `{"message":"You are signed out or your session has expired. Please sign in again to continue.","detail":"Cookie \"coder_session_token\" or query parameter must be provided."}` + "\n"
	wantWWW := `Bearer realm="coder", error="invalid_token", error_description="The access token has expired", resource_metadata="https://coder.example.com/.well-known/oauth-protected-resource"`
	if resp.StatusCode != 401 || string(body) != wantBody || resp.Header.Get("WWW-Authenticate") != wantWWW ||
		resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("no token: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

// The handler alone, through httptest: each way of presenting the token.
func TestWhoami(t *testing.T) {
	authority, err := tokenward.Open(":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer authority.Close()
	bob := tokenward.User{ID: "bob"}
	token, key, err := authority.CreateSession(bob, "oidc", "")
	if err != nil {
		t.Fatal(err)
	}
	key.Close()
	server := httptest.NewServer(newHandler(authority))
	defer server.Close()
	for name, set := range map[string]func(*http.Request){
		"cookie": func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "coder_session_token", Value: token}) },
		"query":  func(r *http.Request) { r.URL.RawQuery = "coder_session_token=" + token },
		"header": func(r *http.Request) { r.Header.Set("Coder-Session-Token", token) },
		"bearer": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) },
	} {
		req, _ := http.NewRequest("GET", server.URL+"/whoami", nil)
		set(req)
		resp, err := server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got Whoami
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || got.UserID != "bob" || got.LoginType != "oidc" {
			t.Errorf("%s: %d %+v %v", name, resp.StatusCode, got, err)
		}
	}
	// Another path is not served; a bad token is Coder's 401.
	resp, err := server.Client().Get(server.URL + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/other: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", server.URL+"/whoami", nil)
	req.Header.Set("Coder-Session-Token", token[:11]+strings.Repeat("x", 22))
	resp, err = server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(body), `"detail":"API key secret is invalid."`) {
		t.Errorf("bad secret: %d %q", resp.StatusCode, body)
	}
}
