#!/usr/bin/env python3
"""Generate tokenward's cross-language conformance vectors (tests/vectors/*.json).

Every expected value below is written by hand from docs/compatibility.md
("Fine points, decided"); nothing here runs or reads tokenward's code. SHA-256 digests come
from Python's hashlib and time arithmetic from Python's datetime.

As a second line of defence, each file's hand-written expectations are re-derived by a small
reference model of docs/compatibility.md written in this script (the `model_*` functions) and the script
refuses to write anything if the two disagree.

Run from the repository root:  python3 tests/vectors/generate.py
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

SCHEMA = "tokenward-vectors/1"
OUT = Path(__file__).resolve().parent

UTC = timezone.utc
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

NS = 1
US = 1_000
MS = 1_000_000
S = 1_000_000_000
MIN = 60 * S
H = 60 * MIN
D = 24 * H
Y = 8760 * H
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)

SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."
WWW_EXPIRED = 'Bearer realm="coder", error="invalid_token", error_description="The access token has expired"'
MISSING_DETAIL = 'Cookie "coder_session_token" or query parameter must be provided.'


# --------------------------------------------------------------------------------------------
# Small shared helpers (encodings only; no rules)
# --------------------------------------------------------------------------------------------

def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_ts(text: str) -> datetime:
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z", text)
    if not m:
        raise ValueError(f"bad timestamp {text!r}")
    y, mo, d, h, mi, s, frac = m.groups()
    us = int((frac or "0").ljust(6, "0"))
    return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), us, tzinfo=UTC)


def fmt_ts(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    out = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if dt.microsecond:
        out += "." + f"{dt.microsecond:06d}".rstrip("0")
    return out + "Z"


def check_ts_encoding(text: str) -> None:
    """Every timestamp in the vectors must already be in the canonical encoding."""
    if fmt_ts(parse_ts(text)) != text:
        raise AssertionError(f"timestamp not canonical: {text!r}")


def go_quote(s: str) -> str:
    """Go's %q (strconv.Quote) for the printable strings used in these vectors."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        else:
            raise AssertionError("go_quote: unhandled character")
    out.append('"')
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Reference model of docs/compatibility.md (used only to cross-check the hand-written expectations)
# --------------------------------------------------------------------------------------------

def model_split(token: str):
    """§1 SplitAPIToken: split on every '-', lengths in UTF-8 bytes."""
    parts = token.split("-")
    if len(parts) != 2:
        return {"error": f"incorrect amount of API key parts, expected 2 got {len(parts)}"}
    ident, secret = parts
    if len(ident.encode()) != 10:
        return {"error": f"invalid API key ID length, expected 10 got {len(ident.encode())}"}
    if len(secret.encode()) != 22:
        return {"error": f"invalid API key secret length, expected 22 got {len(secret.encode())}"}
    return {"id": ident, "secret": secret}


def model_strict(token: str) -> bool:
    r = model_split(token)
    return "error" not in r and all(c in ALPHABET for c in r["id"] + r["secret"])


def model_canonical_ip(text: str) -> str:
    """fine points: a bare IP printed bare; anything else 0.0.0.0."""
    if "%" in text:  # zones are not bare IPs (Python would accept them)
        return "0.0.0.0"
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return "0.0.0.0"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if isinstance(ip, ipaddress.IPv6Address):
        # Python prints mapped addresses specially; others are RFC 5952 compressed already.
        return ip.compressed
    return str(ip)


