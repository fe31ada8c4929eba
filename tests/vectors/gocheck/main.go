// Command gocheck writes the vectors whose answers come from Go itself, and checks that the
// committed files are what this Go writes: Go's `%q` (quote.go) and the cookie and query
// grammars of net/http (extract.go). Standard library only.
//
// Run from anywhere inside the repository:
//
//	go -C tests/vectors/gocheck run .          # write every file
//	go -C tests/vectors/gocheck run . -check   # fail if a committed file differs
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

func main() {
	check := flag.Bool("check", false, "fail if the committed files differ from what this Go writes")
	flag.Parse()
	runQuote(*check)
	runExtract(*check)
}

// jsonString encodes s for a vector file: what unicode.IsPrint rejects as \u escapes, so the
// file shows no invisible characters; everything else as it is. s must be UTF-8.
func jsonString(s string) string {
	if !utf8.ValidString(s) {
		fail("not UTF-8: %q", s)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		}
	}
	b.WriteByte('"')
	return b.String()
}

func comma(i, n int) string {
	if i < n-1 {
		return ","
	}
	return ""
}

// repoRoot is the nearest directory at or above the working directory holding Cargo.toml.
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		fail("%v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Cargo.toml")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			fail("no Cargo.toml above the working directory; run inside the repository")
		}
		dir = parent
	}
}

// recordedField reads a top-level string field (go_version, unicode_version) of a committed
// vector file; empty when there is none.
func recordedField(path, field string) string {
	text, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var doc map[string]any
	if json.Unmarshal(text, &doc) != nil {
		return ""
	}
	value, _ := doc[field].(string)
	return value
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gocheck: "+format+"\n", args...)
	os.Exit(1)
}
