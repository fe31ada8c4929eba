"""Bad input to every public function and method: each raises one precise, clear Python
exception (TypeError, a ValueError subclass, or a tokenward error with a code), never crashes
the interpreter and never hangs; and no error ever shows a token's secret.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Callable

import pytest
import tokenward
from _support import OWNER, UTC, error_texts, sha256, split, sqlite_url

MIB = 1 << 20
BIG: Any = "x" * MIB
"""A 1 MiB string."""
NUL: Any = "a\0b"
SURROGATE: Any = "\ud800"
"""A lone surrogate: a `str` that has no UTF-8 form."""
NAIVE: Any = datetime(2026, 1, 2, 15, 4, 5)
AWARE = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)
INT: Any = 1
LIST: Any = []
OBJECT: Any = object()
NONE: Any = None
BYTES: Any = b"bytes"


class NoOffset(tzinfo):
    """A tzinfo that knows no offset: Python counts such a datetime as naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


@dataclass
class World:
    authority: tokenward.Authority
    token: str
    key: tokenward.ApiKey
    update: tokenward.KeyUpdate


def open_world(url: str) -> Iterator[World]:
    with tokenward.Authority.open(url) as authority:
        token, key = authority.create_token(
            "jane", token_name="ci", remote_addr="192.0.2.1"
        )
        update = tokenward.verify_record(token, key, remote_addr="192.0.2.2").update
        assert update is not None
        yield World(authority, token, key, update)


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A store holding jane's token "ci": `:memory:` or a SQLite file."""
    url = ":memory:" if request.param == "memory" else sqlite_url(tmp_path)
    yield from open_world(url)


@pytest.fixture
def memory_world() -> Iterator[World]:
    """For the calls that do not reach a store."""
    yield from open_world(":memory:")


def api_key(**changes: Any) -> tokenward.ApiKey:
    columns: dict[str, Any] = {
        "id": "AbCdEfGhIj",
        "hashed_secret": sha256("s" * 22),
        "user_id": "jane",
        "login_type": "token",
        "created_at": AWARE,
        "expires_at": AWARE + timedelta(days=1),
    }
    columns.update(changes)
    return tokenward.ApiKey(**columns)


def loose(obj: object) -> Any:
    """`obj` with its types off: for calls that are ill-typed on purpose."""
    return obj


Call = Callable[[World], object]


def case(call: Call, expected: type[BaseException], id: str) -> Any:
    return pytest.param(call, expected, id=id)


