"""The conformance vectors, ``tests/vectors/*.json``, through the Python binding.

Every case of every file runs unchanged (schema and rules in ``tests/vectors/README.md``),
with the expectations of the other runners: ``tests/vectors.rs`` on the core,
``tests/ffi_vectors.rs`` through the C ABI and ``bindings/go/vectors_test.go`` through Go.
Each case is a test named by the case's ``name``. A case with no path through the Python API
is skipped with the reason, and ``test_file_counts`` checks for each file how many cases ran
and how many were skipped, so a file that silently stops running fails.

A rule the API reaches only through an operation is run through that operation, as the Go
runner does: the hash comparison through ``verify_record``, the lifetime and scope rules
through ``Authority.create_token`` and ``token_config`` on a ``:memory:`` authority, the
canonical address through the ``ip_address`` a new session stores, and Go's ``%q`` through the
details of ``create_token`` (an unknown scope) and ``create_session`` (an unknown login type).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
import tokenward
from tokenward import _native

SCHEMA = "tokenward-vectors/1"
VECTORS = Path(__file__).resolve().parents[3] / "tests" / "vectors"

Case = dict[str, Any]


@dataclass(frozen=True)
class VectorFile:
    """A file's kind, the test that runs its cases, and how many of them run and skip."""

    kind: str
    test: str
    ran: int
    skipped: int


# Update the counts when a file gains cases (tests/vectors/README.md lists each file's count).
FILES: dict[str, VectorFile] = {
    "parse.json": VectorFile("parse", "test_parse", 48, 0),
    "hash.json": VectorFile("hash", "test_hash", 26, 2),
    "check.json": VectorFile("check", "test_check", 86, 0),
    "extract.json": VectorFile("extract", "test_extract", 68, 0),
    "extract_grammar.json": VectorFile(
        "extract_grammar", "test_extract_grammar", 138, 0
    ),
    "lifetime.json": VectorFile("lifetime", "test_lifetime", 32, 0),
    "duration.json": VectorFile("duration", "test_duration", 127, 0),
    "ip.json": VectorFile("ip", "test_ip", 30, 0),
    "scopes.json": VectorFile("scopes", "test_scopes", 31, 0),
    "codes.json": VectorFile("codes", "test_codes", 36, 0),
    "quote.json": VectorFile("quote", "test_quote", 100, 0),
}

# Cases that fail because of a bug in the native module: (file, case name) -> reason, each
# run as a strict xfail, so the fix makes them fail until they are taken off this list.
NATIVE_BUGS: dict[tuple[str, str], str] = {}


# ---------------------------------------------------------------------------------------------
# The files and the runner.


@functools.cache
def _load(file: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((VECTORS / file).read_text(encoding="utf-8"))
    return doc


def document(file: str) -> dict[str, Any]:
    """``file``'s document, after checking its envelope (fails on a schema it does not know)."""
    doc = _load(file)
    assert doc.get("schema") == SCHEMA, f"{file}: unknown schema {doc.get('schema')!r}"
    assert doc.get("kind") == FILES[file].kind, f"{file}: kind {doc.get('kind')!r}"
    return doc


def cases(file: str) -> list[Case]:
    found: list[Case] = _load(file).get("cases", [])
    return found


@dataclass
class Tally:
    """The cases of one file that started, and those of them that were skipped."""

    started: set[str] = field(default_factory=set)
    skipped: dict[str, str] = field(default_factory=dict)


TALLY: dict[str, Tally] = {file: Tally() for file in FILES}

CaseTest = Callable[..., None]


def vectors(file: str) -> Callable[[CaseTest], CaseTest]:
    """Runs the decorated test on every case of ``file`` (its first argument, ``case``; any
    other arguments are fixtures), as one test per case with the case's name as its id. Each
    run checks the envelope and is tallied for ``test_file_counts``."""

    def decorate(test: CaseTest) -> CaseTest:
        @functools.wraps(test)
        def run(**arguments: Any) -> None:
            document(file)
            name = arguments["case"]["name"]
            TALLY[file].started.add(name)
            try:
                test(**arguments)
            except pytest.skip.Exception as skip:
                TALLY[file].skipped[name] = str(skip)
                raise

        params = [
            pytest.param(
                case,
                id=case.get("name", "?"),
                marks=[
                    pytest.mark.xfail(
                        strict=True, reason=NATIVE_BUGS[(file, case.get("name", ""))]
                    )
                ]
                if (file, case.get("name", "")) in NATIVE_BUGS
                else [],
            )
            for case in cases(file)
        ]
        parametrized: CaseTest = pytest.mark.parametrize("case", params)(run)
        return parametrized

    return decorate


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z\Z"
)


