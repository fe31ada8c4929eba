// The `%q` half of gocheck: tests/vectors/quote.json (the code points unicode.IsPrint rejects,
// and strconv.Quote on chosen strings) and the Rust table src/gofmt/unprintable.rs built from
// the same ranges.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	quoteVectorPath = "tests/vectors/quote.json"
	quoteTablePath  = "src/gofmt/unprintable.rs"
	quoteSpec       = "§4.1 §4.2 §6 (Go strconv.Quote)"
)

// span is an inclusive run of code points.
type span struct{ lo, hi rune }

// unprintable lists the maximal runs of code points unicode.IsPrint rejects, surrogates left out
// because a Rust char cannot hold one.
func unprintable() []span {
	var out []span
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.IsPrint(r) || isSurrogate(r) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].hi == r-1 {
			out[n-1].hi = r
		} else {
			out = append(out, span{r, r})
		}
	}
	return out
}

// checkAssumptions stops the generator if strconv.Quote stops following unicode.IsPrint, since
// the Rust side escapes exactly the code points in the ranges.
func checkAssumptions() {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if isSurrogate(r) {
			continue
		}
		if strconv.IsPrint(r) != unicode.IsPrint(r) {
			fail("strconv.IsPrint and unicode.IsPrint disagree on U+%04X", r)
		}
		raw := strconv.Quote(string(r)) == `"`+string(r)+`"`
		if r != '"' && r != '\\' && raw != unicode.IsPrint(r) {
			fail("strconv.Quote keeps U+%04X raw=%v but IsPrint=%v", r, raw, unicode.IsPrint(r))
		}
	}
}

type quoteCase struct{ name, input string }