CASES = [
    # generate, parse
    case(lambda w: loose(tokenward).generate(INT), TypeError, "generate-arg"),
    case(lambda w: tokenward.parse(INT), TypeError, "parse-int"),
    case(lambda w: tokenward.parse(LIST), TypeError, "parse-list"),
    case(lambda w: tokenward.parse(OBJECT), TypeError, "parse-object"),
    case(lambda w: tokenward.parse(NONE), TypeError, "parse-none"),
    case(lambda w: tokenward.parse(BYTES), TypeError, "parse-bytes"),
    case(lambda w: tokenward.parse(BIG), tokenward.InvalidToken, "parse-1mib"),
    case(lambda w: tokenward.parse("abcdefghij-" + BIG), tokenward.InvalidToken, "parse-1mib-secret"),
    case(lambda w: tokenward.parse(NUL), tokenward.InvalidToken, "parse-nul"),
    case(lambda w: tokenward.parse(w.token[:-1] + "\0", strict=True), tokenward.InvalidToken, "parse-nul-strict"),
    case(lambda w: tokenward.parse(SURROGATE), tokenward.InvalidArgument, "parse-surrogate"),
    case(lambda w: loose(tokenward).parse(w.token, strict="yes"), TypeError, "parse-strict-str"),
    # hash_secret, hash_secrets
    case(lambda w: tokenward.hash_secret(INT), TypeError, "hash-int"),
    case(lambda w: tokenward.hash_secret(LIST), TypeError, "hash-list"),
    case(lambda w: tokenward.hash_secret(OBJECT), TypeError, "hash-object"),
    case(lambda w: tokenward.hash_secret(NONE), TypeError, "hash-none"),
    case(lambda w: loose(tokenward).hash_secret(bytearray(b"x")), TypeError, "hash-bytearray"),
    case(lambda w: tokenward.hash_secret(SURROGATE), tokenward.InvalidArgument, "hash-surrogate"),
    case(lambda w: tokenward.hash_secrets(INT), TypeError, "hashes-int"),
    case(lambda w: tokenward.hash_secrets(NONE), TypeError, "hashes-none"),
    case(lambda w: tokenward.hash_secrets(OBJECT), TypeError, "hashes-object"),
    case(lambda w: tokenward.hash_secrets("secret"), TypeError, "hashes-str"),
    case(lambda w: tokenward.hash_secrets(BYTES), TypeError, "hashes-bytes"),
    case(lambda w: tokenward.hash_secrets([INT]), TypeError, "hashes-of-int"),
    case(lambda w: tokenward.hash_secrets(["ok", NONE]), TypeError, "hashes-of-none"),
    case(lambda w: tokenward.hash_secrets([SURROGATE]), tokenward.InvalidArgument, "hashes-of-surrogate"),
    # verify_record
    case(lambda w: tokenward.verify_record(INT, w.key), TypeError, "verify-token-int"),
    case(lambda w: tokenward.verify_record(NONE, w.key), TypeError, "verify-token-none"),
    case(lambda w: tokenward.verify_record(BYTES, w.key), TypeError, "verify-token-bytes"),
    case(lambda w: tokenward.verify_record(LIST, w.key), TypeError, "verify-token-list"),
    case(lambda w: tokenward.verify_record(BIG, w.key), tokenward.Malformed, "verify-token-1mib"),
    case(lambda w: tokenward.verify_record(NUL, w.key), tokenward.Malformed, "verify-token-nul"),
    case(lambda w: tokenward.verify_record(SURROGATE, w.key), tokenward.InvalidArgument, "verify-token-surrogate"),
    case(lambda w: tokenward.verify_record(w.token, INT), TypeError, "verify-key-int"),
    case(lambda w: loose(tokenward).verify_record(w.token, w.token), TypeError, "verify-key-str"),
    case(lambda w: loose(tokenward).verify_record(w.token, w.key.to_storage_dict()), TypeError, "verify-key-dict"),
    case(lambda w: tokenward.verify_record(w.token, w.key, now=INT), TypeError, "verify-now-int"),
    case(lambda w: tokenward.verify_record(w.token, w.key, now=LIST), TypeError, "verify-now-list"),
    case(lambda w: tokenward.verify_record(w.token, w.key, now=BYTES), TypeError, "verify-now-bytes"),
    case(lambda w: loose(tokenward).verify_record(w.token, w.key, now=date(2026, 1, 2)), TypeError, "verify-now-date"),
    case(lambda w: tokenward.verify_record(w.token, w.key, now=NAIVE), tokenward.InvalidTimestamp, "verify-now-naive"),
    case(lambda w: tokenward.verify_record(w.token, w.key, now="yesterday"), tokenward.InvalidTimestamp, "verify-now-text"),
    case(lambda w: tokenward.verify_record(w.token, w.key, now=BIG), tokenward.InvalidTimestamp, "verify-now-1mib"),
    case(lambda w: tokenward.verify_record(w.token, w.key, now=SURROGATE), UnicodeEncodeError, "verify-now-surrogate"),
    case(lambda w: tokenward.verify_record(w.token, w.key, settings=INT), TypeError, "verify-settings-int"),
    case(lambda w: loose(tokenward).verify_record(w.token, w.key, settings={}), TypeError, "verify-settings-dict"),
    case(lambda w: tokenward.verify_record(w.token, w.key, remote_addr=INT), TypeError, "verify-addr-int"),
    case(lambda w: tokenward.verify_record(w.token, w.key, remote_addr=BYTES), TypeError, "verify-addr-bytes"),
    case(lambda w: tokenward.verify_record(w.token, w.key, remote_addr=SURROGATE), tokenward.InvalidArgument, "verify-addr-surrogate"),
    # extract_token
    case(lambda w: tokenward.extract_token(INT), TypeError, "extract-headers-int"),
    case(lambda w: tokenward.extract_token(NONE), TypeError, "extract-headers-none"),
    case(lambda w: tokenward.extract_token(OBJECT), TypeError, "extract-headers-object"),
    case(lambda w: loose(tokenward).extract_token("Cookie"), TypeError, "extract-headers-str"),
    case(lambda w: loose(tokenward).extract_token([("a", "b", "c")]), TypeError, "extract-header-triple"),
    case(lambda w: tokenward.extract_token({"Cookie": INT}), TypeError, "extract-value-int"),
    case(lambda w: tokenward.extract_token({"Cookie": NONE}), TypeError, "extract-value-none"),
    case(lambda w: tokenward.extract_token({"Cookie": LIST}), TypeError, "extract-value-list"),
    case(lambda w: tokenward.extract_token([(INT, "x")]), TypeError, "extract-name-int"),
    case(lambda w: tokenward.extract_token({"Coder-Session-Token": SURROGATE}), tokenward.InvalidArgument, "extract-value-surrogate"),
    case(lambda w: tokenward.extract_token([(SURROGATE, "x")]), tokenward.InvalidArgument, "extract-name-surrogate"),
    case(lambda w: tokenward.extract_token({}, INT), TypeError, "extract-query-int"),
    case(lambda w: tokenward.extract_token({}, LIST), TypeError, "extract-query-list"),
    case(lambda w: tokenward.extract_token({}, SURROGATE), tokenward.InvalidArgument, "extract-query-surrogate"),
    # durations
    case(lambda w: tokenward.parse_duration(INT), TypeError, "duration-int"),
    case(lambda w: tokenward.parse_duration(NONE), TypeError, "duration-none"),
    case(lambda w: tokenward.parse_duration(BYTES), TypeError, "duration-bytes"),
    case(lambda w: loose(tokenward).parse_duration(timedelta(1)), TypeError, "duration-timedelta"),
    case(lambda w: tokenward.parse_duration(""), tokenward.InvalidDuration, "duration-empty"),
    case(lambda w: tokenward.parse_duration("soon"), tokenward.InvalidDuration, "duration-word"),
    case(lambda w: tokenward.parse_duration("1"), tokenward.InvalidDuration, "duration-no-unit"),
    case(lambda w: tokenward.parse_duration("1.5.h"), tokenward.InvalidDuration, "duration-two-dots"),
    case(lambda w: tokenward.parse_duration("1e3s"), tokenward.InvalidDuration, "duration-exponent"),
    case(lambda w: tokenward.parse_duration(" 1h"), tokenward.InvalidDuration, "duration-space"),
    case(lambda w: tokenward.parse_duration(".s"), tokenward.InvalidDuration, "duration-dot"),
    case(lambda w: tokenward.parse_duration("2562048h"), tokenward.InvalidDuration, "duration-over-go"),
    case(lambda w: tokenward.parse_duration("-2562048h"), tokenward.InvalidDuration, "duration-under-go"),
    case(lambda w: tokenward.parse_duration("1000y"), tokenward.InvalidDuration, "duration-1000y"),
    case(lambda w: tokenward.parse_duration("1" * MIB + "h"), tokenward.InvalidDuration, "duration-1mib-digits"),
    case(lambda w: tokenward.parse_duration(BIG), tokenward.InvalidDuration, "duration-1mib"),
    case(lambda w: tokenward.parse_duration(NUL), tokenward.InvalidDuration, "duration-nul"),
    case(lambda w: tokenward.parse_duration(SURROGATE), UnicodeEncodeError, "duration-surrogate"),
    case(lambda w: tokenward.parse_duration_ns(INT), TypeError, "duration-ns-int"),
    case(lambda w: tokenward.parse_duration_ns("soon"), tokenward.InvalidDuration, "duration-ns-word"),
    case(lambda w: tokenward.parse_duration_ns("9223372036854775808ns"), tokenward.InvalidDuration, "duration-ns-over"),
    case(lambda w: tokenward.format_duration(NONE), TypeError, "format-none"),
    case(lambda w: tokenward.format_duration(LIST), TypeError, "format-list"),
    case(lambda w: tokenward.format_duration(BYTES), TypeError, "format-bytes"),
    case(lambda w: loose(tokenward).format_duration(1.5), TypeError, "format-float"),
    case(lambda w: tokenward.format_duration(True), TypeError, "format-bool"),
    case(lambda w: tokenward.format_duration("soon"), tokenward.InvalidDuration, "format-word"),
    case(lambda w: tokenward.format_duration(timedelta.max), tokenward.InvalidDuration, "format-timedelta-max"),
    case(lambda w: tokenward.format_duration(timedelta.min), tokenward.InvalidDuration, "format-timedelta-min"),
    # Settings
    case(lambda w: loose(tokenward).Settings("24h"), TypeError, "settings-positional"),
    case(lambda w: loose(tokenward).Settings(nope="1h"), tokenward.InvalidSettings, "settings-unknown-name"),
    case(lambda w: loose(tokenward).Settings(**{BIG: "1h"}), tokenward.InvalidSettings, "settings-1mib-name"),
    case(lambda w: tokenward.Settings(session_duration="soon"), tokenward.InvalidSettings, "settings-bad-duration"),
    case(lambda w: tokenward.Settings(session_duration="0s"), tokenward.InvalidSettings, "settings-zero-session"),
    case(lambda w: tokenward.Settings(session_duration=timedelta(0)), tokenward.InvalidSettings, "settings-zero-timedelta"),
    case(lambda w: tokenward.Settings(session_duration="-1h"), tokenward.InvalidSettings, "settings-negative-session"),
    case(lambda w: tokenward.Settings(default_token_lifetime="0s"), tokenward.InvalidSettings, "settings-zero-default"),
    case(lambda w: tokenward.Settings(max_token_lifetime="-1s"), tokenward.InvalidSettings, "settings-negative-max"),
    case(lambda w: tokenward.Settings(max_admin_token_lifetime="-1s"), tokenward.InvalidSettings, "settings-negative-admin-max"),
    case(lambda w: tokenward.Settings(api_keys_retention="-1ns"), tokenward.InvalidSettings, "settings-negative-retention"),
    case(lambda w: tokenward.Settings(session_duration=INT), tokenward.InvalidSettings, "settings-duration-int"),
    case(lambda w: tokenward.Settings(session_duration=LIST), tokenward.InvalidSettings, "settings-duration-list"),
    case(lambda w: tokenward.Settings(session_duration=BYTES), tokenward.InvalidSettings, "settings-duration-bytes"),
    case(lambda w: loose(tokenward).Settings(session_duration=True), tokenward.InvalidSettings, "settings-duration-bool"),
    case(lambda w: tokenward.Settings(session_duration=NONE), tokenward.InvalidSettings, "settings-duration-none"),
    case(lambda w: tokenward.Settings(session_duration=BIG), tokenward.InvalidSettings, "settings-duration-1mib"),
    case(lambda w: tokenward.Settings(session_duration=NUL), tokenward.InvalidSettings, "settings-duration-nul"),
    case(lambda w: tokenward.Settings(session_duration=SURROGATE), UnicodeEncodeError, "settings-duration-surrogate"),
    case(lambda w: loose(tokenward).Settings(disable_session_expiry_refresh="maybe"), tokenward.InvalidSettings, "settings-flag-word"),
    case(lambda w: tokenward.Settings(disable_session_expiry_refresh=INT), tokenward.InvalidSettings, "settings-flag-int"),
    case(lambda w: loose(tokenward).Settings(disable_session_expiry_refresh=timedelta(1)), tokenward.InvalidSettings, "settings-flag-timedelta"),
    case(lambda w: tokenward.Settings(access_url="coder.example.com"), tokenward.InvalidSettings, "settings-url-no-scheme"),
    case(lambda w: tokenward.Settings(access_url="ftp://coder.example.com"), tokenward.InvalidSettings, "settings-url-ftp"),
    case(lambda w: tokenward.Settings(access_url="https://"), tokenward.InvalidSettings, "settings-url-no-host"),
    case(lambda w: tokenward.Settings(access_url="https:///path"), tokenward.InvalidSettings, "settings-url-path-only"),
    case(lambda w: tokenward.Settings(access_url=INT), tokenward.InvalidSettings, "settings-url-int"),
    case(lambda w: tokenward.Settings(access_url=BYTES), tokenward.InvalidSettings, "settings-url-bytes"),
    case(lambda w: loose(tokenward).Settings().replace(nope="1h"), tokenward.InvalidSettings, "replace-unknown-name"),
    case(lambda w: tokenward.Settings().replace(session_duration="soon"), tokenward.InvalidSettings, "replace-bad-duration"),
    case(lambda w: loose(tokenward).Settings().replace("1h"), TypeError, "replace-positional"),
    case(lambda w: tokenward.Settings.from_json(INT), TypeError, "settings-json-int"),
    case(lambda w: tokenward.Settings.from_json(NONE), TypeError, "settings-json-none"),
    case(lambda w: tokenward.Settings.from_json(BYTES), TypeError, "settings-json-bytes"),
    case(lambda w: tokenward.Settings.from_json(""), tokenward.InvalidSettings, "settings-json-empty"),
    case(lambda w: tokenward.Settings.from_json("null"), tokenward.InvalidSettings, "settings-json-null"),
    case(lambda w: tokenward.Settings.from_json("[]"), tokenward.InvalidSettings, "settings-json-array"),
    case(lambda w: tokenward.Settings.from_json('{"nope": "1h"}'), tokenward.InvalidSettings, "settings-json-unknown"),
    case(lambda w: tokenward.Settings.from_json('{"session_duration": "soon"}'), tokenward.InvalidSettings, "settings-json-bad-duration"),
    case(lambda w: tokenward.Settings.from_json('{"session_duration": "0s"}'), tokenward.InvalidSettings, "settings-json-zero"),
    case(lambda w: tokenward.Settings.from_json('{"disable_session_expiry_refresh": 1}'), tokenward.InvalidSettings, "settings-json-flag-int"),
    case(lambda w: tokenward.Settings.from_json("[" * 100_000), tokenward.InvalidSettings, "settings-json-deep"),
    case(lambda w: tokenward.Settings.from_json(BIG), tokenward.InvalidSettings, "settings-json-1mib"),
    case(lambda w: loose(tokenward).Settings.from_env(INT), TypeError, "settings-env-arg"),
    # User
    case(lambda w: tokenward.User(INT), TypeError, "user-id-int"),
    case(lambda w: tokenward.User(NONE), TypeError, "user-id-none"),
    case(lambda w: tokenward.User(BYTES), TypeError, "user-id-bytes"),
    case(lambda w: tokenward.User(SURROGATE), UnicodeEncodeError, "user-id-surrogate"),
    case(lambda w: tokenward.User("jane", "owner"), TypeError, "user-roles-str"),
    case(lambda w: tokenward.User("jane", INT), TypeError, "user-roles-int"),
    case(lambda w: tokenward.User("jane", [INT]), TypeError, "user-roles-of-int"),
    # Authority.open
    case(lambda w: tokenward.Authority(), TypeError, "authority-constructor"),
    case(lambda w: tokenward.Authority.open(INT), TypeError, "open-int"),
    case(lambda w: tokenward.Authority.open(NONE), TypeError, "open-none"),
    case(lambda w: tokenward.Authority.open(BYTES), TypeError, "open-bytes"),
    case(lambda w: loose(tokenward).Authority.open(":memory:", {}), TypeError, "open-settings-dict"),
    case(lambda w: tokenward.Authority.open(""), tokenward.InvalidArgument, "open-empty"),
    case(lambda w: tokenward.Authority.open("sqlite:"), tokenward.InvalidArgument, "open-sqlite-no-path"),
    case(lambda w: tokenward.Authority.open("mysql://db"), tokenward.InvalidArgument, "open-unknown-scheme"),
    case(lambda w: tokenward.Authority.open(NUL), tokenward.StoreIo, "open-nul"),
    case(lambda w: tokenward.Authority.open(BIG), tokenward.StoreIo, "open-1mib"),
    case(lambda w: tokenward.Authority.open(SURROGATE), UnicodeEncodeError, "open-surrogate"),
    # ApiKey
    case(lambda w: loose(tokenward).ApiKey("AbCdEfGhIj"), TypeError, "key-positional"),
    case(lambda w: loose(tokenward).ApiKey(id="AbCdEfGhIj"), TypeError, "key-missing-columns"),
    case(lambda w: api_key(nope=1), TypeError, "key-unknown-column"),
    case(lambda w: api_key(id="short"), tokenward.InvalidKey, "key-id-short"),
    case(lambda w: api_key(id=BIG), tokenward.InvalidKey, "key-id-1mib"),
    case(lambda w: api_key(id=INT), TypeError, "key-id-int"),
    case(lambda w: api_key(id=SURROGATE), UnicodeEncodeError, "key-id-surrogate"),
    case(lambda w: api_key(hashed_secret="x" * 32), TypeError, "key-hash-str"),
    case(lambda w: api_key(hashed_secret=[0] * 32), TypeError, "key-hash-list"),
    case(lambda w: api_key(hashed_secret=NONE), TypeError, "key-hash-none"),
    case(lambda w: api_key(user_id=NONE), TypeError, "key-user-none"),
    case(lambda w: api_key(user_id=BYTES), TypeError, "key-user-bytes"),
    case(lambda w: api_key(login_type="magic"), tokenward.InvalidLoginType, "key-login-unknown"),
    case(lambda w: api_key(login_type=INT), TypeError, "key-login-int"),
    case(lambda w: api_key(created_at=NAIVE), tokenward.InvalidTimestamp, "key-created-naive"),
    case(lambda w: api_key(created_at="2026-13-01T00:00:00Z"), tokenward.InvalidTimestamp, "key-created-bad-month"),
    case(lambda w: api_key(created_at="99999-01-01T00:00:00Z"), tokenward.InvalidTimestamp, "key-created-year-99999"),
    case(lambda w: api_key(created_at=INT), TypeError, "key-created-int"),
    case(lambda w: api_key(created_at=date(2026, 1, 2)), TypeError, "key-created-date"),
    case(lambda w: api_key(expires_at=NONE), TypeError, "key-expires-none"),
    case(lambda w: api_key(expires_at=BIG), tokenward.InvalidTimestamp, "key-expires-1mib"),
    case(lambda w: api_key(last_used=NAIVE), tokenward.InvalidTimestamp, "key-last-used-naive"),
    case(lambda w: api_key(updated_at=datetime(2026, 1, 2, tzinfo=NoOffset())), tokenward.InvalidTimestamp, "key-updated-no-offset"),
    case(lambda w: api_key(lifetime_seconds="1"), TypeError, "key-lifetime-str"),
    case(lambda w: api_key(lifetime_seconds=1.5), TypeError, "key-lifetime-float"),
    case(lambda w: api_key(lifetime_seconds=2**63), OverflowError, "key-lifetime-over-i64"),
    case(lambda w: api_key(ip_address="nope"), tokenward.InvalidKey, "key-ip-word"),
    case(lambda w: api_key(ip_address="1.2.3.4:80"), tokenward.InvalidKey, "key-ip-port"),
    case(lambda w: api_key(ip_address=INT), TypeError, "key-ip-int"),
    case(lambda w: api_key(token_name=INT), TypeError, "key-name-int"),
    case(lambda w: api_key(scopes="coder:all"), tokenward.InvalidKey, "key-scopes-str"),
    case(lambda w: api_key(scopes=[INT]), tokenward.InvalidKey, "key-scopes-of-int"),
    case(lambda w: api_key(scopes=INT), TypeError, "key-scopes-int"),
    case(lambda w: api_key(allow_list=["nope"]), tokenward.InvalidKey, "key-allow-no-colon"),
    case(lambda w: api_key(allow_list=[{"type": INT, "id": "*"}]), tokenward.InvalidKey, "key-allow-dict-int"),
    case(lambda w: api_key(allow_list=[{"type": {"a": "b"}, "id": "*"}]), tokenward.InvalidKey, "key-allow-nested"),
    case(lambda w: api_key(allow_list="*:*"), tokenward.InvalidKey, "key-allow-str"),
    case(lambda w: tokenward.ApiKey.from_dict(NONE), TypeError, "key-from-dict-none"),
    case(lambda w: tokenward.ApiKey.from_dict({}), TypeError, "key-from-dict-empty"),
    case(lambda w: tokenward.ApiKey.from_dict(w.key.to_dict()), TypeError, "key-from-dict-public"),
    case(lambda w: tokenward.ApiKey.from_dict({**w.key.to_storage_dict(), "extra": 1}), TypeError, "key-from-dict-extra"),
    case(lambda w: tokenward.ApiKey.from_json(NONE), TypeError, "key-from-json-none"),
    case(lambda w: tokenward.ApiKey.from_json(BYTES), TypeError, "key-from-json-bytes"),
    case(lambda w: tokenward.ApiKey.from_json(""), tokenward.InvalidKey, "key-from-json-empty"),
    case(lambda w: tokenward.ApiKey.from_json("null"), tokenward.InvalidKey, "key-from-json-null"),
    case(lambda w: tokenward.ApiKey.from_json(w.key.to_json()), tokenward.InvalidKey, "key-from-json-public"),
    case(lambda w: tokenward.ApiKey.from_json("[" * 100_000), tokenward.InvalidKey, "key-from-json-deep"),
    case(lambda w: tokenward.ApiKey.from_json(BIG), tokenward.InvalidKey, "key-from-json-1mib"),
    case(lambda w: w.key.is_expired(NONE), TypeError, "is-expired-none"),
    case(lambda w: w.key.is_expired(INT), TypeError, "is-expired-int"),
    case(lambda w: w.key.is_expired(NAIVE), tokenward.InvalidTimestamp, "is-expired-naive"),
    case(lambda w: w.key.is_expired("soon"), tokenward.InvalidTimestamp, "is-expired-text"),
    case(lambda w: w.update.apply_to(NONE), TypeError, "apply-none"),
    case(lambda w: loose(w.update).apply_to(w.key.to_storage_dict()), TypeError, "apply-dict"),
    case(lambda w: w.update.apply_to(w.key, now=NAIVE), tokenward.InvalidTimestamp, "apply-now-naive"),
    case(lambda w: w.update.apply_to(w.key, now=INT), TypeError, "apply-now-int"),
    # classes made only by tokenward
    case(lambda w: tokenward.Token(), TypeError, "token-constructor"),
    case(lambda w: tokenward.Extracted(), TypeError, "extracted-constructor"),
    case(lambda w: tokenward.Verified(), TypeError, "verified-constructor"),
    case(lambda w: tokenward.KeyUpdate(), TypeError, "key-update-constructor"),
]  # fmt: skip