def ts(text: str) -> datetime:
    """A vector's timestamp (RFC 3339, UTC, ``Z``, at most 6 fraction digits) as an aware
    datetime, read here rather than by the library (``fromisoformat`` of Python 3.9 does not
    read ``Z`` or a fraction of other than 3 or 6 digits)."""
    match = _TIMESTAMP.match(text)
    assert match is not None, f"not a vector timestamp: {text!r}"
    year, month, day, hour, minute, second, fraction = match.groups()
    return datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        int((fraction or "0").ljust(6, "0")),
        tzinfo=timezone.utc,
    )


def check_instant(what: str, got: Any, want: str) -> None:
    """``got`` is an aware UTC datetime at the instant ``want``, to the microsecond."""
    assert isinstance(got, datetime), f"{what}: {got!r} is not a datetime"
    assert got.utcoffset() == timedelta(0), (
        f"{what}: {got!r} is not an aware UTC datetime"
    )
    assert got == ts(want), f"{what}: got {got.isoformat()}, want {want}"


def check_aware_utc(what: str, got: Any) -> None:
    assert isinstance(got, datetime), f"{what}: {got!r} is not a datetime"
    assert got.utcoffset() == timedelta(0), (
        f"{what}: {got!r} is not an aware UTC datetime"
    )


# The exception classes with no code of their own: the bases of the per-code classes.
def _bases() -> tuple[type, ...]:
    return (tokenward.TokenwardError, tokenward.Rejected, tokenward.StoreError)


@functools.cache
def exception_classes() -> dict[str, type[tokenward.TokenwardError]]:
    """Every exception class the package exports, by its code (the bases left out)."""
    found: dict[str, type[tokenward.TokenwardError]] = {}
    for value in vars(tokenward).values():
        if not isinstance(value, type) or not issubclass(
            value, tokenward.TokenwardError
        ):
            continue
        if value in _bases():
            continue
        other = found.setdefault(value.code, value)
        assert other is value, (
            f"{other.__name__} and {value.__name__} both have code {value.code!r}"
        )
    return found


def error_class(code: str) -> type[tokenward.TokenwardError]:
    """The exported exception class of ``code``."""
    classes = exception_classes()
    assert code in classes, f"tokenward has no exception class with code {code!r}"
    return classes[code]


def check_body(error: tokenward.TokenwardError) -> None:
    """The error's JSON body is Coder's: its message and detail, and a newline at the end."""
    body = json.loads(error.body)
    assert body.get("message") == error.message, f"body {error.body!r}"
    assert body.get("detail") == error.detail, f"body {error.body!r}"
    assert error.body.endswith("\n"), f"body {error.body!r}"
    assert ("Content-Type", tokenward.CONTENT_TYPE) in error.headers


def check_operational_error(
    error: tokenward.TokenwardError, want: dict[str, Any]
) -> None:
    """An operational error's answer: the status, message and detail the vector states, its
    body, and no ``WWW-Authenticate`` (only rejections carry one)."""
    assert error.status == want["status"]
    assert error.message == want["message"]
    assert error.detail == want["detail"]
    check_body(error)
    assert error.www_authenticate is None
    assert all(name.lower() != "www-authenticate" for name, _ in error.headers)


def user(roles: list[str]) -> tokenward.User:
    """The user every authority case acts as, and for."""
    return tokenward.User("vector-user", roles=roles)


