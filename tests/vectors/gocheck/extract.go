// The extraction half of gocheck: which token a request carries, on inputs that exercise the
// cookie and query grammars (tests/vectors/extract_grammar.json). Each input becomes a real
// *http.Request, so net/http's Request.Cookie and net/url's ParseQuery decide, and Coder's
// APITokenFromRequest order is applied to it.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode/utf8"
)

const (
	extractVectorPath = "tests/vectors/extract_grammar.json"
	// Coder's names (codersdk.SessionTokenCookie, codersdk.SessionTokenHeader).
	sessionTokenCookie = "coder_session_token"
	sessionTokenHeader = "Coder-Session-Token"

	specCookie = "§5 (Go Request.Cookie)"
	specQuery  = "§5 (Go url.ParseQuery)"
	specBearer = "§5 §10 (Go strings.TrimSpace)"
)

// header is one header line, name and value, as the HTTP layer delivered it.
type header [2]string

type extractCase struct {
	name    string
	spec    string
	headers []header
	query   string
}

// apiTokenFromRequest is Coder's httpmw.APITokenFromRequest, returning the source as well.
func apiTokenFromRequest(r *http.Request) (token, source string) {
	cookie, err := r.Cookie(sessionTokenCookie)
	if err == nil && cookie.Value != "" {
		return cookie.Value, "cookie"
	}
	urlValue := r.URL.Query().Get(sessionTokenCookie)
	if urlValue != "" {
		return urlValue, "query"
	}
	headerValue := r.Header.Get(sessionTokenHeader)
	if headerValue != "" {
		return headerValue, "header"
	}
	if authHeader := r.Header.Get("Authorization"); authHeader != "" {
		if strings.HasPrefix(strings.ToLower(authHeader), "bearer ") {
			return strings.TrimSpace(authHeader[7:]), "bearer"
		}
	}
	accessToken := r.URL.Query().Get("access_token")
	if accessToken != "" {
		return strings.TrimSpace(accessToken), "access_token"
	}
	return "", ""
}

// request builds the request Coder's middleware would see. Header.Add canonicalizes names as the
// server's header reader does; the raw query goes into URL.RawQuery untouched, which is what
// URL.Query parses.
func request(c extractCase) *http.Request {
	r, err := http.NewRequest(http.MethodGet, "http://coder.example.com/api/v2/users/me", nil)
	if err != nil {
		fail("%s: %v", c.name, err)
	}
	for _, h := range c.headers {
		r.Header.Add(h[0], h[1])
	}
	r.URL.RawQuery = c.query
	return r
}

// answer is what Coder takes from the request: the token and its source, or ok false for none
// (an empty token is no token, including the empty Bearer that ends the search).
func answer(c extractCase) (token, source string, ok bool) {
	token, source = apiTokenFromRequest(request(c))
	return token, source, token != ""
}

func cookies(lines ...string) []header {
	hs := make([]header, len(lines))
	for i, line := range lines {
		hs[i] = header{"Cookie", line}
	}
	return hs
}

func with(hs []header, more ...header) []header {
	return append(append([]header{}, hs...), more...)
}

var fromHeader = header{"Coder-Session-Token", "from-header"}