AUTHORITY_CASES = [
    # create_token
    case(lambda w: w.authority.create_token(INT), TypeError, "create-actor-int"),
    case(lambda w: w.authority.create_token(NONE), TypeError, "create-actor-none"),
    case(lambda w: w.authority.create_token(BYTES), TypeError, "create-actor-bytes"),
    case(lambda w: w.authority.create_token(LIST), TypeError, "create-actor-list"),
    case(lambda w: w.authority.create_token(""), tokenward.InvalidArgument, "create-actor-empty"),
    case(lambda w: w.authority.create_token(tokenward.User("")), tokenward.InvalidArgument, "create-user-empty"),
    case(lambda w: w.authority.create_token(SURROGATE), UnicodeEncodeError, "create-actor-surrogate"),
    case(lambda w: w.authority.create_token(OWNER, INT), TypeError, "create-target-int"),
    case(lambda w: w.authority.create_token(OWNER, ""), tokenward.InvalidArgument, "create-target-empty"),
    case(lambda w: w.authority.create_token("jane", lifetime=INT), TypeError, "lifetime-int"),
    case(lambda w: loose(w.authority).create_token("jane", lifetime=3600.0), TypeError, "lifetime-float"),
    case(lambda w: loose(w.authority).create_token("jane", lifetime=True), TypeError, "lifetime-bool"),
    case(lambda w: w.authority.create_token("jane", lifetime=LIST), TypeError, "lifetime-list"),
    case(lambda w: w.authority.create_token("jane", lifetime=BYTES), TypeError, "lifetime-bytes"),
    case(lambda w: w.authority.create_token("jane", lifetime=""), tokenward.InvalidDuration, "lifetime-empty"),
    case(lambda w: w.authority.create_token("jane", lifetime="soon"), tokenward.InvalidDuration, "lifetime-word"),
    case(lambda w: w.authority.create_token("jane", lifetime=BIG), tokenward.InvalidDuration, "lifetime-1mib"),
    case(lambda w: w.authority.create_token("jane", lifetime=NUL), tokenward.InvalidDuration, "lifetime-nul"),
    case(lambda w: w.authority.create_token("jane", lifetime=timedelta.max), tokenward.InvalidDuration, "lifetime-timedelta-max"),
    case(lambda w: w.authority.create_token("jane", lifetime=timedelta.min), tokenward.InvalidDuration, "lifetime-timedelta-min"),
    case(lambda w: w.authority.create_token("jane", lifetime=timedelta(days=106752)), tokenward.InvalidDuration, "lifetime-over-go"),
    case(lambda w: w.authority.create_token("jane", lifetime="2562048h"), tokenward.InvalidDuration, "lifetime-over-go-text"),
    case(lambda w: w.authority.create_token("jane", lifetime="2562047h"), tokenward.LifetimeTooLong, "lifetime-go-max"),
    case(lambda w: w.authority.create_token("jane", lifetime=timedelta(days=100_000)), tokenward.LifetimeTooLong, "lifetime-huge"),
    case(lambda w: w.authority.create_token(OWNER, lifetime="169h"), tokenward.LifetimeTooLong, "lifetime-owner-over"),
    case(lambda w: w.authority.create_token("jane", lifetime="-1ns"), tokenward.InvalidLifetime, "lifetime-negative"),
    case(lambda w: w.authority.create_token("jane", lifetime="-2562047h"), tokenward.InvalidLifetime, "lifetime-go-min"),
    case(lambda w: w.authority.create_token("jane", lifetime=timedelta(days=-100_000)), tokenward.InvalidLifetime, "lifetime-huge-negative"),
    case(lambda w: w.authority.create_token("jane", token_name=INT), TypeError, "name-int"),
    case(lambda w: w.authority.create_token("jane", token_name=NONE), TypeError, "name-none"),
    case(lambda w: w.authority.create_token("jane", token_name=BYTES), TypeError, "name-bytes"),
    case(lambda w: w.authority.create_token("jane", token_name=SURROGATE), UnicodeEncodeError, "name-surrogate"),
    case(lambda w: w.authority.create_token("jane", scopes="coder:all"), TypeError, "scopes-str"),
    case(lambda w: w.authority.create_token("jane", scopes=INT), TypeError, "scopes-int"),
    case(lambda w: w.authority.create_token("jane", scopes=[INT]), TypeError, "scopes-of-int"),
    case(lambda w: w.authority.create_token("jane", scopes=[BYTES]), TypeError, "scopes-of-bytes"),
    case(lambda w: w.authority.create_token("jane", scopes=["nope"]), tokenward.InvalidScope, "scopes-unknown"),
    case(lambda w: w.authority.create_token("jane", scopes=[""]), tokenward.InvalidScope, "scopes-empty-name"),
    case(lambda w: w.authority.create_token("jane", scopes=["system:*"]), tokenward.InvalidScope, "scopes-not-public"),
    case(lambda w: w.authority.create_token("jane", scopes=[BIG]), tokenward.InvalidScope, "scopes-1mib"),
    case(lambda w: w.authority.create_token("jane", scopes=[NUL]), tokenward.InvalidScope, "scopes-nul"),
    case(lambda w: w.authority.create_token("jane", scopes=[SURROGATE]), UnicodeEncodeError, "scopes-surrogate"),
    case(lambda w: w.authority.create_token("jane", scope=INT), TypeError, "scope-int"),
    case(lambda w: w.authority.create_token("jane", scope=LIST), TypeError, "scope-list"),
    case(lambda w: w.authority.create_token("jane", scope="nope"), tokenward.InvalidScope, "scope-unknown"),
    case(lambda w: w.authority.create_token("jane", allow_list=INT), TypeError, "allow-int"),
    case(lambda w: w.authority.create_token("jane", allow_list=OBJECT), TypeError, "allow-object"),
    case(lambda w: w.authority.create_token("jane", allow_list="workspace:*"), tokenward.InvalidAllowList, "allow-str"),
    case(lambda w: w.authority.create_token("jane", allow_list=[INT]), tokenward.InvalidAllowList, "allow-of-int"),
    case(lambda w: w.authority.create_token("jane", allow_list=[NONE]), tokenward.InvalidAllowList, "allow-of-none"),
    case(lambda w: w.authority.create_token("jane", allow_list=[BYTES]), tokenward.InvalidAllowList, "allow-of-bytes"),
    case(lambda w: w.authority.create_token("jane", allow_list=[{}]), tokenward.InvalidAllowList, "allow-of-empty-dict"),
    case(lambda w: w.authority.create_token("jane", allow_list=["badvalue"]), tokenward.InvalidAllowList, "allow-no-colon"),
    case(lambda w: w.authority.create_token("jane", allow_list=["workspace:nope"]), tokenward.InvalidAllowList, "allow-not-uuid"),
    case(lambda w: w.authority.create_token("jane", allow_list=["spaceship:*"]), tokenward.InvalidAllowList, "allow-unknown-type"),
    case(lambda w: w.authority.create_token("jane", allow_list=[":"]), tokenward.InvalidAllowList, "allow-colon"),
    case(lambda w: w.authority.create_token("jane", allow_list=[BIG]), tokenward.InvalidAllowList, "allow-1mib"),
    case(lambda w: w.authority.create_token("jane", allow_list=[NUL]), tokenward.InvalidAllowList, "allow-nul"),
    case(lambda w: w.authority.create_token("jane", allow_list=[SURROGATE]), UnicodeEncodeError, "allow-surrogate"),
    case(lambda w: w.authority.create_token("jane", remote_addr=INT), TypeError, "create-addr-int"),
    case(lambda w: w.authority.create_token("jane", remote_addr=SURROGATE), tokenward.InvalidArgument, "create-addr-surrogate"),
    case(lambda w: loose(w.authority).create_token("jane", "jane", "ci"), TypeError, "create-positional-name"),
    case(lambda w: loose(w.authority).create_token("jane", nope=1), TypeError, "create-unknown-keyword"),
    case(lambda w: w.authority.create_token("bob", "jane"), tokenward.Forbidden, "create-for-another"),
    case(lambda w: w.authority.create_token("jane", token_name="ci"), tokenward.Conflict, "create-taken-name"),
    # sessions
    case(lambda w: w.authority.create_session(INT), TypeError, "session-user-int"),
    case(lambda w: w.authority.create_session(NONE), TypeError, "session-user-none"),
    case(lambda w: w.authority.create_session(""), tokenward.InvalidArgument, "session-user-empty"),
    case(lambda w: w.authority.create_session("jane", INT), TypeError, "session-login-int"),
    case(lambda w: w.authority.create_session("jane", NONE), TypeError, "session-login-none"),
    case(lambda w: w.authority.create_session("jane", BYTES), TypeError, "session-login-bytes"),
    case(lambda w: w.authority.create_session("jane", "magic"), tokenward.InvalidLoginType, "session-login-unknown"),
    case(lambda w: w.authority.create_session("jane", ""), tokenward.InvalidLoginType, "session-login-empty"),
    case(lambda w: w.authority.create_session("jane", "Password"), tokenward.InvalidLoginType, "session-login-case"),
    case(lambda w: w.authority.create_session("jane", BIG), tokenward.InvalidLoginType, "session-login-1mib"),
    case(lambda w: w.authority.create_session("jane", NUL), tokenward.InvalidLoginType, "session-login-nul"),
    case(lambda w: w.authority.create_session("jane", SURROGATE), UnicodeEncodeError, "session-login-surrogate"),
    case(lambda w: w.authority.create_session("jane", "token"), tokenward.InvalidArgument, "session-login-token"),
    case(lambda w: w.authority.create_session("jane", tokenward.LoginType.TOKEN), tokenward.InvalidArgument, "session-login-token-enum"),
    case(lambda w: w.authority.create_session("jane", remote_addr=INT), TypeError, "session-addr-int"),
    case(lambda w: w.authority.create_session_key(NONE), TypeError, "session-key-user-none"),
    case(lambda w: w.authority.create_session_key(""), tokenward.InvalidArgument, "session-key-user-empty"),
    case(lambda w: w.authority.create_session_key("jane", INT), TypeError, "session-key-addr-int"),
    # authenticate
    case(lambda w: w.authority.authenticate(INT), TypeError, "authenticate-int"),
    case(lambda w: w.authority.authenticate(NONE), TypeError, "authenticate-none"),
    case(lambda w: w.authority.authenticate(BYTES), TypeError, "authenticate-bytes"),
    case(lambda w: w.authority.authenticate(LIST), TypeError, "authenticate-list"),
    case(lambda w: w.authority.authenticate(""), tokenward.Missing, "authenticate-empty"),
    case(lambda w: w.authority.authenticate(BIG), tokenward.Malformed, "authenticate-1mib"),
    case(lambda w: w.authority.authenticate(w.token[:11] + BIG), tokenward.Malformed, "authenticate-1mib-secret"),
    case(lambda w: w.authority.authenticate(NUL), tokenward.Malformed, "authenticate-nul"),
    case(lambda w: w.authority.authenticate(w.token[:-1] + "\0"), tokenward.InvalidSecret, "authenticate-nul-in-secret"),
    case(lambda w: w.authority.authenticate("\0" * 10 + w.token[10:]), tokenward.UnknownKey, "authenticate-nul-id"),
    case(lambda w: w.authority.authenticate(SURROGATE), tokenward.InvalidArgument, "authenticate-surrogate"),
    case(lambda w: w.authority.authenticate(w.token, INT), TypeError, "authenticate-addr-int"),
    case(lambda w: w.authority.authenticate(w.token, BYTES), TypeError, "authenticate-addr-bytes"),
    case(lambda w: w.authority.authenticate(w.token, SURROGATE), tokenward.InvalidArgument, "authenticate-addr-surrogate"),
    # reads
    case(lambda w: w.authority.token_config(NONE), TypeError, "config-none"),
    case(lambda w: w.authority.token_config(INT), TypeError, "config-int"),
    case(lambda w: w.authority.list_tokens(NONE), TypeError, "list-actor-none"),
    case(lambda w: w.authority.list_tokens("jane", user_id=INT), TypeError, "list-user-int"),
    case(lambda w: loose(w.authority).list_tokens("jane", all="yes"), TypeError, "list-all-str"),
    case(lambda w: w.authority.list_tokens("jane", include_expired=INT), TypeError, "list-expired-int"),
    case(lambda w: loose(w.authority).list_tokens("jane", "bob"), TypeError, "list-positional"),
    case(lambda w: w.authority.get_key("jane", INT), TypeError, "get-key-int"),
    case(lambda w: w.authority.get_key("jane", NONE), TypeError, "get-key-none"),
    case(lambda w: w.authority.get_key(NONE, w.key.id), TypeError, "get-key-actor-none"),
    case(lambda w: w.authority.get_key("jane", ""), tokenward.InvalidToken, "get-key-empty"),
    case(lambda w: w.authority.get_key("jane", "short"), tokenward.InvalidToken, "get-key-short"),
    case(lambda w: w.authority.get_key("jane", w.token), tokenward.InvalidToken, "get-key-whole-token"),
    case(lambda w: w.authority.get_key("jane", BIG), tokenward.InvalidToken, "get-key-1mib"),
    case(lambda w: w.authority.get_key("jane", NUL), tokenward.InvalidToken, "get-key-nul"),
    case(lambda w: w.authority.get_key("jane", SURROGATE), UnicodeEncodeError, "get-key-surrogate"),
    case(lambda w: w.authority.get_key("jane", "ééééé"), tokenward.NotFound, "get-key-multibyte"),
    case(lambda w: w.authority.get_token_by_name("jane", NONE, "ci"), TypeError, "by-name-user-none"),
    case(lambda w: w.authority.get_token_by_name("jane", "jane", NONE), TypeError, "by-name-none"),
    case(lambda w: w.authority.get_token_by_name("jane", "jane", BYTES), TypeError, "by-name-bytes"),
    case(lambda w: w.authority.get_token_by_name("jane", "jane", BIG), tokenward.NotFound, "by-name-1mib"),
    case(lambda w: w.authority.get_token_by_name("jane", BIG, "ci"), tokenward.NotFound, "by-name-user-1mib"),
    case(lambda w: w.authority.get_token_by_name("jane", "jane", SURROGATE), UnicodeEncodeError, "by-name-surrogate"),
    case(lambda w: w.authority.find_token("jane", "jane", NONE), TypeError, "find-none"),
    case(lambda w: w.authority.find_token("jane", "jane", INT), TypeError, "find-int"),
    case(lambda w: w.authority.find_token("jane", "jane", BIG), tokenward.NotFound, "find-1mib"),
    case(lambda w: w.authority.find_token("jane", "jane", NUL), tokenward.NotFound, "find-nul"),
    case(lambda w: w.authority.find_token("jane", "jane", SURROGATE), tokenward.InvalidArgument, "find-surrogate"),
    # writes
    case(lambda w: w.authority.expire("jane", NONE), TypeError, "expire-none"),
    case(lambda w: w.authority.expire("jane", INT), TypeError, "expire-int"),
    case(lambda w: w.authority.expire(INT, w.key.id), TypeError, "expire-actor-int"),
    case(lambda w: w.authority.expire("jane", ""), tokenward.InvalidToken, "expire-empty"),
    case(lambda w: w.authority.expire("jane", w.token), tokenward.InvalidToken, "expire-whole-token"),
    case(lambda w: w.authority.expire("jane", BIG), tokenward.InvalidToken, "expire-1mib"),
    case(lambda w: w.authority.expire("jane", SURROGATE), UnicodeEncodeError, "expire-surrogate"),
    case(lambda w: w.authority.expire("bob", w.key.id), tokenward.NotFound, "expire-anothers"),
    case(lambda w: w.authority.delete("jane", NONE), TypeError, "delete-none"),
    case(lambda w: w.authority.delete("jane", BYTES), TypeError, "delete-bytes"),
    case(lambda w: w.authority.delete("jane", ""), tokenward.InvalidToken, "delete-empty"),
    case(lambda w: w.authority.delete("jane", BIG), tokenward.InvalidToken, "delete-1mib"),
    case(lambda w: w.authority.delete("jane", "0123456789"), tokenward.NotFound, "delete-unknown"),
    case(lambda w: w.authority.delete_user_keys(NONE), TypeError, "delete-user-none"),
    case(lambda w: w.authority.delete_user_keys(INT), TypeError, "delete-user-int"),
    case(lambda w: loose(w.authority).delete_user_keys(tokenward.User("jane")), TypeError, "delete-user-object"),
    case(lambda w: w.authority.delete_user_keys(SURROGATE), UnicodeEncodeError, "delete-user-surrogate"),
    case(lambda w: loose(w.authority).purge_expired(INT), TypeError, "purge-arg"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "expected"), CASES)