@pytest.fixture(scope="module")
def authority() -> Iterator[tokenward.Authority]:
    """An authority over a new ``:memory:`` store with the default settings (``{}``)."""
    with tokenward.Authority.open(
        ":memory:", tokenward.Settings.from_json("{}")
    ) as opened:
        yield opened


# ---------------------------------------------------------------------------------------------
# The envelopes, and the counts.


@pytest.mark.parametrize("file", list(FILES))
def test_envelope(file: str, vectors_dir: Path) -> None:
    assert vectors_dir == VECTORS
    assert sorted(p.name for p in vectors_dir.glob("*.json")) == sorted(FILES)
    doc = document(file)
    names = [case.get("name") for case in doc["cases"]]
    assert names, f"{file} has no cases"
    assert all(isinstance(n, str) and n for n in names), (
        f"{file}: a case without a name"
    )
    twice = sorted({n for n in names if names.count(n) > 1})
    assert not twice, f"{file}: case names twice: {twice}"
    if file in ("extract_grammar.json", "quote.json"):
        assert str(doc.get("go_version", "")).startswith("go"), doc.get("go_version")
    if file == "quote.json":
        ranges = doc["unprintable"]
        assert ranges, "quote.json has no unprintable ranges"
        for previous, current in zip([None] + ranges, ranges):
            assert current[0] <= current[1], f"unprintable range {current}"
            assert previous is None or previous[1] < current[0], (
                f"out of order at {current}"
            )


# ---------------------------------------------------------------------------------------------
# parse.json


@vectors("parse.json")
def test_parse(case: Case) -> None:
    text: str = case["input"]
    want = case["expect"]
    invalid_token = error_class("invalid_token")
    if "error" in want:
        with pytest.raises(invalid_token) as raised:
            tokenward.parse(text)
        assert raised.value.detail == want["error"]
        if len(text) > 10:
            assert text not in str(raised.value), "the error echoes the token"
    else:
        token = tokenward.parse(text)
        assert (token.id, token.secret) == (want["id"], want["secret"])
    # The strict parse accepts exactly the strict cases (a plain failure fails both).
    if case["strict"]:
        token = tokenward.parse(text, strict=True)
        assert (token.id, token.secret) == (want["id"], want["secret"])
    else:
        with pytest.raises(invalid_token):
            tokenward.parse(text, strict=True)


# ---------------------------------------------------------------------------------------------
# hash.json

HASH_NOW = ts("2026-03-01T12:00:00Z")


def hash_record(stored: bytes) -> tokenward.ApiKey:
    """A stored key holding ``stored`` as its hash: id ``hashvector``, valid at ``HASH_NOW``
    with nothing to refresh (used a minute ago, a token, which never slides)."""
    return tokenward.ApiKey(
        id="hashvector",
        hashed_secret=stored,
        user_id="u",
        login_type="token",
        created_at=ts("2026-03-01T12:00:00Z"),
        expires_at=ts("2026-03-08T12:00:00Z"),
        last_used=ts("2026-03-01T11:59:00Z"),
        updated_at=ts("2026-03-01T12:00:00Z"),
        lifetime_seconds=604800,
        ip_address="0.0.0.0",
        token_name="",
        scopes=["coder:all"],
        allow_list=[{"type": "*", "id": "*"}],
    )


@vectors("hash.json")
def test_hash(case: Case) -> None:
    secret: str = case["secret"]
    if "sha256" in case:
        want = bytes.fromhex(case["sha256"])
        got = tokenward.hash_secret(secret)
        assert isinstance(got, bytes)
        assert got == want
        assert tokenward.hash_secret(secret.encode("utf-8")) == want
        assert tokenward.hash_secrets([secret, secret.encode("utf-8")]) == [want, want]
        return
    # A comparison case. No function compares hashes on its own: verify_record does, on a
    # presented token against a record holding the stored bytes (after the parse, before the
    # expiry, which the record passes).
    if len(secret.encode("utf-8")) != 22 or "-" in secret:
        pytest.skip(
            "the comparison is reached through verify_record only, on a token's 22-byte "
            "secret; this secret cannot be presented"
        )
    stored = bytes.fromhex(case["stored"])
    key = hash_record(stored)
    assert key.hashed_secret == stored
    presented = f"hashvector-{secret}"
    if case["matches"]:
        verified = tokenward.verify_record(presented, key, now=HASH_NOW)
        assert verified.update is None
    else:
        with pytest.raises(error_class("invalid_secret")):
            tokenward.verify_record(presented, key, now=HASH_NOW)