def model_go_time_string(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    out = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d} {dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if dt.microsecond:
        out += "." + f"{dt.microsecond:06d}".rstrip("0")
    return out + " +0000 UTC"


DEFAULT_SETTINGS = {
    "session_duration": "24h",
    "disable_session_expiry_refresh": False,
    "default_token_lifetime": "168h",
    "max_token_lifetime": "876600h",
    "max_admin_token_lifetime": "168h",
    "api_keys_retention": "7d",
    "access_url": None,
}


def model_settings(partial: dict) -> dict:
    unknown = set(partial) - set(DEFAULT_SETTINGS)
    if unknown:
        raise AssertionError(f"unknown settings fields {unknown}")
    s = dict(DEFAULT_SETTINGS)
    s.update(partial)
    return s


def model_www_authenticate(settings: dict) -> str:
    value = WWW_EXPIRED
    if settings["access_url"] is not None:
        base = settings["access_url"].rstrip("/")
        value += ", resource_metadata=" + go_quote(base + "/.well-known/oauth-protected-resource")
    return value


def model_check(case: dict) -> dict:
    settings = model_settings(case["settings"])
    now = parse_ts(case["now"])

    def reject(code: str, detail: str) -> dict:
        return {"rejection": {"code": code, "status": 401, "message": SIGNED_OUT, "detail": detail,
                              "www_authenticate": model_www_authenticate(settings)}}

    presented = case["presented"]
    if presented == "":
        return reject("missing", MISSING_DETAIL)
    split = model_split(presented)
    if "error" in split:
        return reject("malformed", "Invalid API key format: " + split["error"])
    rec = case["record"]
    if rec is None or rec["id"] != split["id"]:
        return reject("unknown_key", "API key is invalid.")
    if bytes.fromhex(rec["hashed_secret"]) != hashlib.sha256(split["secret"].encode()).digest():
        return reject("invalid_secret", "API key secret is invalid.")
    expires_at = parse_ts(rec["expires_at"])
    if expires_at < now:
        return reject("expired", f'API key expired at "{model_go_time_string(expires_at)}".')

    last_used = parse_ts(rec["last_used"])
    ip = rec["ip_address"]
    changed = False
    if now - last_used > timedelta(hours=1):
        last_used = now
        ip = model_canonical_ip(case["remote_addr"])
        changed = True
    lifetime = rec["lifetime_seconds"]
    if (not settings["disable_session_expiry_refresh"] and rec["login_type"] != "token"
            and lifetime > 0
            and expires_at - now <= timedelta(seconds=lifetime) - timedelta(hours=1)):
        expires_at = now + timedelta(seconds=lifetime)
        changed = True
    if not changed:
        return {"verified": {"update": None}}
    return {"verified": {"update": {"last_used": fmt_ts(last_used), "expires_at": fmt_ts(expires_at),
                                    "ip_address": ip}}}


GO_UNITS = {"ns": NS, "us": US, "µs": US, "μs": US, "ms": MS, "s": S, "m": MIN, "h": H,
            "d": D, "y": Y}


def model_go_duration_quote(s: str) -> str:
    out = '"'
    for ch in s:
        if ord(ch) >= 0x80 or ord(ch) < 0x20:
            out += "".join(f"\\x{b:02x}" for b in ch.encode())
        else:
            out += ("\\" + ch) if ch in '"\\' else ch
    return out + '"'


def model_parse_duration(orig: str):
    """Go's time.ParseDuration, transcribed, with the extra units d and y."""
    b = orig.encode()
    pos = 0

    def err(msg):
        return {"error": "time: " + msg + " " + model_go_duration_quote(orig)}

    neg = False
    if b[:1] in (b"-", b"+"):
        neg = b[:1] == b"-"
        pos = 1
    if b[pos:] == b"0":
        return {"nanos": 0}
    if b[pos:] == b"":
        return err("invalid duration")
    total = 0
    while pos < len(b):
        c = b[pos]
        if not (c == ord(".") or ord("0") <= c <= ord("9")):
            return err("invalid duration")
        v = 0
        start = pos
        while pos < len(b) and ord("0") <= b[pos] <= ord("9"):
            if v > (1 << 63) // 10:
                return err("invalid duration")
            v = v * 10 + b[pos] - ord("0")
            if v > 1 << 63:
                return err("invalid duration")
            pos += 1
        pre = pos != start
        post = False
        f, scale = 0, 1.0
        if pos < len(b) and b[pos] == ord("."):
            pos += 1
            start = pos
            overflow = False
            while pos < len(b) and ord("0") <= b[pos] <= ord("9"):
                if not overflow:
                    if f > (2**63 - 1) // 10:
                        overflow = True
                    else:
                        y = f * 10 + b[pos] - ord("0")
                        if y > 1 << 63:
                            overflow = True
                        else:
                            f = y
                            scale *= 10
                pos += 1
            post = pos != start
        if not pre and not post:
            return err("invalid duration")
        start = pos
        while pos < len(b) and not (b[pos] == ord(".") or ord("0") <= b[pos] <= ord("9")):
            pos += 1
        if pos == start:
            return err("missing unit in duration")
        u = b[start:pos].decode("utf-8", errors="surrogateescape")
        if u not in GO_UNITS:
            return err("unknown unit " + model_go_duration_quote(u) + " in duration")
        unit = GO_UNITS[u]
        if v > (1 << 63) // unit:
            return err("invalid duration")
        v *= unit
        if f > 0:
            v += int(float(f) * (float(unit) / scale))
            if v > 1 << 63:
                return err("invalid duration")
        total += v
        if total > 1 << 63:
            return err("invalid duration")
    if neg:
        return {"nanos": -total}
    if total > 2**63 - 1:
        return err("invalid duration")
    return {"nanos": total}


def model_format_duration(d: int) -> str:
    """Go's Duration.String, transcribed."""
    neg = d < 0
    u = -d if neg else d

    def frac(v: int, prec: int):
        digits = ""
        printed = False
        for _ in range(prec):
            digit = v % 10
            printed = printed or digit != 0
            if printed:
                digits = str(digit) + digits
            v //= 10
        return ("." + digits if printed else ""), v

    if u < S:
        if u == 0:
            return "0s"
        if u < US:
            out = f"{u}ns"
        elif u < MS:
            fr, whole = frac(u, 3)
            out = f"{whole}{fr}µs"
        else:
            fr, whole = frac(u, 6)
            out = f"{whole}{fr}ms"
    else:
        fr, secs = frac(u, 9)
        out = f"{secs % 60}{fr}s"
        mins = secs // 60
        if mins > 0:
            out = f"{mins % 60}m" + out
            hours = mins // 60
            if hours > 0:
                out = f"{hours}h" + out
    return ("-" if neg else "") + out


def model_extract(case: dict):
    """§5 plus fine points, written independently of Go's net/http."""
    headers = case["headers"]

    def header_first(name):
        for k, v in headers:
            if k.lower() == name.lower():
                return v
        return None

    def query_first(key):
        for pair in case["query"].split("&"):
            if pair == "":
                continue
            k, _, v = pair.partition("=")
            k, v = unescape(k), unescape(v)
            if k is None or v is None:
                continue
            if k == key:
                return v
        return None

    def unescape(s):
        out = bytearray()
        i = 0
        raw = s.encode()
        while i < len(raw):
            c = raw[i]
            if c == ord("%"):
                h = raw[i + 1:i + 3]
                if len(h) != 2 or not all(chr(x) in "0123456789abcdefABCDEF" for x in h):
                    return None
                out.append(int(h, 16))
                i += 3
            elif c == ord("+"):
                out.append(0x20)
                i += 1
            else:
                out.append(c)
                i += 1
        return out.decode("utf-8")

    def first_cookie(name):
        for k, line in headers:
            if k.lower() != "cookie":
                continue
            for part in line.split(";"):
                part = part.strip(" \t")
                if not part:
                    continue
                n, _, v = part.partition("=")
                if n.strip(" \t") == name:
                    return v
        return None

    v = first_cookie("coder_session_token")
    if v:
        return v
    v = query_first("coder_session_token")
    if v:
        return v
    v = header_first("Coder-Session-Token")
    if v:
        return v
    auth = header_first("Authorization") or ""
    if auth.lower().startswith("bearer "):
        rest = auth[7:].strip()  # str.strip() is Unicode White_Space for these inputs
        return rest or None
    v = (query_first("access_token") or "").strip()
    return v or None


EXTERNAL_SCOPES = (
    ["all", "application_connect", "coder:all", "coder:application_connect"]
    + [f"workspace:{a}" for a in ["read", "create", "update", "delete", "ssh", "start", "stop",
                                  "application_connect", "*"]]
    + [f"template:{a}" for a in ["read", "create", "update", "delete", "use", "*"]]
    + [f"api_key:{a}" for a in ["read", "create", "update", "delete", "*"]]
    + [f"file:{a}" for a in ["read", "create", "*"]]
    + [f"user:{a}" for a in ["read", "read_personal", "update_personal", "*"]]
    + [f"user_secret:{a}" for a in ["create", "read", "update", "delete", "*"]]
    + [f"task:{a}" for a in ["create", "read", "update", "delete", "*"]]
    + [f"organization:{a}" for a in ["read", "update", "delete", "*"]]
    + ["coder:workspaces.create", "coder:workspaces.operate", "coder:workspaces.delete",
       "coder:workspaces.access", "coder:templates.build", "coder:templates.author",
       "coder:apikeys.manage_self"]
)


def model_scopes(case: dict):
    names = case["scopes"] if case["scopes"] else ([case["scope"]] if case["scope"] else ["coder:all"])
    out = []
    for n in names:
        if n not in EXTERNAL_SCOPES:
            return {"error": {"status": 400, "message": "Failed to create API key.",
                              "detail": "invalid or unsupported API key scope: " + go_quote(n)}}
        c = {"all": "coder:all", "application_connect": "coder:application_connect"}.get(n, n)
        if c not in out:
            out.append(c)
    legacy = ("application_connect" if "coder:application_connect" in out
              else "all" if "coder:all" in out else "")
    return {"scopes": out, "scope": legacy}


def model_lifetime(case: dict):
    st = model_settings(case["settings"])
    dur = lambda s: model_parse_duration(s)["nanos"]  # noqa: E731
    is_owner = "owner" in case["target_roles"]
    maximum = dur(st["max_admin_token_lifetime"] if is_owner else st["max_token_lifetime"])
    if case["max_token_lifetime_ns"] != maximum:
        raise AssertionError(f"{case['name']}: max_token_lifetime_ns")
    lifetime = case["lifetime_ns"]
    if lifetime == 0:
        lifetime = dur(st["default_token_lifetime"])
    elif lifetime < 0:
        return {"error": {"status": 400, "message": "Failed to validate create API key request.",
                          "detail": "lifetime must be positive number greater than 0"}}
    elif lifetime > maximum:
        return {"error": {"status": 400, "message": "Failed to validate create API key request.",
                          "detail": "lifetime must be less than " + model_format_duration(maximum)}}
    now = parse_ts(case["now"])
    micros = (lifetime + 500) // 1000  # nearest microsecond (no .5 ties are used)
    assert lifetime % 1000 != 500
    return {"expires_at": fmt_ts(now + timedelta(microseconds=micros)),
            "lifetime_seconds": lifetime // S}


# --------------------------------------------------------------------------------------------
# Keys used in the vectors (secrets hashed with hashlib)
# --------------------------------------------------------------------------------------------

class Key:
    def __init__(self, ident: str, secret: str):
        self.id, self.secret = ident, secret
        self.token = f"{ident}-{secret}"


K1 = Key("fJ8kQ2mN4p", "Zr7TqW3xLm9VbN2cK5dH8s")
K2 = Key("Q7vLx0aB3c", "mP4nR8sT2uV6wX0yZ1aB5c")
K3 = Key("Tok3nK3y01", "h2J9kL4mN7pQ1rS5tU8vW3")
K4 = Key("0000000000", "0000000000000000000000")
K5 = Key("zzzzzzzzzz", "ZZZZZZZZZZZZZZZZZZZZZZ")
FOREIGN = Key("!!!!!!!!!!", "_" * 22)
for _k in (K1, K2, K3, K4, K5):
    assert len(_k.id) == 10 and len(_k.secret) == 22
    assert all(c in ALPHABET for c in _k.id + _k.secret)


# --------------------------------------------------------------------------------------------
# parse.json
# --------------------------------------------------------------------------------------------

def parse_ok(name, spec, token, ident, secret, strict):
    return {"name": name, "spec": spec, "input": token, "expect": {"id": ident, "secret": secret},
            "strict": strict}


def parse_err(name, spec, token, error):
    return {"name": name, "spec": spec, "input": token, "expect": {"error": error}, "strict": False}


PARTS = "incorrect amount of API key parts, expected 2 got {}"
IDLEN = "invalid API key ID length, expected 10 got {}"
SECLEN = "invalid API key secret length, expected 22 got {}"

PARSE = [
    parse_ok("valid_token_splits_into_id_and_secret", "§1", K1.token, K1.id, K1.secret, True),
    parse_ok("valid_token_of_digits_only", "§1", K4.token, K4.id, K4.secret, True),
    parse_ok("valid_token_of_letters_only", "§1", K5.token, K5.id, K5.secret, True),
    parse_ok("valid_token_mixed_case_and_digits", "§1", K3.token, K3.id, K3.secret, True),
    parse_err("three_parts_rejected_test_wow_hello", "§9.9", "test-wow-hello", PARTS.format(3)),
    parse_err("short_id_rejected_test_wow", "§9.10", "test-wow", IDLEN.format(4)),
    parse_err("short_secret_rejected_testtestid_wow", "§9.11", "testtestid-wow", SECLEN.format(3)),
    parse_err("empty_string_is_one_part", "§1", "", PARTS.format(1)),
    parse_err("lone_hyphen_has_empty_id", "§1", "-", IDLEN.format(0)),
    parse_err("two_hyphens_make_three_parts", "§1", "--", PARTS.format(3)),
    parse_err("thirty_three_hyphens_make_thirty_four_parts", "§1", "-" * 33, PARTS.format(34)),
    parse_err("token_without_hyphen_is_one_part", "§1", K1.id + K1.secret + "x", PARTS.format(1)),
    parse_err("trailing_hyphen_makes_three_parts", "§1", K1.token + "-", PARTS.format(3)),
    parse_err("leading_hyphen_makes_three_parts", "§1", "-" + K1.token, PARTS.format(3)),
    parse_err("five_hyphens_make_six_parts", "§1", "a-b-c-d-e-f", PARTS.format(6)),
    parse_err("hyphen_inside_secret_makes_three_parts", "§1",
              "fJ8kQ2mN4p-Zr7TqW3xLm-9VbN2cK5dH8s", PARTS.format(3)),
    parse_err("empty_secret_after_valid_id", "§1", K1.id + "-", SECLEN.format(0)),
    parse_err("empty_id_before_valid_secret", "§1", "-" + K1.secret, IDLEN.format(0)),
    parse_err("id_of_eleven_characters", "§1", "fJ8kQ2mN4pX-" + K1.secret, IDLEN.format(11)),
    parse_err("id_of_nine_characters", "§1", "fJ8kQ2mN4-" + K1.secret, IDLEN.format(9)),
    parse_err("secret_of_twenty_one_characters", "§1", K1.id + "-" + K1.secret[:21], SECLEN.format(21)),
    parse_err("secret_of_twenty_three_characters", "§1", K1.token + "A", SECLEN.format(23)),
    parse_err("id_length_is_checked_before_secret_length", "§1", "abc-def", IDLEN.format(3)),
    parse_ok("multibyte_id_of_five_e_acute_is_ten_bytes", "§1 §10",
             "ééééé-" + K1.secret, "ééééé", K1.secret, False),
    parse_err("multibyte_id_of_ten_e_acute_is_twenty_bytes", "§1 §10",
              "é" * 10 + "-" + K1.secret, IDLEN.format(20)),
    parse_ok("multibyte_secret_of_eleven_e_acute_is_twenty_two_bytes", "§1 §10",
             K1.id + "-" + "é" * 11, K1.id, "é" * 11, False),
    parse_err("multibyte_secret_of_twenty_two_e_acute_is_forty_four_bytes", "§1 §10",
              K1.id + "-" + "é" * 22, SECLEN.format(44)),
    parse_ok("emoji_secret_counted_in_bytes", "§1 §10",
              K1.id + "-" + "😀" * 5 + "ab", K1.id, "😀" * 5 + "ab", False),
    parse_ok("mixed_ascii_and_multibyte_id_of_ten_bytes", "§1 §10",
             "ab" + "é" * 4 + "-" + K1.secret, "ab" + "é" * 4, K1.secret, False),
    parse_err("fullwidth_digits_id_counted_in_bytes", "§1 §10",
              "０１２３４-" + K1.secret, IDLEN.format(15)),
    parse_err("unicode_hyphen_is_not_a_separator", "§1", K1.id + "\u2010" + K1.secret, PARTS.format(1)),
    parse_err("en_dash_is_not_a_separator", "§1", K1.id + "\u2013" + K1.secret, PARTS.format(1)),
    parse_ok("foreign_characters_of_right_length_pass_plain_parse", "§1 §10",
             FOREIGN.token, FOREIGN.id, FOREIGN.secret, False),
    parse_ok("base64_padding_character_in_secret_passes_plain_parse", "§1",
             K1.id + "-" + K1.secret[:21] + "=", K1.id, K1.secret[:21] + "=", False),
    parse_ok("nul_characters_in_id_pass_plain_parse", "§1",
             "\u0000" * 10 + "-" + K1.secret, "\u0000" * 10, K1.secret, False),
    parse_ok("nul_character_inside_secret_passes_plain_parse", "§1",
             K1.id + "-" + K1.secret[:11] + "\u0000" + K1.secret[12:], K1.id,
             K1.secret[:11] + "\u0000" + K1.secret[12:], False),
    parse_ok("space_inside_id_of_right_length_passes_plain_parse", "§1",
             "fJ8k Q2mN4-" + K1.secret, "fJ8k Q2mN4", K1.secret, False),
    parse_ok("tab_inside_secret_of_right_length_passes_plain_parse", "§1",
             K1.id + "-" + K1.secret[:21] + "\t", K1.id, K1.secret[:21] + "\t", False),
    parse_err("leading_space_lengthens_the_id", "§1 §5", " " + K1.token, IDLEN.format(11)),
    parse_err("trailing_space_lengthens_the_secret", "§1 §5", K1.token + " ", SECLEN.format(23)),
    parse_err("trailing_crlf_lengthens_the_secret", "§1", K1.token + "\r\n", SECLEN.format(24)),
    parse_err("whitespace_only_is_one_part", "§1", "   ", PARTS.format(1)),
    parse_err("bearer_prefix_left_in_token_lengthens_the_id", "§1 §5",
              "Bearer " + K1.token, IDLEN.format(17)),
    parse_err("secret_of_one_thousand_characters", "§1", K1.id + "-" + "x" * 1000, SECLEN.format(1000)),
    parse_err("one_thousand_hyphens_make_one_thousand_and_one_parts", "§1", "-" * 1000, PARTS.format(1001)),
    parse_err("single_character_a", "§9.46", "a", PARTS.format(1)),
    parse_err("one_hundred_x_characters", "§9.46", "x" * 100, PARTS.format(1)),
    parse_err("invalid_token_1_has_three_parts", "§9.46", "invalid-token-1", PARTS.format(3)),
]


# --------------------------------------------------------------------------------------------
# hash.json
# --------------------------------------------------------------------------------------------

def digest_case(name, secret):
    return {"name": name, "spec": "§2", "secret": secret, "sha256": sha256_hex(secret)}


def cmp_case(name, secret, stored, matches):
    return {"name": name, "spec": "§2", "secret": secret, "stored": stored, "matches": matches}


def flip_first_bit(hexdigest: str) -> str:
    raw = bytearray.fromhex(hexdigest)
    raw[0] ^= 0x01
    return raw.hex()


def flip_last_bit(hexdigest: str) -> str:
    raw = bytearray.fromhex(hexdigest)
    raw[-1] ^= 0x80
    return raw.hex()


HASH = [
    digest_case("digest_of_empty_string", ""),
    digest_case("digest_of_abc", "abc"),
    digest_case("digest_of_key_one_secret", K1.secret),
    digest_case("digest_of_key_two_secret", K2.secret),
    digest_case("digest_of_token_key_secret", K3.secret),
    digest_case("digest_of_all_zero_digit_secret", K4.secret),
    digest_case("digest_of_all_upper_z_secret", K5.secret),
    digest_case("digest_of_underscore_secret", FOREIGN.secret),
    digest_case("digest_of_real_looking_secret_a", "aB3dE5fG7hJ9kL1mN3pQ5r"),
    digest_case("digest_of_real_looking_secret_b", "8Xy2Wq4Ev6Rt8Yu0Io2Pa4"),
    digest_case("digest_of_alphabet_prefix", ALPHABET[:22]),
    digest_case("digest_of_alphabet_suffix", ALPHABET[-22:]),
    digest_case("digest_of_multibyte_secret_uses_utf8_bytes", "é" * 11),
    digest_case("digest_of_whole_token_differs_from_secret_digest", K1.token),
    cmp_case("correct_digest_matches", K1.secret, sha256_hex(K1.secret), True),
    cmp_case("correct_digest_of_key_two_matches", K2.secret, sha256_hex(K2.secret), True),
    cmp_case("first_bit_flipped_does_not_match", K1.secret, flip_first_bit(sha256_hex(K1.secret)), False),
    cmp_case("last_bit_flipped_does_not_match", K1.secret, flip_last_bit(sha256_hex(K1.secret)), False),
    cmp_case("digest_of_a_different_secret_does_not_match", K1.secret, sha256_hex(K2.secret), False),
    cmp_case("digest_truncated_to_31_bytes_does_not_match", K1.secret, sha256_hex(K1.secret)[:62], False),
    cmp_case("digest_plus_zero_byte_does_not_match", K1.secret, sha256_hex(K1.secret) + "00", False),
    cmp_case("empty_stored_hash_does_not_match", K1.secret, "", False),
    cmp_case("empty_stored_hash_does_not_match_empty_secret", "", "", False),
    cmp_case("digest_of_whole_token_does_not_match", K1.secret, sha256_hex(K1.token), False),
    cmp_case("digest_of_id_does_not_match", K1.secret, sha256_hex(K1.id), False),
    cmp_case("all_zero_32_bytes_does_not_match", K1.secret, "00" * 32, False),
    cmp_case("sha512_length_value_does_not_match", K1.secret,
             hashlib.sha512(K1.secret.encode()).hexdigest(), False),
    cmp_case("digest_of_empty_secret_matches_empty_secret", "", sha256_hex(""), True),
]


# --------------------------------------------------------------------------------------------
# check.json
# --------------------------------------------------------------------------------------------

NOW = "2026-03-01T12:00:00Z"


def record(key: Key, **over) -> dict:
    rec = {
        "id": key.id,
        "hashed_secret": sha256_hex(key.secret),
        "user_id": "6c1d9a4e-2f3b-4c5d-8e9f-0a1b2c3d4e5f",
        "last_used": "2026-03-01T11:55:00Z",
        "expires_at": "2026-03-02T12:00:00Z",
        "created_at": "2026-02-28T12:00:00Z",
        "updated_at": "2026-02-28T12:00:00Z",
        "login_type": "password",
        "lifetime_seconds": 86400,
        "ip_address": "127.0.0.1",
        "token_name": "",
        "scopes": ["coder:all"],
        "allow_list": [{"type": "*", "id": "*"}],
    }
    for k, v in over.items():
        if k not in rec:
            raise AssertionError(f"unknown record field {k}")
        rec[k] = v
    return rec


def rejection(code: str, detail: str, metadata_base: str | None = None) -> dict:
    www = WWW_EXPIRED
    if metadata_base is not None:
        www += f', resource_metadata="{metadata_base}/.well-known/oauth-protected-resource"'
    return {"rejection": {"code": code, "status": 401, "message": SIGNED_OUT, "detail": detail,
                          "www_authenticate": www}}


def verified(last_used=None, expires_at=None, ip_address=None) -> dict:
    if last_used is None and expires_at is None and ip_address is None:
        return {"verified": {"update": None}}
    return {"verified": {"update": {"last_used": last_used, "expires_at": expires_at,
                                    "ip_address": ip_address}}}


def chk(name, spec, presented, rec, expect, now=NOW, settings=None, remote_addr="192.0.2.1"):
    return {"name": name, "spec": spec, "presented": presented, "record": rec, "now": now,
            "settings": settings or {}, "remote_addr": remote_addr, "expect": expect}


def malformed(err: str) -> str:
    return "Invalid API key format: " + err


def expired_detail(go_time: str) -> str:
    return f'API key expired at "{go_time}".'


CHECK = [
    # --- §6 row 1: missing
    chk("missing_when_presented_token_is_empty", "§9.7 §6", "", None,
        rejection("missing", MISSING_DETAIL)),
    chk("missing_with_access_url_adds_resource_metadata", "§6 fine points", "", None,
        rejection("missing", MISSING_DETAIL, "https://coder.example.com"),
        settings={"access_url": "https://coder.example.com"}),
    # --- §6 row 2: malformed
    chk("malformed_when_token_has_three_parts", "§9.9", "test-wow-hello", None,
        rejection("malformed", malformed(PARTS.format(3)))),
    chk("malformed_when_id_is_four_bytes", "§9.10", "test-wow", None,
        rejection("malformed", malformed(IDLEN.format(4)))),
    chk("malformed_when_secret_is_three_bytes", "§9.11", "testtestid-wow", None,
        rejection("malformed", malformed(SECLEN.format(3)))),
    chk("malformed_invalid_token_1", "§9.46", "invalid-token-1", None,
        rejection("malformed", malformed(PARTS.format(3)))),
    chk("malformed_single_character", "§9.46", "a", None,
        rejection("malformed", malformed(PARTS.format(1)))),
    chk("malformed_one_hundred_x", "§9.46", "x" * 100, None,
        rejection("malformed", malformed(PARTS.format(1)))),
    chk("malformed_whitespace_only_token", "§6 §1", " ", None,
        rejection("malformed", malformed(PARTS.format(1)))),
    chk("malformed_multibyte_id_counts_bytes", "§1 §10", "é" * 10 + "-" + K1.secret, None,
        rejection("malformed", malformed(IDLEN.format(20)))),
    chk("malformed_trailing_space_is_not_trimmed", "§1 §5", K1.token + " ", None,
        rejection("malformed", malformed(SECLEN.format(23)))),
    chk("malformed_with_access_url_trailing_slash_removed", "§6 fine points", "test-wow", None,
        rejection("malformed", malformed(IDLEN.format(4)), "https://coder.example.com"),
        settings={"access_url": "https://coder.example.com/"}),
    # --- §6 row 3: unknown id
    chk("unknown_key_when_store_has_no_row", "§9.12 §6", K1.token, None,
        rejection("unknown_key", "API key is invalid.")),
    chk("unknown_key_when_record_id_differs_from_presented_id", "fine points", K1.token,
        record(K2, hashed_secret=sha256_hex(K1.secret)),
        rejection("unknown_key", "API key is invalid.")),
    chk("unknown_key_for_foreign_characters_of_right_length", "§1 §10", FOREIGN.token, None,
        rejection("unknown_key", "API key is invalid.")),
    chk("unknown_key_even_when_the_mismatched_record_is_expired", "§6 fine points", K1.token,
        record(K2, expires_at="2026-03-01T11:00:00Z"),
        rejection("unknown_key", "API key is invalid.")),
    # --- §6 row 4: secret
    chk("invalid_secret_when_stored_hash_is_of_a_different_secret", "§9.15 §6", K1.token,
        record(K1, hashed_secret=sha256_hex("aB3dE5fG7hJ9kL1mN3pQ5r")),
        rejection("invalid_secret", "API key secret is invalid.")),
    chk("invalid_secret_when_id_of_key_one_is_sent_with_secret_of_key_two", "§9.45",
        K1.id + "-" + K2.secret, record(K1),
        rejection("invalid_secret", "API key secret is invalid.")),
    chk("invalid_secret_when_stored_hash_is_31_bytes", "§2", K1.token,
        record(K1, hashed_secret=sha256_hex(K1.secret)[:62]),
        rejection("invalid_secret", "API key secret is invalid.")),
    chk("invalid_secret_when_stored_hash_has_an_extra_zero_byte", "§2", K1.token,
        record(K1, hashed_secret=sha256_hex(K1.secret) + "00"),
        rejection("invalid_secret", "API key secret is invalid.")),
    chk("invalid_secret_when_stored_hash_is_empty", "§2", K1.token,
        record(K1, hashed_secret=""),
        rejection("invalid_secret", "API key secret is invalid.")),
    chk("invalid_secret_when_stored_hash_is_of_the_whole_token", "§2", K1.token,
        record(K1, hashed_secret=sha256_hex(K1.token)),
        rejection("invalid_secret", "API key secret is invalid.")),
    chk("invalid_secret_when_one_bit_of_stored_hash_differs", "§2", K1.token,
        record(K1, hashed_secret=flip_last_bit(sha256_hex(K1.secret))),
        rejection("invalid_secret", "API key secret is invalid.")),
    chk("invalid_secret_wins_over_expired", "§6 order", K1.token,
        record(K1, hashed_secret=sha256_hex(K2.secret), expires_at="2026-03-01T11:00:00Z"),
        rejection("invalid_secret", "API key secret is invalid.")),
    chk("invalid_secret_with_access_url_path_keeps_the_path", "§6 fine points", K1.token,
        record(K1, hashed_secret=sha256_hex(K2.secret)),
        rejection("invalid_secret", "API key secret is invalid.", "https://example.com/coder"),
        settings={"access_url": "https://example.com/coder///"}),
    # --- §6 row 5: expiry
    chk("expired_when_expires_at_is_one_hour_past", "§9.16 §6", K1.token,
        record(K1, expires_at="2026-03-01T11:00:00Z"),
        rejection("expired", expired_detail("2026-03-01 11:00:00 +0000 UTC"))),
    chk("expired_when_expires_at_is_one_microsecond_past", "§6", K1.token,
        record(K1, expires_at="2026-03-01T11:59:59.999999Z"),
        rejection("expired", expired_detail("2026-03-01 11:59:59.999999 +0000 UTC"))),
    chk("expired_detail_prints_four_digit_fraction", "§6 fine points", K1.token,
        record(K1, expires_at="2026-01-02T15:04:05.1234Z"),
        rejection("expired", expired_detail("2026-01-02 15:04:05.1234 +0000 UTC"))),
    chk("expired_detail_prints_six_digit_fraction", "§6 fine points", K1.token,
        record(K1, expires_at="2026-01-02T15:04:05.123456Z"),
        rejection("expired", expired_detail("2026-01-02 15:04:05.123456 +0000 UTC"))),
    chk("expired_detail_prints_half_second_as_one_digit", "§6 fine points", K1.token,
        record(K1, expires_at="2026-01-02T15:04:05.5Z"),
        rejection("expired", expired_detail("2026-01-02 15:04:05.5 +0000 UTC"))),
    chk("expired_detail_omits_zero_fraction_and_dot", "§6 fine points", K1.token,
        record(K1, expires_at="2026-01-02T15:04:05Z"),
        rejection("expired", expired_detail("2026-01-02 15:04:05 +0000 UTC"))),
    chk("expired_detail_keeps_leading_zeros_of_fraction", "§6 fine points", K1.token,
        record(K1, expires_at="2026-01-02T15:04:05.000001Z"),
        rejection("expired", expired_detail("2026-01-02 15:04:05.000001 +0000 UTC"))),
    chk("expired_detail_trims_trailing_zero_of_fraction", "§6 fine points", K1.token,
        record(K1, expires_at="2026-01-02T15:04:05.01Z"),
        rejection("expired", expired_detail("2026-01-02 15:04:05.01 +0000 UTC"))),
    chk("expired_detail_pads_year_one_to_four_digits", "§3 §6", K1.token,
        record(K1, expires_at="0001-01-01T00:00:00Z", last_used="0001-01-01T00:00:00Z"),
        rejection("expired", expired_detail("0001-01-01 00:00:00 +0000 UTC"))),
    chk("expired_token_key_is_rejected_like_any_other", "§6 §7.7", K3.token,
        record(K3, login_type="token", lifetime_seconds=604800, token_name="ci",
               expires_at="2026-02-28T12:00:00Z"),
        rejection("expired", expired_detail("2026-02-28 12:00:00 +0000 UTC"))),
    chk("expired_with_access_url_adds_resource_metadata", "§9.42 fine points", K1.token,
        record(K1, expires_at="2026-02-28T23:59:59.25Z"),
        rejection("expired", expired_detail("2026-02-28 23:59:59.25 +0000 UTC"), "http://localhost:3000"),
        settings={"access_url": "http://localhost:3000"}),
    chk("expired_with_fractional_now_one_microsecond_after_expiry", "§6", K1.token,
        record(K1, expires_at="2026-03-01T12:00:00.123456Z"),
        rejection("expired", expired_detail("2026-03-01 12:00:00.123456 +0000 UTC")),
        now="2026-03-01T12:00:00.123457Z"),
    chk("expired_even_when_refresh_is_disabled", "§6 §7", K1.token,
        record(K1, expires_at="2026-03-01T11:59:59Z"),
        rejection("expired", expired_detail("2026-03-01 11:59:59 +0000 UTC")),
        settings={"disable_session_expiry_refresh": True}),
    # --- verified, nothing to write
    chk("valid_key_used_recently_writes_nothing", "§9.17 §7", K1.token,
        record(K1, last_used=NOW), verified()),
    chk("application_connect_key_verifies_and_keeps_scopes", "§9.18", K1.token,
        record(K1, last_used=NOW, scopes=["coder:application_connect"]), verified()),
    chk("token_key_in_use_is_not_touched", "§9.31 §7.2", K3.token,
        record(K3, login_type="token", last_used=NOW, lifetime_seconds=86400, token_name="ci"),
        verified()),
    chk("valid_key_with_access_url_still_verifies", "§6", K1.token,
        record(K1), verified(), settings={"access_url": "https://coder.example.com"}),
    chk("foreign_characters_verify_when_the_store_has_a_matching_row", "§1 §10", FOREIGN.token,
        record(FOREIGN), verified()),
    chk("last_used_in_the_future_is_not_rewritten", "§7.1", K1.token,
        record(K1, last_used="2026-03-01T14:00:00Z"), verified()),
    # --- §7.1 last_used
    chk("last_used_a_day_old_is_updated_and_expiry_kept", "§9.20 §7.1", K1.token,
        record(K1, last_used="2026-02-28T12:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "192.0.2.1")),
    chk("remote_addr_1_1_1_1_is_stored", "§9.29 §7.1", K1.token,
        record(K1, last_used="2026-02-28T12:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "1.1.1.1"),
        remote_addr="1.1.1.1"),
    chk("last_used_two_intervals_old_is_updated", "§9.80 §7.1", K1.token,
        record(K1, last_used="2026-03-01T10:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "192.0.2.1")),
    chk("last_used_half_an_interval_old_is_kept", "§9.80 §7.1", K1.token,
        record(K1, last_used="2026-03-01T11:30:00Z"), verified()),
    chk("last_used_just_under_one_hour_old_is_kept", "§9.80 §7.1", K1.token,
        record(K1, last_used="2026-03-01T11:00:00.000001Z"), verified()),
    chk("last_used_exactly_one_hour_old_is_kept", "§9.80 §7.1", K1.token,
        record(K1, last_used="2026-03-01T11:00:00Z"), verified()),
    chk("last_used_one_hour_and_one_microsecond_old_is_updated", "§9.80 §7.1", K1.token,
        record(K1, last_used="2026-03-01T10:59:59.999999Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "192.0.2.1")),
    chk("last_used_one_hour_and_one_second_old_is_updated", "§9.80 §7.1", K1.token,
        record(K1, last_used="2026-03-01T10:59:59Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "192.0.2.1")),
    chk("new_key_with_epoch_last_used_writes_on_first_use", "§3 §7.1", K3.token,
        record(K3, login_type="token", lifetime_seconds=604800, token_name="ci",
               last_used="1970-01-01T00:00:00Z", expires_at="2026-03-08T12:00:00Z", ip_address="0.0.0.0"),
        verified("2026-03-01T12:00:00Z", "2026-03-08T12:00:00Z", "203.0.113.9"),
        remote_addr="203.0.113.9"),
    chk("old_key_with_go_zero_time_last_used_writes_on_first_use", "§3 §7.1", K1.token,
        record(K1, last_used="0001-01-01T00:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "192.0.2.1")),
    chk("remote_addr_with_port_is_stored_as_zero_address", "§7.1 §10", K1.token,
        record(K1, last_used="2026-02-28T12:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "0.0.0.0"),
        remote_addr="1.2.3.4:5678"),
    chk("empty_remote_addr_is_stored_as_zero_address", "§7.1 §4.1", K1.token,
        record(K1, last_used="2026-02-28T12:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "0.0.0.0"),
        remote_addr=""),
    chk("ipv6_remote_addr_is_stored_compressed_lower_case", "§7.1 fine points", K1.token,
        record(K1, last_used="2026-02-28T12:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "2001:db8::1"),
        remote_addr="2001:DB8:0:0:0:0:0:1"),
    chk("ipv4_mapped_ipv6_remote_addr_is_stored_as_ipv4", "§7.1 fine points", K1.token,
        record(K1, last_used="2026-02-28T12:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "1.2.3.4"),
        remote_addr="::ffff:1.2.3.4"),
    chk("bracketed_ipv6_with_port_is_stored_as_zero_address", "§7.1 fine points", K1.token,
        record(K1, last_used="2026-02-28T12:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "0.0.0.0"),
        remote_addr="[::1]:8080"),
    chk("zoned_ipv6_remote_addr_is_stored_as_zero_address", "§7.1 fine points", K1.token,
        record(K1, last_used="2026-02-28T12:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "0.0.0.0"),
        remote_addr="fe80::1%eth0"),
    chk("fractional_now_with_last_used_one_hour_and_one_microsecond_old", "§7.1 §3", K1.token,
        record(K1, last_used="2026-03-01T10:59:59.65432Z"),
        verified("2026-03-01T12:00:00.654321Z", "2026-03-02T12:00:00Z", "192.0.2.1"),
        now="2026-03-01T12:00:00.654321Z"),
    # --- §7.2 sliding expiry
    chk("expiry_slides_when_one_minute_is_left", "§9.21 §7.2", K1.token,
        record(K1, last_used=NOW, expires_at="2026-03-01T12:01:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "127.0.0.1")),
    chk("token_key_expiry_does_not_slide", "§9.22 §7.2", K3.token,
        record(K3, login_type="token", last_used=NOW, expires_at="2026-03-01T12:01:00Z", token_name="ci"),
        verified()),
    chk("disable_refresh_still_updates_last_used", "§9.23 §7", K1.token,
        record(K1, last_used="2026-02-28T12:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "192.0.2.1"),
        settings={"disable_session_expiry_refresh": True}),
    chk("disable_refresh_prevents_slide_near_expiry", "§7.2", K1.token,
        record(K1, last_used=NOW, expires_at="2026-03-01T12:01:00Z"), verified(),
        settings={"disable_session_expiry_refresh": True}),
    chk("expires_at_equal_to_now_is_valid_and_slides", "§6 §7.2", K1.token,
        record(K1, last_used=NOW, expires_at=NOW),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "127.0.0.1")),
    chk("token_key_expiring_exactly_now_is_valid_and_not_extended", "§6 §7.2", K3.token,
        record(K3, login_type="token", last_used=NOW, expires_at=NOW, lifetime_seconds=604800),
        verified()),
    chk("expiry_slides_exactly_at_lifetime_minus_one_hour", "§7.2", K1.token,
        record(K1, expires_at="2026-03-02T11:00:00Z"),
        verified("2026-03-01T11:55:00Z", "2026-03-02T12:00:00Z", "127.0.0.1")),
    chk("expiry_does_not_slide_one_microsecond_beyond_lifetime_minus_one_hour", "§7.2", K1.token,
        record(K1, expires_at="2026-03-02T11:00:00.000001Z"), verified()),
    chk("one_hour_lifetime_slides_only_when_expires_at_equals_now", "§7.2", K1.token,
        record(K1, lifetime_seconds=3600, expires_at=NOW),
        verified("2026-03-01T11:55:00Z", "2026-03-01T13:00:00Z", "127.0.0.1")),
    chk("one_hour_lifetime_does_not_slide_one_microsecond_before_expiry", "§7.2", K1.token,
        record(K1, lifetime_seconds=3600, expires_at="2026-03-01T12:00:00.000001Z"), verified()),
    chk("lifetime_under_one_hour_never_slides", "§7.2", K1.token,
        record(K1, lifetime_seconds=3599, expires_at=NOW), verified()),
    chk("lifetime_of_one_second_never_slides", "§7.2 §9.61", K1.token,
        record(K1, lifetime_seconds=1, expires_at=NOW), verified()),
    chk("zero_lifetime_never_slides", "fine points", K1.token,
        record(K1, lifetime_seconds=0, expires_at=NOW), verified()),
    chk("negative_lifetime_never_slides", "§7.2 fine points", K1.token,
        record(K1, lifetime_seconds=-60, expires_at=NOW), verified()),
    chk("github_key_slides_like_password", "§7.2 §8", K1.token,
        record(K1, login_type="github", last_used=NOW, expires_at="2026-03-01T12:01:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "127.0.0.1")),
    chk("oidc_key_slides_like_password", "§7.2 §8", K1.token,
        record(K1, login_type="oidc", last_used=NOW, expires_at="2026-03-01T12:01:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "127.0.0.1")),
    chk("none_login_type_key_slides_like_password", "§7.2 §8", K1.token,
        record(K1, login_type="none", last_used=NOW, expires_at="2026-03-01T12:01:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "127.0.0.1")),
    chk("oauth2_provider_app_key_slides_like_password", "§7.2 §8", K1.token,
        record(K1, login_type="oauth2_provider_app", last_used=NOW, expires_at="2026-03-01T12:01:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "127.0.0.1")),
    chk("both_last_used_and_expiry_change_in_one_update", "§7.3", K1.token,
        record(K1, last_used="2026-03-01T10:00:00Z", expires_at="2026-03-01T12:10:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "198.51.100.7"),
        remote_addr="198.51.100.7"),
    chk("only_expiry_slides_so_the_record_ip_is_kept", "§7.1 §7.3", K1.token,
        record(K1, last_used="2026-03-01T11:50:00Z", expires_at="2026-03-01T12:30:00Z",
               ip_address="10.1.2.3"),
        verified("2026-03-01T11:50:00Z", "2026-03-02T12:00:00Z", "10.1.2.3"),
        remote_addr="9.9.9.9"),
    chk("only_expiry_slides_and_the_record_ipv6_is_kept", "§7.1 §7.3", K1.token,
        record(K1, last_used=NOW, expires_at="2026-03-01T13:00:00Z", ip_address="2001:db8::7"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "2001:db8::7"),
        remote_addr="1.1.1.1"),
    chk("token_key_last_used_written_but_expiry_kept", "§7.1 §7.2", K3.token,
        record(K3, login_type="token", lifetime_seconds=2592000, token_name="ci",
               last_used="2026-02-27T08:30:00Z", expires_at="2026-03-01T12:01:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-01T12:01:00Z", "192.0.2.1")),
    chk("seven_day_session_slides_at_six_days_twenty_three_hours_left", "§7.2", K1.token,
        record(K1, login_type="oidc", lifetime_seconds=604800, last_used=NOW,
               expires_at="2026-03-08T11:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-08T12:00:00Z", "127.0.0.1")),
    chk("slide_uses_lifetime_seconds_not_session_duration", "§7.2", K1.token,
        record(K1, last_used=NOW, expires_at="2026-03-02T10:00:00Z"),
        verified("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "127.0.0.1"),
        settings={"session_duration": "1h"}),
    chk("fractional_now_expiry_equal_to_now_slides_to_now_plus_lifetime", "§7.2 §3", K1.token,
        record(K1, last_used="2026-03-01T12:00:00.654321Z", expires_at="2026-03-01T12:00:00.654321Z"),
        verified("2026-03-01T12:00:00.654321Z", "2026-03-02T12:00:00.654321Z", "127.0.0.1"),
        now="2026-03-01T12:00:00.654321Z"),
]


# --------------------------------------------------------------------------------------------
# extract.json
# --------------------------------------------------------------------------------------------

def ext(name, spec, headers, query, expect):
    return {"name": name, "spec": spec, "headers": headers, "query": query, "expect": expect}


T = K1.token
T2 = K2.token
T3 = K3.token

EXTRACT = [
    ext("no_credentials_yields_no_token", "§9.40 §5", [], "", None),
    ext("cookie_only", "§5", [["Cookie", f"coder_session_token={T}"]], "", T),
    ext("query_coder_session_token_only", "§9.19 §5", [], f"coder_session_token={T}", T),
    ext("coder_session_token_header_only", "§5", [["Coder-Session-Token", T]], "", T),
    ext("bearer_only", "§9.37 §9.50", [["Authorization", f"Bearer {T}"]], "", T),
    ext("access_token_only", "§9.38 §9.50", [], f"access_token={T}", T),
    ext("cookie_beats_bearer", "§9.40 §9.48", [["Cookie", f"coder_session_token={T}"],
                                             ["Authorization", "Bearer invalid-token"]], "", T),
    ext("query_coder_session_token_beats_bearer", "§9.49",
        [["Authorization", "Bearer invalid-token"]], f"coder_session_token={T}", T),
    ext("custom_header_beats_bearer", "§9.39", [["Authorization", f"Bearer {T2}"],
                                              ["Coder-Session-Token", T]], "", T),
    ext("all_methods_present_uses_cookie", "§9.51",
        [["Authorization", f"Bearer {T3}"], ["Coder-Session-Token", T2],
         ["Cookie", f"coder_session_token={T}"]],
        f"access_token=at-{T3}&coder_session_token=q-{T2}", T),
    ext("cookie_beats_query", "§5", [["Cookie", f"coder_session_token={T}"]],
        f"coder_session_token={T2}", T),
    ext("cookie_beats_custom_header", "§5", [["Coder-Session-Token", T2],
                                             ["Cookie", f"coder_session_token={T}"]], "", T),
    ext("cookie_beats_access_token", "§5", [["Cookie", f"coder_session_token={T}"]],
        f"access_token={T2}", T),
    ext("query_beats_custom_header", "§5", [["Coder-Session-Token", T2]],
        f"coder_session_token={T}", T),
    ext("query_beats_access_token", "§5", [], f"access_token={T2}&coder_session_token={T}", T),
    ext("custom_header_beats_access_token", "§5", [["Coder-Session-Token", T]],
        f"access_token={T2}", T),
    ext("bearer_beats_access_token", "§5", [["Authorization", f"Bearer {T}"]],
        f"access_token={T2}", T),
    ext("basic_authorization_is_ignored", "§9.40 §5", [["Authorization", "Basic dXNlcjpwYXNz"]], "", None),
    ext("basic_authorization_falls_through_to_access_token", "§5",
        [["Authorization", "Basic dXNlcjpwYXNz"]], f"access_token={T}", T),
    # §9.47 malformed Authorization values
    ext("authorization_without_scheme_is_ignored", "§9.47", [["Authorization", "invalid-token"]], "", None),
    ext("lower_case_bearer_scheme_is_accepted", "§9.47", [["Authorization", "bearer token"]], "", "token"),
    ext("bearer_with_extra_spaces_is_trimmed", "§9.47",
        [["Authorization", "Bearer  token-with-extra-spaces"]], "", "token-with-extra-spaces"),
    ext("bearer_with_empty_token_yields_no_token", "§9.47", [["Authorization", "Bearer "]], "", None),
    ext("bearer_without_space_is_ignored", "§9.47", [["Authorization", "Bearer"]], "", None),
    ext("bearer_rest_is_taken_whole", "§9.47",
        [["Authorization", "Bearer token1 Bearer token2"]], "", "token1 Bearer token2"),
    ext("bearer_with_non_token_characters_is_returned", "§9.47",
        [["Authorization", "Bearer !!!invalid-base64!!!"]], "", "!!!invalid-base64!!!"),
    ext("empty_bearer_short_circuits_access_token", "§5 §10",
        [["Authorization", "Bearer "]], f"access_token={T}", None),
    ext("whitespace_only_bearer_short_circuits_access_token", "§5 §10",
        [["Authorization", "Bearer    "]], f"access_token={T}", None),
    ext("bearer_without_space_falls_through_to_access_token", "§5",
        [["Authorization", "Bearer"]], f"access_token={T}", T),
    ext("upper_case_bearer_scheme_is_accepted", "§5", [["Authorization", f"BEARER {T}"]], "", T),
    ext("mixed_case_bearer_scheme_is_accepted", "§5", [["Authorization", f"bEaReR {T}"]], "", T),
    ext("bearer_followed_by_tab_is_not_bearer", "§5", [["Authorization", f"Bearer\t{T}"]], "", None),
    ext("bearer_value_trims_unicode_whitespace", "fine points",
        [["Authorization", f"Bearer \u3000{T}\u00a0\t"]], "", T),
    ext("bearer_value_keeps_inner_whitespace", "§5", [["Authorization", "Bearer a b"]], "", "a b"),
    # header names and repeated headers
    ext("lower_case_custom_header_name_matches", "fine points",
        [["coder-session-token", T]], "", T),
    ext("upper_case_custom_header_name_matches", "fine points",
        [["CODER-SESSION-TOKEN", T]], "", T),
    ext("lower_case_authorization_header_name_matches", "fine points",
        [["authorization", f"Bearer {T}"]], "", T),
    ext("lower_case_cookie_header_name_matches", "fine points",
        [["cookie", f"coder_session_token={T}"]], "", T),
    ext("only_first_authorization_header_counts", "fine points",
        [["Authorization", "Basic dXNlcjpwYXNz"], ["Authorization", f"Bearer {T}"]], "", None),
    ext("only_first_custom_header_counts_even_when_empty", "fine points",
        [["Coder-Session-Token", ""], ["Coder-Session-Token", T2]], "", None),
    ext("empty_custom_header_falls_through_to_bearer", "§5",
        [["Coder-Session-Token", ""], ["Authorization", f"Bearer {T}"]], "", T),
    ext("custom_header_value_is_not_trimmed", "§5 fine points",
        [["Coder-Session-Token", f" {T} "]], "", f" {T} "),
    ext("whitespace_only_custom_header_is_a_token", "§5 fine points",
        [["Coder-Session-Token", "   "]], "", "   "),
    # cookies
    ext("cookie_among_several_in_one_header", "§5",
        [["Cookie", f"a=b; coder_session_token={T}; c=d"]], "", T),
    ext("cookie_in_second_cookie_header", "§5",
        [["Cookie", "a=b"], ["Cookie", f"coder_session_token={T}"]], "", T),
    ext("first_of_two_session_cookies_wins", "§5",
        [["Cookie", f"coder_session_token={T}; coder_session_token={T2}"]], "", T),
    ext("first_session_cookie_across_headers_wins", "§5",
        [["Cookie", f"coder_session_token={T}"], ["Cookie", f"coder_session_token={T2}"]], "", T),
    ext("empty_first_session_cookie_falls_through_even_if_a_later_one_is_set", "§5",
        [["Cookie", f"coder_session_token=; coder_session_token={T2}"]], "", None),
    ext("empty_session_cookie_falls_through_to_query", "§5",
        [["Cookie", "coder_session_token="]], f"coder_session_token={T}", T),
    ext("cookie_name_is_case_sensitive", "§5", [["Cookie", f"Coder_Session_Token={T}"]], "", None),
    ext("cookie_without_space_after_semicolon", "§5",
        [["Cookie", f"a=b;coder_session_token={T};c=d"]], "", T),
    ext("similar_cookie_name_does_not_match", "§5",
        [["Cookie", f"coder_session_token_other={T2}; xcoder_session_token={T2}"]], "", None),
    # query
    ext("query_among_other_parameters", "§5", [], f"foo=bar&coder_session_token={T}&baz=1", T),
    ext("query_plus_decodes_to_space_and_is_not_trimmed", "§5 fine points", [],
        "coder_session_token=a+b+", "a b "),
    ext("query_percent_encoding_is_decoded", "§5", [], "coder_session_token=a%2Bb%2Dc%20", "a+b-c "),
    ext("query_value_may_contain_equals_sign", "§5", [], "coder_session_token=a=b", "a=b"),
    ext("query_key_is_percent_decoded", "§5", [], f"coder%5Fsession%5Ftoken={T}", T),
    ext("query_key_is_case_sensitive", "fine points", [], f"Coder_Session_Token={T}", None),
    ext("query_key_without_value_is_empty_and_falls_through", "§5", [], "coder_session_token", None),
    ext("empty_first_query_value_falls_through_even_if_a_later_one_is_set", "fine points", [],
        f"coder_session_token=&coder_session_token={T}", None),
    ext("empty_query_value_falls_through_to_custom_header", "§5", [["Coder-Session-Token", T]],
        "coder_session_token=", T),
    ext("first_of_two_query_values_wins", "fine points", [],
        f"coder_session_token={T}&coder_session_token={T2}", T),
    ext("query_pair_with_invalid_percent_escape_is_skipped", "§5 (Go url.ParseQuery)", [],
        f"coder_session_token=%zz&access_token={T}", T),
    ext("access_token_is_trimmed", "§5 fine points", [], f"access_token=+{T}%09%0A", T),
    ext("whitespace_only_access_token_yields_no_token", "§5", [], "access_token=%20%20", None),
    ext("empty_first_access_token_wins_over_later_value", "fine points", [],
        f"access_token=&access_token={T}", None),
    ext("access_token_key_is_case_sensitive", "fine points", [], f"Access_Token={T}", None),
    ext("access_token_keeps_inner_whitespace", "§5", [], "access_token=+a+b+", "a b"),
]


# --------------------------------------------------------------------------------------------
# lifetime.json
# --------------------------------------------------------------------------------------------

MAX_DEFAULT_NS = 876600 * H
LT_ERR_MSG = "Failed to validate create API key request."


def lt(name, spec, settings, roles, lifetime_ns, max_ns, expect, now=NOW):
    return {"name": name, "spec": spec, "settings": settings, "target_roles": roles,
            "lifetime_ns": lifetime_ns, "now": now, "max_token_lifetime_ns": max_ns, "expect": expect}


def lt_ok(expires_at, seconds):
    return {"expires_at": expires_at, "lifetime_seconds": seconds}


def lt_less(max_text):
    return {"error": {"status": 400, "message": LT_ERR_MSG, "detail": "lifetime must be less than " + max_text}}


LT_POSITIVE = {"error": {"status": 400, "message": LT_ERR_MSG,
                         "detail": "lifetime must be positive number greater than 0"}}

M7 = {"max_token_lifetime": "7d"}
M7A14 = {"max_token_lifetime": "7d", "max_admin_token_lifetime": "14d"}
M14A7 = {"max_token_lifetime": "14d", "max_admin_token_lifetime": "7d"}

LIFETIME = [
    lt("member_lifetime_of_seven_days", "§9.56", {}, [], 7 * D, MAX_DEFAULT_NS,
       lt_ok("2026-03-08T12:00:00Z", 604800)),
    lt("owner_lifetime_equal_to_default_admin_maximum_is_allowed", "§4.2 §10", {}, ["owner"], 7 * D, 168 * H,
       lt_ok("2026-03-08T12:00:00Z", 604800)),
    lt("owner_lifetime_one_nanosecond_over_admin_maximum_fails", "§4.2", {}, ["owner"], 7 * D + 1, 168 * H,
       lt_less("168h0m0s")),
    lt("member_six_days_under_seven_day_maximum_succeeds", "§9.57", M7, [], 6 * D, 7 * D,
       lt_ok("2026-03-07T12:00:00Z", 518400)),
    lt("member_eight_days_over_seven_day_maximum_fails", "§9.57", M7, [], 8 * D, 7 * D, lt_less("168h0m0s")),
    lt("owner_ten_days_under_fourteen_day_admin_maximum_succeeds", "§9.58", M7A14, ["owner"], 10 * D, 14 * D,
       lt_ok("2026-03-11T12:00:00Z", 864000)),
    lt("owner_fifteen_days_over_fourteen_day_admin_maximum_fails", "§9.58", M7A14, ["owner"], 15 * D, 14 * D,
       lt_less("336h0m0s")),
    lt("member_eight_days_over_seven_day_member_maximum_fails", "§9.58", M7A14, [], 8 * D, 7 * D,
       lt_less("168h0m0s")),
    lt("member_six_days_under_seven_day_member_maximum_succeeds", "§9.58", M7A14, [], 6 * D, 7 * D,
       lt_ok("2026-03-07T12:00:00Z", 518400)),
    lt("owner_eight_days_over_smaller_admin_maximum_fails", "§9.59 §4.2", M14A7, ["owner"], 8 * D, 7 * D,
       lt_less("168h0m0s")),
    lt("owner_six_days_under_smaller_admin_maximum_succeeds", "§9.59", M14A7, ["owner"], 6 * D, 7 * D,
       lt_ok("2026-03-07T12:00:00Z", 518400)),
    lt("member_ten_days_under_fourteen_day_maximum_succeeds", "§9.59", M14A7, [], 10 * D, 14 * D,
       lt_ok("2026-03-11T12:00:00Z", 864000)),
    lt("member_fifteen_days_over_fourteen_day_maximum_fails", "§9.59", M14A7, [], 15 * D, 14 * D,
       lt_less("336h0m0s")),
    lt("zero_lifetime_uses_twelve_hour_default", "§9.60 §4.2", {"default_token_lifetime": "12h"}, [], 0,
       MAX_DEFAULT_NS, lt_ok("2026-03-02T00:00:00Z", 43200)),
    lt("zero_lifetime_uses_default_of_168h", "§4.2", {}, [], 0, MAX_DEFAULT_NS,
       lt_ok("2026-03-08T12:00:00Z", 604800)),
    lt("default_exceeding_member_maximum_is_not_checked", "§4.2 §10",
       {"default_token_lifetime": "200h", "max_token_lifetime": "168h"}, [], 0, 168 * H,
       lt_ok("2026-03-09T20:00:00Z", 720000)),
    lt("default_exceeding_owner_admin_maximum_is_not_checked", "§4.2 §10",
       {"max_admin_token_lifetime": "24h"}, ["owner"], 0, 24 * H,
       lt_ok("2026-03-08T12:00:00Z", 604800)),
    lt("sub_second_default_truncates_lifetime_seconds", "§4.1", {"default_token_lifetime": "90m30.5s"}, [], 0,
       MAX_DEFAULT_NS, lt_ok("2026-03-01T13:30:30.5Z", 5430)),
    lt("negative_one_nanosecond_is_not_positive", "§4.2 §10", {}, [], -1, MAX_DEFAULT_NS, LT_POSITIVE),
    lt("negative_one_hour_is_not_positive", "§4.2 §10", {}, ["owner"], -H, 168 * H, LT_POSITIVE),
    lt("negative_thirty_days_is_not_positive_with_a_maximum_set", "§4.2", M7, [], -30 * D, 7 * D, LT_POSITIVE),
    lt("one_and_a_half_seconds_truncates_to_one_second", "§4.2 §10", {}, [], 1500 * MS, MAX_DEFAULT_NS,
       lt_ok("2026-03-01T12:00:01.5Z", 1)),
    lt("one_nanosecond_lifetime_rounds_to_now_with_zero_seconds", "§4.2 §3", {}, [], 1, MAX_DEFAULT_NS,
       lt_ok("2026-03-01T12:00:00Z", 0)),
    lt("sub_microsecond_remainder_rounds_to_nearest_microsecond", "§3 §4.2", {}, [], 10 * S + 999,
       MAX_DEFAULT_NS, lt_ok("2026-03-01T12:00:10.000001Z", 10)),
    lt("member_lifetime_equal_to_default_maximum_is_allowed", "§4.2 §10", {}, [], 876600 * H, MAX_DEFAULT_NS,
       lt_ok("2126-03-02T12:00:00Z", 3155760000)),
    lt("member_lifetime_over_default_maximum_fails", "§4.2", {}, [], 876600 * H + S, MAX_DEFAULT_NS,
       lt_less("876600h0m0s")),
    lt("owner_among_several_roles_uses_admin_maximum", "§4.2", {}, ["member", "owner"], 8 * D, 168 * H,
       lt_less("168h0m0s")),
    lt("non_owner_site_roles_use_member_maximum", "§4.2",
       {}, ["template-admin", "user-admin", "auditor"], 8 * D, MAX_DEFAULT_NS,
       lt_ok("2026-03-09T12:00:00Z", 691200)),
    lt("maximum_with_fraction_is_printed_as_go_duration", "fine points",
       {"max_token_lifetime": "90m30.5s"}, [], 91 * MIN, 90 * MIN + 30500 * MS, lt_less("1h30m30.5s")),
    lt("lifetime_equal_to_fractional_maximum_is_allowed", "§4.2", {"max_token_lifetime": "90m30.5s"}, [],
       90 * MIN + 30500 * MS, 90 * MIN + 30500 * MS, lt_ok("2026-03-01T13:30:30.5Z", 5430)),
    lt("fractional_now_plus_one_microsecond", "§3 §4.2", {}, [], US, MAX_DEFAULT_NS,
       lt_ok("2026-03-01T12:00:01Z", 0), now="2026-03-01T12:00:00.999999Z"),
    lt("one_hour_for_owner_with_one_hour_admin_maximum", "§4.2", {"max_admin_token_lifetime": "1h"},
       ["owner"], H, H, lt_ok("2026-03-01T13:00:00Z", 3600)),
]


# --------------------------------------------------------------------------------------------
# duration.json
# --------------------------------------------------------------------------------------------

def dp(name, text, nanos=None, error=None, spec="fine points"):
    exp = {"nanos": nanos} if error is None else {"error": error}
    return {"name": name, "spec": spec, "input": text, "expect": exp}


def df(name, nanos, formatted, spec="fine points"):
    return {"name": name, "spec": spec, "nanos": nanos, "formatted": formatted}


def inv(text_quoted):
    return f"time: invalid duration {text_quoted}"


DURATION = [
    dp("zero", "0", 0),
    dp("plus_zero", "+0", 0),
    dp("minus_zero", "-0", 0),
    dp("zero_seconds", "0s", 0),
    dp("one_hour", "1h", H),
    dp("plus_one_hour", "+1h", H),
    dp("one_and_a_half_hours", "1.5h", 5400 * S),
    dp("minus_one_and_a_half_hours", "-1.5h", -5400 * S),
    dp("half_second_without_leading_digit", ".5s", 500 * MS),
    dp("five_seconds_with_trailing_dot", "5.s", 5 * S),
    dp("tenth_of_a_second", "0.1s", 100 * MS),
    dp("hour_and_thirty_minutes", "1h30m", 5400 * S),
    dp("repeated_unit_adds_up", "1h1h", 2 * H),
    dp("one_day", "1d", 24 * H, spec="§4.8 fine points"),
    dp("seven_days", "7d", 168 * H, spec="§4.8"),
    dp("day_hours_minutes_chained", "1d12h30m", 131400 * S, spec="§4.8"),
    dp("one_year", "1y", 8760 * H, spec="§4.8"),
    dp("half_a_day", "0.5d", 12 * H),
    dp("minus_one_hour", "-1h", -H, spec="§4.8"),
    dp("micro_sign_microsecond", "1µs", US),
    dp("greek_mu_microsecond", "1μs", US),
    dp("ascii_us_microsecond", "1us", US),
    dp("one_and_a_half_microseconds", "1.5µs", 1500),
    dp("one_millisecond", "1ms", MS),
    dp("one_nanosecond", "1ns", 1),
    dp("half_nanosecond_truncates_to_zero", ".5ns", 0),
    dp("ninety_minutes_thirty_and_a_half_seconds", "90m30.5s", 5430500 * MS),
    dp("default_session_duration", "24h", 24 * H, spec="§4.7"),
    dp("default_token_lifetime", "168h", 168 * H, spec="§4.7"),
    dp("default_max_token_lifetime", "876600h", 876600 * H, spec="§4.7"),
    dp("max_int64_nanoseconds", "9223372036854775807ns", I64_MAX),
    dp("min_int64_nanoseconds", "-9223372036854775808ns", I64_MIN),
    dp("largest_whole_hours", "2562047h", 2562047 * H),
    dp("largest_whole_days", "106751d", 106751 * D),
    dp("largest_whole_years", "292y", 292 * Y),
    dp("max_int64_as_hours_minutes_seconds", "2562047h47m16.854775807s", I64_MAX),
    dp("empty_string", "", error=inv('""')),
    dp("number_without_unit", "1", error='time: missing unit in duration "1"'),
    dp("second_number_without_unit", "1m30", error='time: missing unit in duration "1m30"'),
    dp("unknown_unit_x", "1x", error='time: unknown unit "x" in duration "1x"'),
    dp("upper_case_unit_is_unknown", "1H", error='time: unknown unit "H" in duration "1H"'),
    dp("upper_case_day_is_unknown", "1D", error='time: unknown unit "D" in duration "1D"'),
    dp("exponent_is_an_unknown_unit", "1e3s", error='time: unknown unit "e" in duration "1e3s"'),
    dp("space_before_unit_is_part_of_unit", "1 h", error='time: unknown unit " h" in duration "1 h"'),
    dp("minus_after_unit_is_part_of_unit", "1h-1m", error='time: unknown unit "h-" in duration "1h-1m"'),
    dp("non_ascii_unit_is_quoted_as_bytes", "1µ",
       error='time: unknown unit "\\xc2\\xb5" in duration "1\\xc2\\xb5"'),
    dp("lone_dot", ".", error=inv('"."')),
    dp("dot_with_unit_but_no_digits", ".s", error=inv('".s"')),
    dp("lone_minus", "-", error=inv('"-"')),
    dp("lone_plus", "+", error=inv('"+"')),
    dp("double_minus", "--1h", error=inv('"--1h"')),
    dp("leading_space", " 1h", error=inv('" 1h"')),
    dp("trailing_space_is_a_unit_suffix", "1h ", error='time: unknown unit "h " in duration "1h "'),
    dp("unit_without_number", "h", error=inv('"h"')),
    dp("one_past_max_int64_nanoseconds", "9223372036854775808ns", error=inv('"9223372036854775808ns"')),
    dp("one_hour_past_largest_whole_hours", "2562048h", error=inv('"2562048h"')),
    dp("one_day_past_largest_whole_days", "106752d", error=inv('"106752d"')),
    dp("one_year_past_largest_whole_years", "293y", error=inv('"293y"')),
    dp("fraction_pushing_past_max", "2562047.8h", error=inv('"2562047.8h"')),
    dp("sum_of_parts_past_max", "292y1000d", error=inv('"292y1000d"')),
    df("format_zero", 0, "0s"),
    df("format_one_nanosecond", 1, "1ns"),
    df("format_999_nanoseconds", 999, "999ns"),
    df("format_one_microsecond", US, "1µs"),
    df("format_one_point_one_microseconds", 1100, "1.1µs"),
    df("format_999_999_nanoseconds", 999999, "999.999µs"),
    df("format_one_millisecond", MS, "1ms"),
    df("format_two_point_two_milliseconds", 2200000, "2.2ms"),
    df("format_just_under_one_second", 999999999, "999.999999ms"),
    df("format_one_second", S, "1s"),
    df("format_three_point_three_seconds", 3300000000, "3.3s"),
    df("format_one_minute", MIN, "1m0s"),
    df("format_four_minutes_five_seconds", 4 * MIN + 5 * S, "4m5s"),
    df("format_four_minutes_five_and_a_millisecond", 4 * MIN + 5 * S + MS, "4m5.001s"),
    df("format_one_hour", H, "1h0m0s"),
    df("format_ninety_minutes", 90 * MIN, "1h30m0s"),
    df("format_hours_minutes_seconds_millis", 5 * H + 6 * MIN + 7 * S + MS, "5h6m7.001s"),
    df("format_eight_minutes_and_a_nanosecond", 8 * MIN + 1, "8m0.000000001s"),
    df("format_24h", 24 * H, "24h0m0s"),
    df("format_168h", 168 * H, "168h0m0s"),
    df("format_336h", 336 * H, "336h0m0s"),
    df("format_876600h", 876600 * H, "876600h0m0s"),
    df("format_fractional_maximum", 90 * MIN + 30500 * MS, "1h30m30.5s"),
    df("format_max_int64", I64_MAX, "2562047h47m16.854775807s"),
    df("format_min_int64", I64_MIN, "-2562047h47m16.854775808s"),
    df("format_minus_one_hour", -H, "-1h0m0s"),
    df("format_minus_one_nanosecond", -1, "-1ns"),
    df("format_minus_one_and_a_half_microseconds", -1500, "-1.5µs"),
]

# Go's own parseDurationTests table (time/time_test.go), every case, as Go answers it.
GO_PARSE_TABLE = [
    ("5s", 5 * S), ("30s", 30 * S), ("1478s", 1478 * S), ("-5s", -5 * S), ("+5s", 5 * S),
    ("5.0s", 5 * S), ("5.6s", 5 * S + 600 * MS), ("5.s", 5 * S), (".5s", 500 * MS),
    ("1.0s", S), ("1.00s", S), ("1.004s", S + 4 * MS), ("1.0040s", S + 4 * MS),
    ("100.00100s", 100 * S + MS), ("10ns", 10 * NS), ("11us", 11 * US), ("12\u00b5s", 12 * US),
    ("12\u03bcs", 12 * US), ("13ms", 13 * MS), ("14s", 14 * S), ("15m", 15 * MIN),
    ("16h", 16 * H), ("3h30m", 3 * H + 30 * MIN), ("10.5s4m", 4 * MIN + 10 * S + 500 * MS),
    ("-2m3.4s", -(2 * MIN + 3 * S + 400 * MS)),
    ("1h2m3s4ms5us6ns", H + 2 * MIN + 3 * S + 4 * MS + 5 * US + 6 * NS),
    ("39h9m14.425s", 39 * H + 9 * MIN + 14 * S + 425 * MS), ("52763797000ns", 52763797000),
    ("0.3333333333333333333h", 20 * MIN), ("9007199254740993ns", (1 << 53) + 1),
    ("9223372036854775807ns", I64_MAX), ("9223372036854775.807us", I64_MAX),
    ("9223372036s854ms775us807ns", I64_MAX), ("-9223372036854775808ns", I64_MIN),
    ("-9223372036854775.808us", I64_MIN), ("-9223372036s854ms775us808ns", I64_MIN),
    ("-2562047h47m16.854775808s", I64_MIN), ("0.100000000000000000000h", 6 * MIN),
    ("0.830103483285477580700h", 49 * MIN + 48 * S + 372539827),
]
DURATION += [
    dp(f"go_parse_table_{i:02d}", text, nanos, spec="Go time_test.go parseDurationTests")
    for i, (text, nanos) in enumerate(GO_PARSE_TABLE, 1)
]


# --------------------------------------------------------------------------------------------
# ip.json
# --------------------------------------------------------------------------------------------

def ipc(name, text, expect, spec="fine points"):
    return {"name": name, "spec": spec, "input": text, "expect": expect}


IP = [
    ipc("bare_ipv4_is_kept", "1.2.3.4", "1.2.3.4", spec="§9.1 §4.1"),
    ipc("ipv4_one_one_one_one", "1.1.1.1", "1.1.1.1", spec="§9.29"),
    ipc("ipv4_zero_address", "0.0.0.0", "0.0.0.0"),
    ipc("ipv4_broadcast", "255.255.255.255", "255.255.255.255"),
    ipc("ipv4_loopback", "127.0.0.1", "127.0.0.1"),
    ipc("ipv6_loopback", "::1", "::1"),
    ipc("ipv6_unspecified", "::", "::"),
    ipc("ipv6_upper_case_is_lowered", "2001:DB8::ABCD", "2001:db8::abcd"),
    ipc("ipv6_full_form_is_compressed", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ipc("ipv6_first_of_equal_zero_runs_is_compressed", "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
    ipc("ipv6_longest_zero_run_is_compressed", "2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
    ipc("ipv6_single_zero_group_is_not_compressed", "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
    ipc("ipv6_link_local", "fe80::1", "fe80::1"),
    ipc("ipv4_mapped_ipv6_is_printed_as_ipv4", "::ffff:1.2.3.4", "1.2.3.4"),
    ipc("ipv4_mapped_ipv6_upper_case", "::FFFF:10.0.0.1", "10.0.0.1"),
    ipc("ipv4_mapped_ipv6_in_hex_is_printed_as_ipv4", "::ffff:0102:0304", "1.2.3.4"),
    ipc("ipv4_compatible_ipv6_is_printed_in_hex", "::1.2.3.4", "::102:304"),
    ipc("ipv4_with_port_is_not_bare", "1.2.3.4:5678", "0.0.0.0", spec="§4.1 §10"),
    ipc("ipv6_with_zone_is_not_bare", "fe80::1%eth0", "0.0.0.0"),
    ipc("ipv4_with_leading_zero_is_not_bare", "01.2.3.4", "0.0.0.0"),
    ipc("ipv4_with_leading_zero_in_last_octet_is_not_bare", "1.2.3.04", "0.0.0.0"),
    ipc("bracketed_ipv6_is_not_bare", "[::1]", "0.0.0.0"),
    ipc("bracketed_ipv6_with_port_is_not_bare", "[::1]:8080", "0.0.0.0"),
    ipc("leading_space_is_not_bare", " 1.2.3.4", "0.0.0.0"),
    ipc("trailing_space_is_not_bare", "1.2.3.4 ", "0.0.0.0"),
    ipc("empty_is_zero_address", "", "0.0.0.0", spec="§9.5 §4.1"),
    ipc("hostname_is_not_an_ip", "localhost", "0.0.0.0"),
    ipc("ipv4_with_mask_is_not_bare", "1.2.3.4/32", "0.0.0.0"),
    ipc("three_octets_is_not_an_ip", "1.2.3", "0.0.0.0"),
    ipc("octet_over_255_is_not_an_ip", "256.1.1.1", "0.0.0.0"),
]


# --------------------------------------------------------------------------------------------
# scopes.json
# --------------------------------------------------------------------------------------------

def sc(name, spec, scope, scopes, out_scopes=None, legacy=None, bad=None):
    if bad is not None:
        exp = {"error": {"status": 400, "message": "Failed to create API key.",
                         "detail": "invalid or unsupported API key scope: " + bad}}
    else:
        exp = {"scopes": out_scopes, "scope": legacy}
    return {"name": name, "spec": spec, "scope": scope, "scopes": scopes, "expect": exp}


ALL_PUBLIC_CANONICAL = [s for s in EXTERNAL_SCOPES if s not in ("all", "application_connect")]

SCOPES = [
    sc("neither_scope_nor_scopes_defaults_to_coder_all", "§4.2 §9.52", None, [], ["coder:all"], "all"),
    sc("empty_legacy_scope_defaults_to_coder_all", "§9.6", "", [], ["coder:all"], "all"),
    sc("legacy_application_connect_maps_to_canonical", "§9.54 §9.55", "application_connect", [],
       ["coder:application_connect"], "application_connect"),
    sc("legacy_all_maps_to_coder_all", "§9.55", "all", [], ["coder:all"], "all"),
    sc("legacy_field_accepts_canonical_coder_all", "§4.2 §8", "coder:all", [], ["coder:all"], "all"),
    sc("legacy_field_accepts_canonical_application_connect", "§4.2 §8", "coder:application_connect", [],
       ["coder:application_connect"], "application_connect"),
    sc("legacy_field_accepts_low_level_scope", "§4.2 §8", "workspace:read", [], ["workspace:read"], ""),
    sc("scopes_list_wins_over_legacy_scope", "§4.1 §4.2", "application_connect", ["workspace:read"],
       ["workspace:read"], ""),
    sc("scopes_list_wins_even_over_an_invalid_legacy_scope", "§4.1 §4.2", "test", ["template:use"],
       ["template:use"], ""),
    sc("alias_all_in_list_maps_to_coder_all", "§4.1 §8", None, ["all"], ["coder:all"], "all"),
    sc("alias_and_canonical_all_are_deduplicated", "§4.1 §8", None, ["all", "coder:all"], ["coder:all"], "all"),
    sc("canonical_then_alias_application_connect_are_deduplicated", "§4.1 §8", None,
       ["coder:application_connect", "application_connect"], ["coder:application_connect"],
       "application_connect"),
    sc("duplicates_keep_the_first_occurrence", "§4.1", None,
       ["workspace:read", "template:use", "workspace:read"], ["workspace:read", "template:use"], ""),
    sc("low_level_then_all_keeps_order", "§4.1 §3", None, ["workspace:read", "all"],
       ["workspace:read", "coder:all"], "all"),
    sc("application_connect_takes_precedence_in_derived_scope", "§3", None,
       ["coder:all", "coder:application_connect"], ["coder:all", "coder:application_connect"],
       "application_connect"),
    sc("alias_application_connect_then_coder_all", "§3 §4.1", None, ["application_connect", "coder:all"],
       ["coder:application_connect", "coder:all"], "application_connect"),
    sc("workspace_application_connect_is_not_the_special_scope", "§3 §8", None,
       ["workspace:application_connect"], ["workspace:application_connect"], ""),
    sc("composite_scopes_are_public", "§8", None, ["coder:workspaces.create", "coder:apikeys.manage_self"],
       ["coder:workspaces.create", "coder:apikeys.manage_self"], ""),
    sc("wildcard_scopes_are_public", "§8", None, ["workspace:*", "organization:*", "user_secret:*", "task:*"],
       ["workspace:*", "organization:*", "user_secret:*", "task:*"], ""),
    sc("every_public_canonical_scope_is_accepted", "§8", None, list(ALL_PUBLIC_CANONICAL),
       list(ALL_PUBLIC_CANONICAL), "application_connect"),
    sc("unknown_legacy_scope_test_is_rejected", "§9.2 §4.2", "test", [], bad='"test"'),
    sc("unknown_scope_workspace_fly_is_rejected", "§4.2", None, ["workspace:fly"], bad='"workspace:fly"'),
    sc("empty_name_in_list_is_rejected", "§4.2", None, [""], bad='""'),
    sc("scope_names_are_case_sensitive", "§4.2 §8", None, ["Coder:All"], bad='"Coder:All"'),
    sc("first_invalid_name_is_reported", "§4.2", None, ["workspace:read", "test", "workspace:fly"],
       bad='"test"'),
    sc("file_update_is_not_public", "§8", None, ["file:update"], bad='"file:update"'),
    sc("internal_no_user_data_is_not_public", "§8", None, ["no_user_data"], bad='"no_user_data"'),
    sc("enum_member_outside_public_list_is_rejected", "§8", None, ["chat:read"], bad='"chat:read"'),
    sc("leading_space_is_not_trimmed", "§4.2", " all", [], bad='" all"'),
    sc("quote_in_name_is_escaped_in_detail", "§4.2", None, ['a"b'], bad='"a\\"b"'),
    sc("non_ascii_name_is_printed_as_is", "§4.2", None, ["workspace:réad"], bad='"workspace:réad"'),
]


# --------------------------------------------------------------------------------------------
# Cross-checks and output
# --------------------------------------------------------------------------------------------

def verify() -> None:
    problems = []

    def same(name, got, want):
        if got != want:
            problems.append(f"{name}: hand-written {want!r} but the model says {got!r}")

    for c in PARSE:
        same(c["name"], model_split(c["input"]), c["expect"])
        same(c["name"] + " (strict)", model_strict(c["input"]), c["strict"])
    for c in HASH:
        if "stored" in c:
            same(c["name"], bytes.fromhex(c["stored"]) == hashlib.sha256(c["secret"].encode()).digest(),
                 c["matches"])
    check_secrets = set()
    for c in CHECK:
        same(c["name"], model_check(c), c["expect"])
        check_ts_encoding(c["now"])
        if c["record"] is not None:
            for f in ("last_used", "expires_at", "created_at", "updated_at"):
                check_ts_encoding(c["record"][f])
            same(c["name"] + " (record ip)", model_canonical_ip(c["record"]["ip_address"]),
                 c["record"]["ip_address"])
        upd = c["expect"].get("verified", {}).get("update")
        if upd:
            check_ts_encoding(upd["last_used"])
            check_ts_encoding(upd["expires_at"])
        sp = model_split(c["presented"])
        if "secret" in sp:
            check_secrets.add(sp["secret"])
    digests = {c["secret"] for c in HASH if "sha256" in c}
    for s in sorted(check_secrets - digests):
        problems.append(f"hash.json lacks a digest case for check secret {s!r}")
    for c in EXTRACT:
        same(c["name"], model_extract(c), c["expect"])
    for c in LIFETIME:
        same(c["name"], model_lifetime(c), c["expect"])
        check_ts_encoding(c["now"])
        if "expires_at" in c["expect"]:
            check_ts_encoding(c["expect"]["expires_at"])
    for c in DURATION:
        if "input" in c:
            same(c["name"], model_parse_duration(c["input"]), c["expect"])
        else:
            same(c["name"], model_format_duration(c["nanos"]), c["formatted"])
    for c in IP:
        same(c["name"], model_canonical_ip(c["input"]), c["expect"])
    for c in SCOPES:
        same(c["name"], model_scopes(c), c["expect"])

    for kind, cases in FILES.items():
        names = [c["name"] for c in cases[1]]
        for n in names:
            if not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", n):
                problems.append(f"{kind}: name not snake_case: {n}")
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            problems.append(f"{kind}: duplicate names {sorted(dupes)}")
    if problems:
        sys.exit("refusing to write vectors:\n  " + "\n  ".join(problems))



# The error model's codes: numbers never change or get reused, names are the bindings' error
# codes, statuses are Coder's. Written here from the design's ranges, not read from the code.
def code(number, name, status, is_rejection=False):
    return {"name": name, "number": number, "status": status, "rejection": is_rejection}


CODES = [
    code(0, "ok", 200),
    code(1000, "missing", 401, True),
    code(1001, "malformed", 401, True),
    code(1002, "unknown_key", 401, True),
    code(1003, "invalid_secret", 401, True),
    code(1004, "expired", 401, True),
    code(1005, "user_deleted", 401, True),
    code(1006, "no_user_link", 401, True),
    code(1007, "user_inactive", 401, True),
    code(2000, "invalid_argument", 400),
    code(2001, "invalid_token", 400),
    code(2002, "invalid_duration", 400),
    code(2003, "invalid_settings", 400),
    code(2004, "invalid_timestamp", 400),
    code(2005, "invalid_scope", 400),
    code(2006, "invalid_allow_list", 400),
    code(2007, "invalid_login_type", 400),
    code(2008, "invalid_key", 400),
    code(2009, "invalid_lifetime", 400),
    code(2100, "null_argument", 400),
    code(2101, "invalid_utf8", 400),
    code(2102, "buffer_too_small", 400),
    code(3000, "lifetime_too_long", 400),
    code(4000, "forbidden", 403),
    code(4001, "not_found", 404),
    code(4002, "conflict", 409),
    code(5000, "store_busy", 500),
    code(5001, "store_corrupt", 500),
    code(5002, "store_read_only", 500),
    code(5003, "store_io", 500),
    code(5004, "store_full", 500),
    code(5005, "store_constraint", 500),
    code(5006, "store_incompatible", 500),
    code(6000, "random", 500),
    code(6001, "panic", 500),
    code(6002, "oauth_unavailable", 500),
]

FILES = {
    "parse": ("Coder's SplitAPIToken (§1): the id and secret of a presented token, or Coder's exact "
              "error; 'strict' adds the 62-symbol alphabet check.", PARSE),
    "hash": ("SHA-256 of the secret's UTF-8 bytes (§2), and whether stored bytes match a secret "
             "(constant-time; a stored value of any other length never matches).", HASH),
    "check": ("The ordered checks on a presented token (§6 rows 1-5) and the resulting KeyUpdate "
              "(§7), or the rejection with Coder's status, message, detail and WWW-Authenticate.", CHECK),
    "extract": ("Which token a request carries (§5 and fine points): cookie, query "
                "coder_session_token, Coder-Session-Token header, Authorization Bearer, query "
                "access_token; null when there is none.", EXTRACT),
    "lifetime": ("Token creation lifetime rules (§4.1 step 2, §4.2 steps 6-7, §4.6 tokenconfig): "
                 "expires_at and lifetime_seconds, or the 400 error.", LIFETIME),
    "duration": ("Go's time.ParseDuration plus d=24h and y=8760h, and Go's Duration.String() "
                 "(fine points).", DURATION),
    "ip": ("Canonical stored form of a request's remote address (§4.1 step 4, §7.1, fine "
           "points): a bare IP printed bare, anything else 0.0.0.0.", IP),
    "codes": ("Every outcome's stable code: number (the planned C ABI's tw_status), snake_case name (the "
              "bindings' error code), HTTP status, and whether it is a verdict on a presented token.",
              CODES),
    "scopes": ("Token-creation scope normalization (§4.2 step 3, §4.1 step 5, §8) and the derived "
               "legacy scope (§3), or the 400 error.", SCOPES),
}


def main() -> None:
    """Write the files, or with --check fail when a committed file differs from the script."""
    check = "--check" in sys.argv[1:]
    verify()
    total = 0
    stale = []
    for kind, (description, cases) in FILES.items():
        doc = {"schema": SCHEMA, "kind": kind, "description": description, "cases": cases}
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        path = OUT / f"{kind}.json"
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"{kind}.json: {len(cases)} cases")
        total += len(cases)
    if stale:
        sys.exit(f"vectors out of date with generate.py: {', '.join(stale)}")
    print(f"total: {total} cases" + (" (committed files up to date)" if check else ""))


if __name__ == "__main__":
    main()