// cases are the inputs. Header values must be UTF-8: a JSON string cannot carry other bytes.
func extractCases() []extractCase {
	var cs []extractCase
	cookie := func(name string, hs []header) {
		cs = append(cs, extractCase{name: name, spec: specCookie, headers: hs})
	}
	query := func(name string, hs []header, q string) {
		cs = append(cs, extractCase{name: name, spec: specQuery, headers: hs, query: q})
	}
	bearer := func(name string, value, q string) {
		cs = append(cs, extractCase{name: name, spec: specBearer, headers: []header{{"Authorization", value}}, query: q})
	}

	// Cookies across several headers, in order.
	cookie("first_session_cookie_of_several_headers_wins", cookies("a=1; coder_session_token=first", "coder_session_token=second"))
	cookie("session_cookie_in_a_later_header_is_found", cookies("a=1", "b=2; coder_session_token=second"))
	cookie("first_of_two_session_cookies_in_one_line_wins", cookies("a=1;b=2;coder_session_token=third;coder_session_token=fourth"))
	cookie("empty_and_blank_cookie_parts_are_skipped", cookies(";;  ; coder_session_token=x;;"))
	cookie("cookie_headers_are_read_around_other_headers", []header{{"Cookie", "a=1"}, {"Accept", "*/*"}, {"cookie", "coder_session_token=y"}})
	cookie("cookie_header_name_is_ascii_case_insensitive", []header{{"COOKIE", "coder_session_token=d"}})
	cookie("set_cookie_header_is_not_a_cookie", []header{{"Set-Cookie", "coder_session_token=x"}})
	cookie("empty_cookie_header_line_is_skipped", cookies("", "coder_session_token=z"))
	cookie("blank_cookie_header_line_is_skipped", cookies(" \t ", "coder_session_token=z"))

	// Quotes.
	cookie("quoted_cookie_value_loses_its_quotes", cookies(`coder_session_token="abc"`))
	cookie("quoted_cookie_value_keeps_an_inner_space", cookies(`coder_session_token="a b"`))
	cookie("doubled_quotes_leave_an_invalid_quote", cookies(`coder_session_token=""abc""`))
	cookie("quote_inside_a_quoted_value_is_invalid", cookies(`coder_session_token="a"b"`))
	cookie("unbalanced_leading_quote_is_invalid", cookies(`coder_session_token="abc`))
	cookie("unbalanced_trailing_quote_is_invalid", cookies(`coder_session_token=abc"`))
	cookie("lone_quote_is_not_a_pair", cookies(`coder_session_token="`))
	cookie("empty_quoted_cookie_falls_through", with(cookies(`coder_session_token=""`), fromHeader))
	cookie("semicolon_inside_quotes_still_splits", cookies(`coder_session_token="a;b"`))
	cookie("quoted_blank_cookie_value_is_a_token", cookies(`coder_session_token="   "`))

	// Malformed parts are skipped, so a later cookie of the name is the first.
	for _, bad := range []struct{ what, part string }{
		{"backslash", `coder_session_token=bad\`},
		{"unbalanced_quote", `coder_session_token="bad`},
		{"non_ascii_byte", "coder_session_token=caf\u00e9"},
		{"control_byte", "coder_session_token=a\x01b"},
		{"del_byte", "coder_session_token=a\x7fb"},
		{"nul_inside_quotes", "coder_session_token=\"a\x00\""},
		{"tab", "coder_session_token=a\tb"},
	} {
		cookie("cookie_with_"+bad.what+"_is_skipped_within_a_line", cookies(bad.part+"; coder_session_token=good"))
		cookie("cookie_with_"+bad.what+"_is_skipped_across_lines", cookies(bad.part, "coder_session_token=good"))
	}
	cookie("cookie_names_that_are_not_tokens_are_skipped", cookies("bad name=1; caf\u00e9=2; =3; coder_session_token=good"))
	cookie("skipped_cookie_lets_a_later_empty_one_hide_the_rest", with(cookies(`coder_session_token=bad\; coder_session_token=; coder_session_token=later`), fromHeader))
	cookie("cookie_without_equals_is_empty_and_hides_a_later_one", cookies("coder_session_token", "coder_session_token=later"))
	cookie("empty_first_session_cookie_hides_a_later_one_in_the_line", cookies("coder_session_token=; coder_session_token=later"))
	cookie("empty_session_cookie_falls_through_to_the_header", with(cookies("coder_session_token="), fromHeader))
	cookie("cookie_name_is_case_sensitive", cookies("Coder_session_token=c"))
	cookie("cookie_value_may_contain_equals", cookies("coder_session_token=a=b"))
	cookie("cookie_value_may_be_percent_text_kept_as_is", cookies("coder_session_token=a%20b+c"))

	// Trimming: the part and the name, with space, tab, CR and LF only; never the value.
	cookie("cookie_part_is_trimmed_of_spaces", cookies("  coder_session_token=abc  "))
	cookie("cookie_part_is_trimmed_of_tabs", cookies("\tcoder_session_token=abc\t;x=1"))
	cookie("cookie_part_is_trimmed_of_cr_lf", cookies("coder_session_token=abc\r\n"))
	cookie("cookie_part_is_trimmed_before_a_semicolon", cookies("coder_session_token=abc ;x=1"))
	cookie("cookie_part_is_trimmed_of_mixed_ascii_white_space", cookies("\tcoder_session_token=abc \r\n;x=1"))
	cookie("cookie_name_is_trimmed_before_equals", cookies("coder_session_token =abc"))
	cookie("cookie_value_keeps_a_leading_space", cookies("coder_session_token= abc"))
	cookie("cookie_value_keeps_spaces_around_the_equals_gap", cookies("coder_session_token = abc"))
	cookie("quoted_cookie_value_keeps_its_spaces", cookies(`coder_session_token=" abc "`))
	cookie("no_break_space_before_a_cookie_is_not_trimmed", cookies("\u00a0coder_session_token=abc"))
	cookie("vertical_tab_before_a_cookie_is_not_trimmed", cookies("\vcoder_session_token=abc"))
	cookie("tab_inside_quotes_is_invalid", cookies("coder_session_token=\"abc\t\""))

	// Space and comma anywhere in a value.
	cookie("space_and_comma_inside_a_cookie_value", cookies("coder_session_token=a,b c"))
	cookie("commas_at_the_ends_of_a_quoted_cookie_value", cookies(`coder_session_token=",abc,"`))
	cookie("commas_at_the_ends_of_a_bare_cookie_value", cookies("coder_session_token=,abc, ; x=1"))
	cookie("commas_and_spaces_at_the_ends_of_a_bare_cookie_value", cookies("coder_session_token=,a b, ; x=1"))

	// The cookie limit: ';' + 1 per Cookie header, over all of them.
	cookie("cookie_limit_3000_in_one_header_is_kept", cookies("coder_session_token=abc"+strings.Repeat(";", 2999)))
	cookie("cookie_limit_3001_in_one_header_means_no_cookies", cookies("coder_session_token=abc"+strings.Repeat(";", 3000)))
	cookie("cookie_limit_3000_across_two_headers_is_kept", cookies("a=1", "coder_session_token=abc"+strings.Repeat(";", 2998)))
	cookie("cookie_limit_3001_across_two_headers_falls_through", with(cookies("a=1", "coder_session_token=abc"+strings.Repeat(";", 2999)), fromHeader))
	cookie("cookie_limit_counts_an_empty_cookie_header", cookies("", "coder_session_token=abc"+strings.Repeat(";", 2999)))
	cookie("cookie_limit_ignores_other_headers", []header{{"X-Other", strings.Repeat(";", 3000)}, {"Cookie", "coder_session_token=abc"}})

	// Query values: QueryUnescape, '+' is a space.
	query("query_percent_escape_is_decoded", nil, "coder_session_token=abc%2Ddef")
	query("query_plus_is_space_and_escaped_plus_is_plus", nil, "coder_session_token=a+b%2Bc")
	query("query_escape_hex_digits_are_case_insensitive", nil, "coder_session_token=%c3%A9")
	query("query_escaped_semicolon_is_kept", nil, "coder_session_token=abc%3Bdef")
	query("query_escaped_ampersand_is_kept", nil, "coder_session_token=a%26b")
	query("query_raw_non_ascii_is_kept", nil, "coder_session_token=caf\u00e9")
	query("query_value_is_cut_at_the_first_equals", nil, "coder_session_token=a=b")
	query("query_key_is_unescaped_before_comparison", nil, "coder%5Fsession%5ftoken=x")
	query("access_token_key_is_unescaped_and_its_value_trimmed", nil, "access%5Ftoken=+y+")
	query("query_key_with_an_escaped_equals_is_another_key", nil, "coder_session_token%3Dx=y")
	query("query_empty_pairs_are_skipped", nil, "&&coder_session_token=a&&")
	query("query_pair_with_an_empty_key_is_another_key", nil, "=x&coder_session_token=y")
	query("query_key_without_equals_is_empty_and_hides_a_later_one", nil, "coder_session_token&coder_session_token=later")
	query("query_empty_first_value_falls_through_to_the_header", []header{fromHeader}, "coder_session_token=&coder_session_token=later")
	query("query_keys_are_case_sensitive", nil, "Coder_Session_Token=a&ACCESS_TOKEN=b")
	query("query_value_is_not_trimmed", nil, "coder_session_token=+tok+")
	query("query_ideographic_space_is_kept", nil, "coder_session_token=%E3%80%80")
	query("query_escaped_nul_is_a_token", nil, "coder_session_token=%00")
	query("query_hash_is_an_ordinary_byte", nil, "coder_session_token=a#b")
	query("query_value_of_only_spaces_is_a_token", nil, "coder_session_token=%20%20")

	// A pair holding ';' is skipped.
	query("query_pair_with_a_semicolon_is_skipped", nil, "coder_session_token=a;b")
	query("query_semicolon_separator_is_not_a_separator", nil, "x=1;coder_session_token=abc")
	query("query_semicolon_pair_lets_a_later_value_be_first", nil, "coder_session_token=a;b&coder_session_token=second")
	query("access_token_semicolon_pair_lets_a_later_value_be_first", nil, "access_token=a;b&access_token=c")
	query("query_semicolon_in_another_pair_does_not_matter", nil, "a=1;b&coder_session_token=x")

	// A pair with a malformed escape is skipped.
	for _, bad := range []struct{ what, value string }{
		{"lone_percent", "%"},
		{"one_hex_digit", "%4"},
		{"non_hex_digits", "%zz"},
		{"non_hex_first_digit", "%G1"},
		{"trailing_percent", "abc%"},
		{"double_percent", "%%41"},
		{"percent_after_an_escape", "%41%"},
		{"unicode_style_escape", "%u0041"},
	} {
		query("query_value_with_"+bad.what+"_is_skipped", nil, "coder_session_token="+bad.value)
		query("query_value_with_"+bad.what+"_lets_a_later_value_be_first", nil, "coder_session_token="+bad.value+"&coder_session_token=good")
	}
	query("query_key_with_a_malformed_escape_is_skipped", nil, "coder_session_token%=bad&coder_session_token=good")
	query("malformed_escape_in_another_pair_does_not_matter", nil, "x=%zz&coder_session_token=a")
	query("access_token_with_a_malformed_escape_is_skipped", nil, "access_token=%zz&access_token=ok")

	// Unescaped bytes that are not UTF-8: Go keeps them; the vectors hold U+FFFD per maximal
	// invalid subsequence (see lossy).
	query("query_invalid_byte_is_a_replacement_character", nil, "coder_session_token=%FF")
	query("query_two_invalid_bytes_are_two_replacement_characters", nil, "coder_session_token=%FF%FE")
	query("query_truncated_sequence_is_one_replacement_character", nil, "coder_session_token=%E2%82x")
	query("query_invalid_byte_then_truncated_sequence", nil, "coder_session_token=%FF%E2%82x")
	query("query_invalid_first_value_still_counts", []header{fromHeader}, "coder_session_token=%FFabc&coder_session_token=good")
	query("access_token_invalid_byte_is_kept_after_trimming", nil, "access_token=%20%FF%20")
	query("query_overlong_encoding_is_two_replacement_characters", nil, "coder_session_token=%C0%AF")
	query("query_encoded_surrogate_is_three_replacement_characters", nil, "coder_session_token=%ED%A0%80")
	query("query_truncated_four_byte_sequence_is_one_replacement_character", nil, "coder_session_token=%F0%9F%98")
	query("query_code_point_above_u10ffff_is_four_replacement_characters", nil, "coder_session_token=%F4%90%80%80")
	query("query_lone_continuation_byte_is_a_replacement_character", nil, "coder_session_token=%80")
	query("query_valid_four_byte_sequence_then_invalid_byte", nil, "coder_session_token=%F0%9F%98%80%FF")
	query("query_key_with_an_invalid_byte_is_another_key", nil, "%FF=x")

	// The parameter limit: '&' + 1.
	query("query_limit_10000_parameters_is_kept", nil, "coder_session_token=abc"+strings.Repeat("&", 9999))
	query("query_limit_10001_parameters_means_no_parameters", nil, "coder_session_token=abc"+strings.Repeat("&", 10000))
	query("query_limit_applies_to_access_token", nil, "access_token=abc"+strings.Repeat("&", 10000))
	query("query_limit_exceeded_falls_through_to_the_header", []header{fromHeader}, "coder_session_token=abc"+strings.Repeat("&", 10000))
	query("query_limit_ignores_semicolons", nil, "coder_session_token=abc&"+strings.Repeat(";", 10000))

	// Trimming of Bearer and access_token: Go's strings.TrimSpace (Unicode White_Space).
	bearer("bearer_is_trimmed_of_unicode_white_space", "Bearer \u00a0tok\u3000", "")
	bearer("bearer_is_trimmed_of_line_separators_and_nel", "Bearer \u2028tok\u0085\u2009", "")
	bearer("bearer_is_trimmed_of_ascii_white_space", "Bearer \ttok\t\r\n", "")
	bearer("bearer_zero_width_space_is_not_white_space", "Bearer \u200btok", "")
	bearer("bearer_of_unicode_white_space_only_hides_access_token", "Bearer \u3000", "access_token=valid")
	bearer("bearer_then_tab_falls_through_to_access_token", "Bearer\ttok", "access_token=fallback")
	bearer("bearer_then_no_break_space_falls_through_to_access_token", "Bearer\u00a0tok", "access_token=fallback")
	bearer("kelvin_sign_does_not_spell_bearer", "B\u212aarer tok", "access_token=fallback")
	bearer("multibyte_character_across_the_prefix_is_not_bearer", "bearer\u00e9x", "access_token=fallback")
	query("access_token_is_trimmed_of_unicode_white_space", nil, "access_token=%E3%80%80tok%C2%A0")
	query("access_token_zero_width_space_is_kept", nil, "access_token=%E2%80%8Btok")
	query("access_token_of_spaces_only_is_no_token", nil, "access_token=+++")
	query("access_token_of_ideographic_space_only_is_no_token", nil, "access_token=%E3%80%80")
	return cs
}

// lossy is Rust's String::from_utf8_lossy: each maximal subpart of an ill-formed sequence
// (Unicode §3.9, "U+FFFD Substitution of Maximal Subparts") becomes one U+FFFD. Go's range loop
// and strings.ToValidUTF8 group invalid bytes differently, so this is spelled out.
func lossy(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n > 1 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		b.WriteRune(utf8.RuneError)
		i += maximalSubpart(s[i:])
	}
	return b.String()
}