# ---------------------------------------------------------------------------------------------
# check.json


@vectors("check.json")
def test_check(case: Case) -> None:
    record: dict[str, Any] | None = case["record"]
    key = None if record is None else tokenward.ApiKey.from_json(json.dumps(record))
    settings = tokenward.Settings.from_json(json.dumps(case.get("settings", {})))
    presented: str = case["presented"]
    now = ts(case["now"])
    remote_addr: str = case.get("remote_addr", "")
    want = case["expect"]
    if "rejection" in want:
        rejection = want["rejection"]
        with pytest.raises(tokenward.Rejected) as raised:
            tokenward.verify_record(
                presented, key, now=now, settings=settings, remote_addr=remote_addr
            )
        error = raised.value
        assert error.code == rejection["code"]
        assert type(error) is error_class(rejection["code"])
        assert isinstance(error, PermissionError)
        assert error.status == rejection["status"]
        assert error.message == rejection["message"]
        assert error.detail == rejection["detail"]
        assert error.www_authenticate == rejection["www_authenticate"]
        assert ("WWW-Authenticate", rejection["www_authenticate"]) in error.headers
        check_body(error)
        # No rejection carries the presented token's secret.
        _, dash, secret = presented.partition("-")
        if dash and len(secret) >= 8:
            for text in (
                str(error),
                repr(error),
                error.body,
                error.www_authenticate or "",
            ):
                assert secret not in text, "the rejection holds the secret"
        return
    assert "verified" in want, "the case expects neither verified nor rejection"
    assert key is not None and record is not None
    verified = tokenward.verify_record(
        presented, key, now=now, settings=settings, remote_addr=remote_addr
    )
    assert verified.key == key
    update = verified.update
    want_update = want["verified"]["update"]
    if want_update is None:
        assert update is None, f"got {update!r}, want no update"
        return
    assert update is not None, f"got no update, want {want_update}"
    assert update.id == record["id"]
    check_instant("last_used", update.last_used, want_update["last_used"])
    check_instant("expires_at", update.expires_at, want_update["expires_at"])
    assert update.ip_address == want_update["ip_address"]
    # The decision was made on the record's expires_at.
    check_instant(
        "previous_expires_at", update.previous_expires_at, record["expires_at"]
    )


# ---------------------------------------------------------------------------------------------
# extract.json and extract_grammar.json


def extract(case: Case, as_bytes: bool) -> tokenward.Extracted | None:
    """``extract_token`` on the case's header pairs and raw query, as ``str`` or as UTF-8
    ``bytes`` (the binding takes both; the vectors hold UTF-8 only, so both answer alike)."""
    query: str = case["query"]
    if as_bytes:
        return tokenward.extract_token(
            [
                (name.encode("utf-8"), value.encode("utf-8"))
                for name, value in case["headers"]
            ],
            query.encode("utf-8"),
        )
    return tokenward.extract_token(
        [(name, value) for name, value in case["headers"]], query
    )


def check_extract(case: Case, source: bool) -> None:
    want: str | None = case["expect"]
    for as_bytes in (False, True):
        got = extract(case, as_bytes)
        form = "bytes" if as_bytes else "str"
        if want is None:
            assert got is None, f"{form}: got a token from {got.source!r}, want none"
            continue
        assert got is not None, f"{form}: got no token, want {want!r}"
        assert got.token == want, f"{form}: got {got.token!r}, want {want!r}"
        if source:
            assert got.source == case["source"], f"{form}: source {got.source!r}"