def test_bad_input_raises_one_precise_exception(
    memory_world: World, call: Call, expected: type[BaseException]
) -> None:
    check_raises(memory_world, call, expected)


@pytest.mark.parametrize(("call", "expected"), AUTHORITY_CASES)
def test_bad_input_to_an_authority_raises_one_precise_exception(
    world: World, call: Call, expected: type[BaseException]
) -> None:
    check_raises(world, call, expected)


def check_raises(world: World, call: Call, expected: type[BaseException]) -> None:
    with pytest.raises(BaseException) as caught:
        call(world)
    error = caught.value
    assert type(error) is expected, f"{type(error).__name__}: {error}"
    assert str(error), "an exception without a message"
    if isinstance(error, tokenward.TokenwardError):
        assert error.code and error.number > 0
        assert 400 <= error.status <= 599
        assert type(pickle.loads(pickle.dumps(error))) is expected
        if isinstance(error, tokenward.InvalidArgument):
            assert isinstance(error, ValueError)


def test_a_naive_datetime_is_invalid_timestamp_wherever_a_time_goes(
    world: World,
) -> None:
    calls: list[Call] = [
        lambda w: tokenward.verify_record(w.token, w.key, now=NAIVE),
        lambda w: api_key(created_at=NAIVE),
        lambda w: api_key(expires_at=NAIVE),
        lambda w: api_key(last_used=NAIVE),
        lambda w: api_key(updated_at=NAIVE),
        lambda w: w.key.is_expired(NAIVE),
        lambda w: w.update.apply_to(w.key, now=NAIVE),
    ]
    for call in calls:
        with pytest.raises(tokenward.InvalidTimestamp) as caught:
            call(world)
        assert isinstance(caught.value, ValueError)
        assert "naive" in str(caught.value)