// maximalSubpart is the length of the longest prefix of s that starts a well-formed UTF-8
// sequence (Unicode Table 3-7), at least 1; s starts with an ill-formed sequence.
func maximalSubpart(s string) int {
	lead := s[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF) // the range of the second byte
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		need = 1
	case lead == 0xE0:
		need, lo = 2, 0xA0
	case lead >= 0xE1 && lead <= 0xEC, lead == 0xEE, lead == 0xEF:
		need = 2
	case lead == 0xED:
		need, hi = 2, 0x9F
	case lead == 0xF0:
		need, lo = 3, 0x90
	case lead >= 0xF1 && lead <= 0xF3:
		need = 3
	case lead == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		if s[n] < lo || s[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}

func extractVectorFile(goVersion string, cs []extractCase) []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	b.WriteString("  \"schema\": \"tokenward-vectors/1\",\n")
	b.WriteString("  \"kind\": \"extract_grammar\",\n")
	fmt.Fprintf(&b, "  \"description\": %s,\n", jsonString("Which token a request carries, on inputs for Go's cookie grammar "+
		"(Request.Cookie, httpcookiemaxnum 3000) and query grammar (url.ParseQuery, urlmaxqueryparams 10000), "+
		"taken in Coder's APITokenFromRequest order. Written by gocheck from real *http.Request values; "+
		"unescaped query bytes that are not UTF-8 are given as U+FFFD per maximal invalid subsequence."))
	fmt.Fprintf(&b, "  \"go_version\": %s,\n", jsonString(goVersion))
	b.WriteString("  \"cases\": [\n")
	seen := map[string]bool{}
	for i, c := range cs {
		if seen[c.name] {
			fail("duplicate case name %s", c.name)
		}
		seen[c.name] = true
		token, source, ok := answer(c)
		expect, src := "null", "null"
		if ok {
			expect, src = jsonString(lossy(token)), jsonString(source)
		}
		var hs []string
		for _, h := range c.headers {
			hs = append(hs, "["+jsonString(h[0])+", "+jsonString(h[1])+"]")
		}
		fmt.Fprintf(&b, "    {\n      \"name\": %s,\n      \"spec\": %s,\n      \"headers\": [%s],\n      \"query\": %s,\n      \"expect\": %s,\n      \"source\": %s\n    }%s\n",
			jsonString(c.name), jsonString(c.spec), strings.Join(hs, ", "), jsonString(c.query), expect, src, comma(i, len(cs)))
	}
	b.WriteString("  ]\n}\n")
	if !json.Valid(b.Bytes()) {
		fail("generated %s is not valid JSON", extractVectorPath)
	}
	return b.Bytes()
}