// cases are the strings whose strconv.Quote goes into the vector file.
func quoteCases(ranges []span) []quoteCase {
	cs := []quoteCase{
		{"empty_string", ""},
		{"plain_scope_name", "workspace:fly"},
		{"space_is_printable", " "},
		{"double_quote_and_backslash_are_escaped", `a"b\c`},
		{"single_quote_and_backtick_are_kept", "it's `x`"},
		{"named_control_escapes", "\a\b\f\n\r\t\v"},
		{"nul_is_a_hex_escape", "\x00"},
		{"other_ascii_controls_are_hex_escapes", "\x01\x0e\x1b\x1f"},
		{"tilde_is_printable", "~"},
		{"del_is_a_hex_escape", "\x7f"},
		{"c1_controls_are_u_escapes", "\u0080\u0085\u009f"},
		{"no_break_space_is_escaped", "\u00a0"},
		{"inverted_exclamation_after_no_break_space_is_kept", "\u00a1"},
		{"soft_hyphen_is_escaped", "\u00ad"},
		{"latin_accents_are_kept", "héllo Ünïcödé"},
		{"greek_before_unassigned_u0378_is_kept", "\u0377"},
		{"unassigned_u0378_is_escaped", "\u0378"},
		{"arabic_number_sign_format_is_escaped", "\u0600"},
		{"arabic_pound_mark_above_u0890_is_escaped", "\u0890"},
		{"arabic_letter_u0891_format_is_escaped", "\u0891"},
		{"zero_width_characters_are_escaped", "\u200b\u200c\u200d\u200e\u200f"},
		{"line_and_paragraph_separators_are_escaped", "\u2028\u2029"},
		{"narrow_no_break_space_is_escaped", "\u202f"},
		{"word_joiner_is_escaped", "\u2060"},
		{"ideographic_space_is_escaped", "\u3000"},
		{"hangul_jamo_ud7fb_is_kept", "\ud7fb"},
		{"unassigned_ud7ff_before_surrogates_is_escaped", "\ud7ff"},
		{"private_use_ue000_is_escaped", "\ue000"},
		{"private_use_uf8ff_is_escaped", "\uf8ff"},
		{"cjk_compatibility_uf900_is_kept", "\uf900"},
		{"noncharacter_ufdd0_is_escaped", "\ufdd0"},
		{"noncharacter_ufdef_is_escaped", "\ufdef"},
		{"arabic_ligature_ufdf0_is_kept", "\ufdf0"},
		{"byte_order_mark_is_escaped", "\ufeff"},
		{"interlinear_annotation_is_escaped", "\ufff9"},
		{"replacement_character_is_kept", "\ufffd"},
		{"noncharacters_ufffe_uffff_are_escaped", "\ufffe\uffff"},
		{"linear_b_u10000_is_kept", "\U00010000"},
		{"kaithi_number_sign_u110bd_is_escaped", "\U000110bd"},
		{"egyptian_hieroglyph_format_u13430_is_escaped", "\U00013430"},
		{"musical_symbol_begin_beam_u1d173_is_escaped", "\U0001d173"},
		{"noncharacter_u1fffe_is_escaped", "\U0001fffe"},
		{"cjk_extension_b_u20000_is_kept", "\U00020000"},
		{"language_tag_ue0001_is_escaped", "\U000e0001"},
		{"tag_characters_are_escaped", "\U000e0020\U000e007f"},
		{"variation_selector_ue0100_is_kept", "\U000e0100"},
		{"supplementary_private_use_is_escaped", "\U000f0000\U0010fffd"},
		{"max_rune_u10ffff_is_escaped", "\U0010ffff"},
		{"emoji_is_kept", "😀"},
		{"emoji_zwj_sequence_escapes_the_joiner", "👩\u200d💻"},
		{"flag_of_regional_indicators_is_kept", "🇫🇷"},
		{"emoji_variation_selector_is_kept", "❤\ufe0f"},
		{"cjk_is_kept", "世界"},
		{"combining_acute_after_a_letter_is_kept", "e\u0301"},
		{"lone_combining_grave_is_kept", "\u0300"},
		{"devanagari_conjunct_is_kept", "क्ष"},
		{"token_name_with_trailing_newline", "my-token\n"},
		{"url_in_resource_metadata", "https://coder.example.com/.well-known/oauth-protected-resource"},
		{"mixed_string", "name\twith \"quotes\", é, 世界, 😀 and \x00\u200b\U000e0001\\"},
	}
	// The edges of several ranges: the last printable code point before, the first and last
	// escaped ones, and the first printable one after (none where a surrogate or the end is).
	for _, at := range []rune{0x00, 0x0378, 0x0890, 0x2028, 0xd7fc, 0xfdd0, 0x110bd, 0x13430, 0x1d173, 0xe0001, 0xf0000} {
		s := rangeAt(ranges, at)
		name := fmt.Sprintf("unprintable_range_of_u%04x", at)
		if s.lo > 0 && !isSurrogate(s.lo-1) {
			cs = append(cs, quoteCase{"before_" + name, string(s.lo - 1)})
		}
		cs = append(cs, quoteCase{"start_of_" + name, string(s.lo)}, quoteCase{"end_of_" + name, string(s.hi)})
		if s.hi < unicode.MaxRune && !isSurrogate(s.hi+1) {
			cs = append(cs, quoteCase{"after_" + name, string(s.hi + 1)})
		}
	}
	return cs
}

func isSurrogate(r rune) bool { return r >= 0xD800 && r <= 0xDFFF }

func rangeAt(ranges []span, r rune) span {
	for _, s := range ranges {
		if s.lo <= r && r <= s.hi {
			return s
		}
	}
	fail("U+%04X is printable", r)
	return span{}
}