def test_none_where_an_argument_is_optional_means_its_default(world: World) -> None:
    authority = world.authority
    token, key = authority.create_token(
        "jane",
        NONE,
        lifetime=NONE,
        scopes=NONE,
        scope=NONE,
        allow_list=NONE,
        remote_addr=NONE,
    )
    assert key.user_id == "jane"
    assert key.expires_at - key.created_at == timedelta(hours=168)
    assert key.scopes == ["coder:all"] and key.allow_list == [{"type": "*", "id": "*"}]
    assert key.ip_address == "0.0.0.0"
    assert authority.authenticate(token, NONE).key.id == key.id
    assert authority.create_session("jane", remote_addr=NONE)[1].ip_address == "0.0.0.0"
    assert authority.create_session_key("jane", NONE)[1].ip_address == "0.0.0.0"
    assert tokenward.User("jane", NONE).roles == ()
    assert len(authority.list_tokens("jane", user_id=NONE)) == 2
    verified = tokenward.verify_record(
        token, key, now=NONE, settings=NONE, remote_addr=NONE
    )
    assert verified.key == key


def test_an_aware_datetime_in_any_zone_is_accepted(world: World) -> None:
    east = AWARE.astimezone(timezone(timedelta(hours=14)))
    assert api_key(created_at=east).created_at == AWARE
    assert not world.key.is_expired(datetime.now(timezone(timedelta(hours=-12))))