@vectors("extract.json")
def test_extract(case: Case) -> None:
    check_extract(case, source=False)


@vectors("extract_grammar.json")
def test_extract_grammar(case: Case) -> None:
    assert (case["expect"] is None) == (case["source"] is None)
    check_extract(case, source=True)


# ---------------------------------------------------------------------------------------------
# lifetime.json


def lifetime_argument(nanos: int) -> Any:
    """``lifetime_ns`` as ``create_token``'s ``lifetime``: None for 0 ("not given"), a
    timedelta when it is whole microseconds, else Go's ``<n>ns`` (a timedelta cannot hold it)."""
    if nanos == 0:
        return None
    if nanos % 1000 == 0:
        return timedelta(microseconds=nanos // 1000)
    return f"{nanos}ns"


def micros_toward_zero(nanos: int) -> int:
    return nanos // 1000 if nanos >= 0 else -(-nanos // 1000)


@vectors("lifetime.json")
def test_lifetime(case: Case) -> None:
    settings = tokenward.Settings.from_json(json.dumps(case["settings"]))
    target = user(case["target_roles"])
    want = case["expect"]
    with tokenward.Authority.open(":memory:", settings) as authority:
        # token_config is a timedelta: the maximum in whole microseconds.
        maximum: int = case["max_token_lifetime_ns"]
        assert authority.token_config(target) == timedelta(
            microseconds=micros_toward_zero(maximum)
        )
        create = functools.partial(
            authority.create_token,
            target,
            target,
            lifetime=lifetime_argument(case["lifetime_ns"]),
            token_name=case["name"],
            remote_addr="203.0.113.7",
        )
        if "error" in want:
            # The vectors name no code: either lifetime code.
            with pytest.raises(tokenward.InvalidArgument) as raised:
                create()
            assert raised.value.code in ("invalid_lifetime", "lifetime_too_long"), (
                raised.value
            )
            check_operational_error(raised.value, want["error"])
            return
        _, key = create()
    check_aware_utc("expires_at", key.expires_at)
    check_aware_utc("created_at", key.created_at)
    # The authority reads the system clock, which cannot be set: compare the span from the
    # key's created_at (its "now") with the span the case expects from now, to the microsecond.
    assert key.expires_at - key.created_at == ts(want["expires_at"]) - ts(case["now"])
    # The key is the stored one: a lifetime of 0 whole seconds is stored as 86400
    # (tests/vectors/README.md: "That substitution belongs to the store").
    seconds = want["lifetime_seconds"] or 86400
    assert key.lifetime_seconds == seconds
    public = json.loads(key.to_json())
    assert public["lifetime_seconds"] == seconds
    assert ts(public["expires_at"]) == key.expires_at


# ---------------------------------------------------------------------------------------------
# duration.json


@vectors("duration.json")
def test_duration(case: Case) -> None:
    if "nanos" in case:
        nanos: int = case["nanos"]
        assert tokenward.format_duration(nanos) == case["formatted"]
        if nanos % 1000 == 0:
            delta = timedelta(microseconds=nanos // 1000)
            assert tokenward.format_duration(delta) == case["formatted"]
        return
    text: str = case["input"]
    want = case["expect"]
    if "error" in want:
        invalid_duration = error_class("invalid_duration")
        with pytest.raises(invalid_duration) as raised:
            tokenward.parse_duration_ns(text)
        assert raised.value.detail == want["error"]
        with pytest.raises(invalid_duration) as raised:
            tokenward.parse_duration(text)
        assert raised.value.detail == want["error"]
        return
    assert "nanos" in want, "the case expects neither nanos nor an error"
    got = tokenward.parse_duration_ns(text)
    assert isinstance(got, int) and got == want["nanos"]
    # parse_duration drops a sub-microsecond remainder.
    assert tokenward.parse_duration(text) == timedelta(
        microseconds=micros_toward_zero(want["nanos"])
    )


# ---------------------------------------------------------------------------------------------
# ip.json


@vectors("ip.json")
def test_ip(case: Case, authority: tokenward.Authority) -> None:
    # The address a new key records for the request's remote address.
    _, key = authority.create_session(user([]), "password", remote_addr=case["input"])
    assert key.ip_address == case["expect"]


# ---------------------------------------------------------------------------------------------
# scopes.json


@vectors("scopes.json")
def test_scopes(case: Case, authority: tokenward.Authority) -> None:
    me = user([])
    want = case["expect"]
    # scope: None and "" both mean "not given".
    create = functools.partial(
        authority.create_token,
        me,
        me,
        token_name=case["name"],
        scopes=case["scopes"],
        scope=case["scope"],
    )
    if "error" in want:
        with pytest.raises(error_class("invalid_scope")) as raised:
            create()
        check_operational_error(raised.value, want["error"])
        return
    _, key = create()
    assert [str(getattr(s, "value", s)) for s in key.scopes] == want["scopes"]
    assert key.scope == want["scope"]
    public = json.loads(key.to_json())
    assert (public["scopes"], public["scope"]) == (want["scopes"], want["scope"])


# ---------------------------------------------------------------------------------------------
# codes.json


def listed_codes() -> dict[str, Case]:
    return {case["name"]: case for case in document("codes.json")["cases"]}


@vectors("codes.json")
def test_codes(case: Case) -> None:
    name: str = case["name"]
    number: int = case["number"]
    # The native table the classes are made from.
    rows = {row[0]: row for row in _native.CODES}
    assert number in rows, f"_native.CODES has no code {number}"
    assert rows[number][1:4] == (name, case["status"], case["rejection"])
    classes = exception_classes()
    if number == 0:
        assert name not in classes, "success has no exception class"
        assert not case["rejection"]
        return
    cls = error_class(name)
    assert cls.code == name
    assert cls.number == number
    assert cls().status == case["status"]
    assert issubclass(cls, tokenward.Rejected) == case["rejection"]
    # Named after the code (expired -> Expired), and exported under that name.
    assert cls.__name__ == "".join(part.capitalize() for part in name.split("_"))
    assert getattr(tokenward, cls.__name__) is cls
    assert cls.__name__ in tokenward.__all__


def test_every_code_has_an_exception_class() -> None:
    listed = listed_codes()
    assert sorted(row[0] for row in _native.CODES) == sorted(
        c["number"] for c in listed.values()
    )
    classes = exception_classes()
    assert sorted(classes) == sorted(
        name for name, c in listed.items() if c["number"] != 0
    )
    for name, cls in classes.items():
        assert (cls.code, cls.number, cls().status) == (
            name,
            listed[name]["number"],
            listed[name]["status"],
        )
        error = cls("a detail")
        assert (error.code, error.number, error.status) == (
            name,
            listed[name]["number"],
            listed[name]["status"],
        )


def test_rejected_subclasses_are_exactly_the_rejection_codes() -> None:
    listed = listed_codes()
    rejected = sorted(
        code
        for code, cls in exception_classes().items()
        if issubclass(cls, tokenward.Rejected)
    )
    assert rejected == sorted(name for name, c in listed.items() if c["rejection"])
    assert rejected, "no rejection codes"
    for code in rejected:
        assert issubclass(exception_classes()[code], PermissionError)


# ---------------------------------------------------------------------------------------------
# quote.json


def quoted_by_scope(authority: tokenward.Authority, text: str) -> str:
    """``text`` as create_token quotes a scope it does not accept:
    ``invalid or unsupported API key scope: %q``."""
    me = user([])
    with pytest.raises(error_class("invalid_scope")) as raised:
        authority.create_token(me, me, scopes=[text])
    prefix = "invalid or unsupported API key scope: "
    detail = raised.value.detail
    assert detail.startswith(prefix), f"unexpected detail {detail!r}"
    return detail[len(prefix) :]


def quoted_by_login_type(authority: tokenward.Authority, text: str) -> str:
    """``text`` as create_session quotes a login type it does not know:
    ``unknown login type %q``."""
    with pytest.raises(error_class("invalid_login_type")) as raised:
        authority.create_session(user([]), text)
    prefix = "unknown login type "
    detail = raised.value.detail
    assert detail.startswith(prefix), f"unexpected detail {detail!r}"
    return detail[len(prefix) :]


@vectors("quote.json")
def test_quote(case: Case, authority: tokenward.Authority) -> None:
    assert quoted_by_scope(authority, case["input"]) == case["quoted"]
    assert quoted_by_login_type(authority, case["input"]) == case["quoted"]


def test_quote_escapes_exactly_what_go_finds_unprintable(
    authority: tokenward.Authority,
) -> None:
    """Every code point a ``str`` can hold (but the surrogates) comes back raw from the
    library's ``%q`` exactly when Go's ``unicode.IsPrint`` (as quote.json records it) accepts
    it. By default the walk takes both sides of every edge of the unprintable ranges and every
    61st code point besides, as the Go runner does; ``TOKENWARD_QUOTE_WALK=all`` walks all
    1,112,064 (as tests/ffi_vectors.rs does)."""
    doc = document("quote.json")
    ranges: list[list[int]] = doc["unprintable"]
    walk_all = os.environ.get("TOKENWARD_QUOTE_WALK") == "all"
    edges = {
        u
        for start, end in ranges
        for u in (start - 1, start, start + 1, end - 1, end, end + 1)
    }
    me = user([])
    wrong: list[str] = []
    walked = 0
    following = 0
    for u in range(0x110000):
        if 0xD800 <= u <= 0xDFFF or not (walk_all or u in edges or u % 61 == 0):
            continue
        while following < len(ranges) and ranges[following][1] < u:
            following += 1
        go_printable = following == len(ranges) or u < ranges[following][0]
        c = chr(u)
        try:
            authority.create_session(me, c)
        except tokenward.InvalidArgument as error:
            assert error.code == "invalid_login_type", f"U+{u:04X}: {error!r}"
            quoted = error.detail[len("unknown login type ") :]
        else:
            pytest.fail(f"U+{u:04X} was accepted as a login type")
        raw = quoted == f'"{c}"'
        # Go escapes '"' and '\\' although it can print them.
        if raw != (go_printable and c not in '"\\'):
            wrong.append(f"U+{u:04X} (raw: {raw}, Go printable: {go_printable})")
        walked += 1
    if walk_all:
        assert walked == 0x110000 - 0x800
    else:
        assert walked >= 0x110000 // 61
    assert not wrong, (
        f"{len(wrong)} code points quoted unlike Go {doc['go_version']}, first: {wrong[:20]}"
    )


# ---------------------------------------------------------------------------------------------
# The counts: after every case test above (pytest runs a module's tests in order).


@pytest.mark.parametrize("file", list(FILES))
def test_file_counts(file: str, request: pytest.FixtureRequest) -> None:
    spec = FILES[file]
    names = [case["name"] for case in document(file)["cases"]]
    module = sys.modules[__name__]
    items = request.session.items
    selected = [
        item
        for item in items
        if isinstance(item, pytest.Function)
        and item.originalname == spec.test
        and item.module is module
    ]
    if len(selected) != len(names):
        pytest.skip(
            f"{len(selected)} of {len(names)} {file} cases selected: the counts are for a whole file"
        )
    here = next(i for i, item in enumerate(items) if item is request.node)
    if any(items.index(item) > here for item in selected):
        pytest.skip(f"the {file} cases run after this test: the counts need them first")
    tally = TALLY[file]
    never = [name for name in names if name not in tally.started]
    assert not never, (
        f"{file}: {len(never)} selected cases never started (skipped before running?): {never[:10]}"
    )
    skipped = len(tally.skipped)
    ran = len(names) - skipped
    assert ran > 0, f"{file}: no case ran"
    assert (ran, skipped) == (spec.ran, spec.skipped), (
        f"{file}: {ran} cases run and {skipped} skipped, want {spec.ran} and {spec.skipped}"
    )