func quoteVectorFile(goVersion string, ranges []span, cs []quoteCase) []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	b.WriteString("  \"schema\": \"tokenward-vectors/1\",\n")
	b.WriteString("  \"kind\": \"quote\",\n")
	fmt.Fprintf(&b, "  \"description\": %s,\n", jsonString("Go's strconv.Quote, which is fmt's %q, as Coder's error details use it; "+
		"unprintable lists the code points unicode.IsPrint rejects (surrogates left out). Written by gocheck from Go itself."))
	fmt.Fprintf(&b, "  \"go_version\": %s,\n", jsonString(goVersion))
	fmt.Fprintf(&b, "  \"unicode_version\": %s,\n", jsonString(unicode.Version))
	b.WriteString("  \"unprintable\": [\n")
	for i, s := range ranges {
		fmt.Fprintf(&b, "    [%d, %d]%s\n", s.lo, s.hi, comma(i, len(ranges)))
	}
	b.WriteString("  ],\n")
	b.WriteString("  \"cases\": [\n")
	seen := map[string]bool{}
	for i, c := range cs {
		if seen[c.name] {
			fail("duplicate case name %s", c.name)
		}
		seen[c.name] = true
		if !utf8.ValidString(c.input) {
			fail("%s: input is not UTF-8", c.name)
		}
		quoted := strconv.Quote(c.input)
		if quoted != fmt.Sprintf("%q", c.input) {
			fail("%s: strconv.Quote and %%q differ", c.name)
		}
		fmt.Fprintf(&b, "    {\n      \"name\": %s,\n      \"spec\": %s,\n      \"input\": %s,\n      \"quoted\": %s\n    }%s\n",
			jsonString(c.name), jsonString(quoteSpec), jsonString(c.input), jsonString(quoted), comma(i, len(cs)))
	}
	b.WriteString("  ]\n}\n")
	if !json.Valid(b.Bytes()) {
		fail("generated %s is not valid JSON", quoteVectorPath)
	}
	return b.Bytes()
}

func rustTable(goVersion string, ranges []span) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Generated by tests/vectors/gocheck from %s (Unicode %s); do not edit.\n", goVersion, unicode.Version)
	b.WriteString("// Regenerate from the repository root: go -C tests/vectors/gocheck run .\n\n")
	b.WriteString("/// The code points Go's `unicode.IsPrint` rejects, as sorted, disjoint, inclusive ranges\n")
	b.WriteString("/// (surrogates left out: no `char` holds one).\n")
	b.WriteString("#[rustfmt::skip]\n")
	b.WriteString("pub(super) const UNPRINTABLE: &[(u32, u32)] = &[\n")
	for _, s := range ranges {
		fmt.Fprintf(&b, "    (0x%04X, 0x%04X),\n", s.lo, s.hi)
	}
	b.WriteString("];\n")
	return b.Bytes()
}

func runQuote(check bool) {
	root := repoRoot()
	abs := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }

	goVersion := runtime.Version()
	if check {
		oldGo, oldUnicode := recordedField(abs(quoteVectorPath), "go_version"), recordedField(abs(quoteVectorPath), "unicode_version")
		if oldUnicode != "" && oldUnicode != unicode.Version {
			// Another Unicode version gives other answers; only a deliberate regeneration may change them.
			fmt.Printf("skipped: %s was written with Unicode %s, this %s has %s\n", quoteVectorPath, oldUnicode, goVersion, unicode.Version)
			return
		}
		if oldGo != "" {
			// The same Unicode tables give the same answers, so another Go patch release still checks.
			goVersion = oldGo
		}
	}

	checkAssumptions()
	ranges := unprintable()
	cs := quoteCases(ranges)
	want := map[string][]byte{
		quoteVectorPath: quoteVectorFile(goVersion, ranges, cs),
		quoteTablePath:  rustTable(goVersion, ranges),
	}
	var stale []string
	for _, p := range []string{quoteVectorPath, quoteTablePath} {
		if check {
			if got, err := os.ReadFile(abs(p)); err != nil || !bytes.Equal(got, want[p]) {
				stale = append(stale, p)
			}
			continue
		}
		if err := os.WriteFile(abs(p), want[p], 0o644); err != nil {
			fail("%v", err)
		}
	}
	if len(stale) > 0 {
		fail("out of date with tests/vectors/gocheck: %s (run: go -C tests/vectors/gocheck run .)", strings.Join(stale, ", "))
	}
	verb := "wrote"
	if check {
		verb = "checked"
	}
	fmt.Printf("%s %s and %s: %s, Unicode %s, %d unprintable ranges, %d cases\n",
		verb, quoteVectorPath, quoteTablePath, goVersion, unicode.Version, len(ranges), len(cs))
}