# --- inputs that are odd but allowed -------------------------------------------------------


def test_a_1mib_name_user_id_and_address_are_kept_or_dropped_not_refused(
    world: World,
) -> None:
    # Coder limits neither names nor user ids (§4.2 step 4; user ids are opaque strings).
    authority = world.authority
    token, key = authority.create_token(BIG, token_name=BIG, remote_addr=BIG)
    assert key.user_id == BIG and key.token_name == BIG
    assert key.ip_address == "0.0.0.0"  # not a bare IP (§4.1 step 4)
    assert authority.authenticate(token, BIG).key.user_id == BIG
    assert authority.get_token_by_name(BIG, BIG, BIG).id == key.id
    assert authority.find_token(BIG, BIG, BIG).id == key.id
    assert authority.delete_user_keys(BIG) == 1
    assert authority.delete_user_keys("y" * MIB) == 0


def test_a_nul_in_a_user_id_or_name_is_kept_exactly(world: World) -> None:
    authority = world.authority
    token, key = authority.create_token("a\0b", token_name="c\0d")
    assert (key.user_id, key.token_name) == ("a\0b", "c\0d")
    assert authority.authenticate(token).key.user_id == "a\0b"
    assert authority.list_tokens("a") == [] and authority.list_tokens("a\0c") == []
    assert [k.id for k in authority.list_tokens("a\0b")] == [key.id]