// limitsApply says whether this Go, under this go.mod and environment, has the cookie and query
// parameter limits Coder's server runs with. Older releases (before 1.25.2 and 1.25.6) and a
// GODEBUG override answer otherwise.
func limitsApply() (bool, string) {
	over := extractCase{name: "probe", headers: cookies("coder_session_token=abc" + strings.Repeat(";", 3000))}
	if _, _, ok := answer(over); ok {
		return false, "no limit of 3000 cookies (httpcookiemaxnum)"
	}
	at := extractCase{name: "probe", headers: cookies("coder_session_token=abc" + strings.Repeat(";", 2999))}
	if _, _, ok := answer(at); !ok {
		return false, "a limit below 3000 cookies (httpcookiemaxnum)"
	}
	over = extractCase{name: "probe", query: "coder_session_token=abc" + strings.Repeat("&", 10000)}
	if _, _, ok := answer(over); ok {
		return false, "no limit of 10000 query parameters (urlmaxqueryparams)"
	}
	at = extractCase{name: "probe", query: "coder_session_token=abc" + strings.Repeat("&", 9999)}
	if _, _, ok := answer(at); !ok {
		return false, "a limit below 10000 query parameters (urlmaxqueryparams)"
	}
	return true, ""
}

func runExtract(check bool) {
	path := filepath.Join(repoRoot(), filepath.FromSlash(extractVectorPath))

	goVersion := runtime.Version()
	if ok, why := limitsApply(); !ok {
		if check {
			// Without Coder's limits the answers differ; only a Go that has them may check.
			fmt.Printf("skipped: this %s has %s, unlike the Go that wrote %s (tests/vectors/README.md)\n", goVersion, why, extractVectorPath)
			return
		}
		fail("this %s has %s; use Go 1.25.6 or later without a GODEBUG override", goVersion, why)
	}
	if check {
		if old := recordedField(path, "go_version"); old != "" {
			// Another release that gives the same answers still checks.
			goVersion = old
		}
	}

	cs := extractCases()
	want := extractVectorFile(goVersion, cs)
	if check {
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			fail("out of date with tests/vectors/gocheck: %s (run: go -C tests/vectors/gocheck run .)", extractVectorPath)
		}
		fmt.Printf("checked %s: %s, %d cases\n", extractVectorPath, goVersion, len(cs))
		return
	}
	if err := os.WriteFile(path, want, 0o644); err != nil {
		fail("%v", err)
	}
	fmt.Printf("wrote %s: %s, %d cases\n", extractVectorPath, goVersion, len(cs))
}
