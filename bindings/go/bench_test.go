package tokenward

// Benchmarks, each against its baseline in the same run (the machines here are shared and
// noisy, so only a ratio measured in one run means anything):
//
//   - VerifyRecord through cgo against a native Go check written with crypto/sha256 and
//     crypto/subtle on the same record (goal: at most 1.3x the native time);
//   - a request through Middleware (a MemoryStore authority) against the same handler alone.
//
// Run them, with the ratios printed, against the release library:
//
//	cargo build --release --lib
//	mkdir -p /tmp/tokenward-lib && cp target/release/libtokenward.a /tmp/tokenward-lib/
//	cd bindings/go && CGO_ENABLED=1 CGO_LDFLAGS=-L/tmp/tokenward-lib \
//	    go test -run '^TestBenchmarkRatios$' -bench . -benchmem
//
// TestBenchmarkRatios runs only with -bench (or TOKENWARD_BENCH=1); the normal test run makes no
// timed assertion.

import (
	"crypto/sha256"
	"crypto/subtle"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchRecord is one verified-session record, as the cgo and the native check see it.
type benchRecord struct {
	token string
	now   time.Time
	key   *Key
	// What the native check keeps of the row.
	id        string
	hash      [32]byte
	expiresAt time.Time
}

// newBenchRecord makes a token key used a minute ago, valid for a day: it verifies with nothing
// to write back.
func newBenchRecord(tb testing.TB) *benchRecord {
	tb.Helper()
	token, err := Generate()
	if err != nil {
		tb.Fatal(err)
	}
	id, secret, err := Parse(token)
	if err != nil {
		tb.Fatal(err)
	}
	hash, err := HashSecret(secret)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	key, err := NewKey(KeyFields{
		ID: id, HashedSecret: hash[:], UserID: "jane", LoginType: "token",
		CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(24 * time.Hour), LastUsed: now.Add(-time.Minute),
		LifetimeSeconds: 86400,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(key.Close)
	return &benchRecord{token: token, now: now, key: key, id: id, hash: hash, expiresAt: now.Add(24 * time.Hour)}
}

// nativeVerify is the check in plain Go, the baseline: split the token around its one '-'
// into 10 and 22 bytes, match the id, hash the secret, compare in constant time, and check
// now <= expires_at.
func nativeVerify(token string, r *benchRecord, now time.Time) bool {
	if len(token) != 33 || token[10] != '-' || strings.IndexByte(token[11:], '-') >= 0 {
		return false
	}
	id, secret := token[:10], token[11:]
	if id != r.id {
		return false
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], r.hash[:]) != 1 {
		return false
	}
	return !now.After(r.expiresAt)
}

func benchmarkVerifyCgo(b *testing.B, r *benchRecord) {
	b.ReportAllocs()
	for b.Loop() {
		if update, err := VerifyRecord(r.token, r.key, r.now, nil, "203.0.113.7"); err != nil || update != nil {
			b.Fatal(update, err)
		}
	}
}

func benchmarkVerifyNative(b *testing.B, r *benchRecord) {
	b.ReportAllocs()
	for b.Loop() {
		if !nativeVerify(r.token, r, r.now) {
			b.Fatal("native check failed")
		}
	}
}

// BenchmarkVerifyRecord is VerifyRecord through cgo and the native Go check on one record.
func BenchmarkVerifyRecord(b *testing.B) {
	r := newBenchRecord(b)
	b.Run("cgo", func(b *testing.B) { benchmarkVerifyCgo(b, r) })
	b.Run("native", func(b *testing.B) { benchmarkVerifyNative(b, r) })
}

// benchServer is a handler behind Middleware over a MemoryStore authority, the handler alone,
// and a request carrying a token that verifies with nothing to write (after the first).
type benchServer struct {
	with, without http.Handler
	req           *http.Request
}

func newBenchServer(tb testing.TB) *benchServer {
	tb.Helper()
	a, err := Open(":memory:", nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(a.Close)
	token, key, err := a.CreateToken(jane, jane, TokenRequest{TokenName: "bench"}, "")
	if err != nil {
		tb.Fatal(err)
	}
	key.Close()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	req := httptest.NewRequest("GET", "/whoami", nil)
	req.Header.Set("Coder-Session-Token", token)
	req.Header.Set("Accept", "application/json")
	s := &benchServer{with: Middleware(a)(handler), without: handler, req: req}
	if rec := s.serve(s.with); rec.Code != 200 {
		tb.Fatalf("through the middleware: %d %s", rec.Code, rec.Body)
	}
	return s
}

func (s *benchServer) serve(h http.Handler) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, s.req)
	return rec
}

func benchmarkServe(b *testing.B, s *benchServer, h http.Handler) {
	b.ReportAllocs()
	for b.Loop() {
		if rec := s.serve(h); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkMiddleware is a request (httptest.NewRecorder) through Middleware and to the same
// handler without it.
func BenchmarkMiddleware(b *testing.B) {
	s := newBenchServer(b)
	b.Run("with", func(b *testing.B) { benchmarkServe(b, s, s.with) })
	b.Run("without", func(b *testing.B) { benchmarkServe(b, s, s.without) })
}

// figure is the median of a few testing.Benchmark runs.
type figure struct {
	nsPerOp     float64
	allocsPerOp int64
	bytesPerOp  int64
}

// measure runs a and b alternately, rounds times each, and returns their medians.
func measure(rounds int, a, b func(*testing.B)) (figure, figure) {
	var as, bs []testing.BenchmarkResult
	for range rounds {
		as = append(as, testing.Benchmark(a))
		bs = append(bs, testing.Benchmark(b))
	}
	return median(as), median(bs)
}

func median(results []testing.BenchmarkResult) figure {
	slices.SortFunc(results, func(x, y testing.BenchmarkResult) int {
		return int(x.NsPerOp() - y.NsPerOp())
	})
	m := results[len(results)/2]
	return figure{
		nsPerOp:     float64(m.T.Nanoseconds()) / float64(m.N),
		allocsPerOp: m.AllocsPerOp(),
		bytesPerOp:  m.AllocedBytesPerOp(),
	}
}

// TestBenchmarkRatios prints both ratios from one run: with -bench, or TOKENWARD_BENCH=1.
func TestBenchmarkRatios(t *testing.T) {
	if f := flag.Lookup("test.bench"); (f == nil || f.Value.String() == "") && os.Getenv("TOKENWARD_BENCH") != "1" {
		t.Skip("a benchmark: run with -bench (or TOKENWARD_BENCH=1)")
	}
	const rounds = 5
	r := newBenchRecord(t)
	cgo, native := measure(rounds,
		func(b *testing.B) { benchmarkVerifyCgo(b, r) },
		func(b *testing.B) { benchmarkVerifyNative(b, r) })
	s := newBenchServer(t)
	with, without := measure(rounds,
		func(b *testing.B) { benchmarkServe(b, s, s.with) },
		func(b *testing.B) { benchmarkServe(b, s, s.without) })
	fmt.Printf("VerifyRecord, cgo:    %8.1f ns/op %3d allocs/op %5d B/op\n", cgo.nsPerOp, cgo.allocsPerOp, cgo.bytesPerOp)
	fmt.Printf("VerifyRecord, native: %8.1f ns/op %3d allocs/op %5d B/op\n", native.nsPerOp, native.allocsPerOp, native.bytesPerOp)
	fmt.Printf("request, Middleware:  %8.1f ns/op %3d allocs/op %5d B/op\n", with.nsPerOp, with.allocsPerOp, with.bytesPerOp)
	fmt.Printf("request, handler:     %8.1f ns/op %3d allocs/op %5d B/op\n", without.nsPerOp, without.allocsPerOp, without.bytesPerOp)
	fmt.Printf("VerifyRecord/native: %.2fx (goal <= 1.3x; median of %d alternating runs)\n", cgo.nsPerOp/native.nsPerOp, rounds)
	fmt.Printf("Middleware/handler: %.2fx (+%.0f ns per request; median of %d alternating runs)\n",
		with.nsPerOp/without.nsPerOp, with.nsPerOp-without.nsPerOp, rounds)
	if cgo.allocsPerOp != 0 {
		t.Errorf("VerifyRecord allocates %d times per verified token with nothing to write", cgo.allocsPerOp)
	}
}