def test_a_1mib_secret_hashes_as_hashlib_does() -> None:
    assert tokenward.hash_secret(BIG) == hashlib.sha256(BIG.encode()).digest()
    assert tokenward.hash_secrets([BIG]) == [hashlib.sha256(BIG.encode()).digest()]


def test_1mib_header_values_are_read_not_refused(world: World) -> None:
    found = tokenward.extract_token({"Coder-Session-Token": BIG})
    assert found is not None and found.token == BIG and found.source == "header"
    found = tokenward.extract_token({"Authorization": "Bearer " + BIG})
    assert found is not None and found.token == BIG and found.source == "bearer"
    found = tokenward.extract_token({"Cookie": "coder_session_token=" + "y" * MIB})
    assert found is not None and len(found.token) == MIB
    # §5: above Go's limits of 3000 cookies and 10000 query parameters, there are none.
    many_cookies = "a=b; " * 4000 + "coder_session_token=" + world.token
    assert tokenward.extract_token({"Cookie": many_cookies}) is None
    many_params = "x=1&" * 20000 + "coder_session_token=" + world.token
    assert tokenward.extract_token({}, many_params) is None
    with pytest.raises(tokenward.Malformed):
        world.authority.authenticate(BIG)


def test_header_bytes_that_are_not_utf8_are_read_not_refused(world: World) -> None:
    found = tokenward.extract_token([(b"Coder-Session-Token", world.token.encode())])
    assert found is not None and found.token == world.token
    found = tokenward.extract_token(
        {"Coder-Session-Token": b"\xff" + world.token.encode()}
    )
    assert found is not None and found.token.endswith(world.token)
    with pytest.raises(tokenward.Malformed):
        world.authority.authenticate(found.token)


def test_a_str_subclass_is_a_str(world: World) -> None:
    class Text(str):
        pass

    assert world.authority.authenticate(Text(world.token)).key.id == world.key.id
    assert tokenward.parse(Text(world.token)).id == world.key.id
    assert world.authority.get_key(Text("jane"), Text(world.key.id)).id == world.key.id


def test_exceptions_raised_by_the_callers_own_objects_pass_through(
    world: World,
) -> None:
    class Headers:
        def items(self) -> Any:
            raise KeyError("from the host")

    def secrets() -> Iterator[str]:
        yield "one"
        raise LookupError("from the generator")

    class Zone(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta:
            raise ArithmeticError("from the zone")

        def dst(self, dt: datetime | None) -> timedelta | None:
            return None

        def tzname(self, dt: datetime | None) -> str | None:
            return "zone"

    with pytest.raises(KeyError):
        tokenward.extract_token(Headers())
    with pytest.raises(LookupError):
        tokenward.hash_secrets(secrets())
    with pytest.raises(ArithmeticError):
        world.key.is_expired(datetime(2026, 1, 2, tzinfo=Zone()))


def test_the_extremes_of_datetime_are_handled(world: World) -> None:
    far = datetime.max.replace(tzinfo=UTC)
    first = datetime.min.replace(tzinfo=UTC)
    key = api_key(expires_at=far, last_used=first, lifetime_seconds=2**63 - 1)
    verified = tokenward.verify_record("AbCdEfGhIj-" + "s" * 22, key, now=AWARE)
    assert verified.key == key
    with pytest.raises(tokenward.Expired):
        tokenward.verify_record(world.token, world.key, now=far)
    tokenward.verify_record(world.token, world.key, now=first)
    lapsed = api_key(login_type="password", lifetime_seconds=-(2**63))
    tokenward.verify_record("AbCdEfGhIj-" + "s" * 22, lapsed, now=AWARE)


# --- gaps in the native module -------------------------------------------------------------


def test_an_int_outside_gos_range_is_invalid_duration() -> None:
    with pytest.raises(tokenward.InvalidDuration):
        tokenward.format_duration(2**63)


def test_a_timedelta_setting_outside_gos_range_is_invalid_settings() -> None:
    with pytest.raises(tokenward.InvalidSettings):
        tokenward.Settings(session_duration=timedelta.max)


@pytest.mark.parametrize(
    "url",
    [
        "https://@",
        "https://user:pw@",
        "https://?x",
        "https://#f",
        "http:// ",
        "https://a b",
    ],
)
def test_an_access_url_without_a_host_is_invalid_settings(url: str) -> None:
    with pytest.raises(tokenward.InvalidSettings):
        tokenward.Settings(access_url=url)


def test_an_update_is_not_applied_to_another_keys_record(memory_world: World) -> None:
    other = api_key(last_used=AWARE)
    update = memory_world.update
    assert update.id != other.id
    with pytest.raises(tokenward.InvalidArgument) as caught:
        update.apply_to(other)
    assert caught.value.detail == f"this update is for key {update.id}, not {other.id}"


# --- no error shows a secret ---------------------------------------------------------------


def _assert_hidden(error: BaseException, *secrets: str) -> None:
    for text in error_texts(error):
        for secret in secrets:
            assert secret not in text, (
                f"{type(error).__name__} shows a secret: {text[:200]}"
            )
            assert secret[:16] not in text, (
                f"{type(error).__name__} shows part of a secret"
            )


def test_no_rejection_shows_the_secret_presented_or_minted(world: World) -> None:
    authority = world.authority
    token, key = authority.create_session("jane")
    key_id, secret = split(token)
    wrong = "W" * 22
    presented = [
        token + "x",
        token[:-1],
        token + "-" + secret,
        token.replace("-", "_"),
        " " + token,
        token + " ",
        key_id + "--" + secret,
        key_id + "-" + secret[:-1] + "é",
        "é" * 5 + "-" + secret,
        "0123456789-" + secret,  # an unknown id with the real secret
        key_id + "-" + wrong,  # the right id with a wrong secret
        key_id + "-" + secret[:-1] + ("A" if secret[-1] != "A" else "B"),
    ]
    errors: list[BaseException] = []
    for text in presented:
        for call in (
            lambda t: authority.authenticate(t),
            lambda t: tokenward.verify_record(t, key),
            lambda t: tokenward.parse(t),
            lambda t: tokenward.parse(t, strict=True),
            lambda t: authority.get_key("jane", t),
            lambda t: authority.expire("bob", t),
            lambda t: authority.delete("bob", t),
            lambda t: authority.find_token("bob", "bob", t),
            lambda t: authority.get_token_by_name("bob", "bob", t),
        ):
            try:
                call(text)
            except Exception as e:  # noqa: BLE001 (each is checked below)
                errors.append(e)
    authority.expire("jane", key.id)
    with pytest.raises(tokenward.Expired) as expired:
        authority.authenticate(token)
    errors.append(expired.value)
    with pytest.raises(tokenward.Expired) as expired:
        tokenward.verify_record(token, authority.get_key("jane", key.id))
    errors.append(expired.value)
    authority.delete("jane", key.id)
    with pytest.raises(tokenward.UnknownKey) as unknown:
        authority.authenticate(token)
    errors.append(unknown.value)
    with pytest.raises(tokenward.InvalidSecret) as invalid:
        authority.authenticate(world.token[:11] + secret)  # another key's secret
    errors.append(invalid.value)
    kinds = {type(e) for e in errors}
    assert {
        tokenward.Malformed,
        tokenward.UnknownKey,
        tokenward.InvalidSecret,
        tokenward.Expired,
        tokenward.InvalidToken,
        tokenward.NotFound,
    } <= kinds
    for error in errors:
        _assert_hidden(error, secret, wrong, world.token[11:])


def test_no_error_shows_the_secret_of_a_minted_token(world: World) -> None:
    authority = world.authority
    secret = world.token[11:]
    errors: list[BaseException] = []
    for call in (
        lambda: authority.create_token("jane", token_name="ci"),  # Conflict
        lambda: authority.create_token("bob", "jane"),  # Forbidden
        lambda: authority.create_token("jane", lifetime="876601h"),
        lambda: authority.get_key("bob", world.key.id),
        lambda: authority.expire("bob", world.key.id),
    ):
        with pytest.raises(tokenward.TokenwardError) as caught:
            call()
        errors.append(caught.value)
    for error in errors:
        _assert_hidden(error, secret)


def test_an_access_url_password_never_shows_in_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(tokenward.InvalidSettings) as caught:
        tokenward.Settings(access_url="ftp://admin:hunter2@coder.example.com")
    _assert_hidden(caught.value, "hunter2hunter2hunter2")
    assert "hunter2" not in str(caught.value)
    monkeypatch.setenv("CODER_ACCESS_URL", "ftp://admin:hunter2@coder.example.com")
    monkeypatch.delenv("TOKENWARD_ACCESS_URL", raising=False)
    with pytest.raises(tokenward.InvalidSettings) as caught:
        tokenward.Settings.from_env()
    assert "hunter2" not in " ".join(error_texts(caught.value))
    assert "CODER_ACCESS_URL" in str(caught.value)
    # An unsupported scheme is refused before any connection (test_postgres.py: a server).
    with pytest.raises(tokenward.InvalidArgument) as refused:
        tokenward.Authority.open("mysql://admin:hunter2@db/keys")
    assert "hunter2" not in " ".join(error_texts(refused.value))


def test_a_token_with_a_lone_surrogate_is_refused_without_showing_its_secret(
    memory_world: World,
) -> None:
    world = memory_world
    secret = world.token[11:]
    for call in (
        lambda: world.authority.authenticate(world.token + SURROGATE),
        lambda: tokenward.verify_record(world.token + SURROGATE, world.key),
        lambda: tokenward.parse(world.token + SURROGATE),
        lambda: tokenward.extract_token(
            {"Coder-Session-Token": world.token + SURROGATE}
        ),
    ):
        with pytest.raises(ValueError) as caught:
            call()
        _assert_hidden(caught.value, secret)


def test_reprs_never_show_a_secret_or_a_hash(world: World) -> None:
    secret = world.token[11:]
    digest = sha256(secret)
    verified = world.authority.authenticate(world.token, "192.0.2.9")
    found = tokenward.extract_token({"Authorization": "Bearer " + world.token})
    assert found is not None
    objects: list[object] = [
        tokenward.parse(world.token),
        found,
        world.key,
        verified,
        verified.key,
        world.update,
        world.authority,
        world.authority.settings,
    ]
    for obj in objects:
        for text in (repr(obj), str(obj)):
            assert secret not in text and secret[:16] not in text, text
            assert digest.hex() not in text and repr(digest) not in text, text
            assert digest.hex()[:16] not in text, text
    assert world.key.id in repr(world.key)


def test_native_objects_are_immutable_and_refuse_pickling(world: World) -> None:
    with pytest.raises(AttributeError):
        loose(world.key).id = "ZZZZZZZZZZ"
    with pytest.raises(AttributeError):
        loose(world.authority).settings = tokenward.Settings()
    # A token or a record (its hash is as secret as the token) is never serialised by
    # accident: pickling is a TypeError; to_storage_dict() is the explicit way.
    for obj in (tokenward.parse(world.token), world.key, world.update, world.authority):
        with pytest.raises(TypeError):
            pickle.dumps(obj)


def test_settings_and_users_survive_pickling() -> None:
    settings = tokenward.Settings(
        session_duration="2h", access_url="https://coder.example"
    )
    user = tokenward.User("jane", ["owner"])
    assert pickle.loads(pickle.dumps(settings)) == settings
    again = pickle.loads(pickle.dumps(user))
    assert again == user and again.roles == ("owner",) and again.is_owner
