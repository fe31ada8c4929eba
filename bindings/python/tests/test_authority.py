"""The Python binding's behaviour: the stateless API (generate, parse, hashes, verify_record,
ApiKey, Settings, durations, exceptions) and the whole lifecycle of an `Authority`, run on a
`:memory:` store and on a SQLite file alike.

Expected values come from Coder's rules (docs/compatibility.md, cited as §N) and from Python's
own hashlib and datetime, never from tokenward's output.
"""

from __future__ import annotations

import collections
import hashlib
import json
import pickle
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
import tokenward
from _support import (
    ALPHABET,
    CHALLENGE_EXPIRED,
    INTERNAL,
    JSON_CONTENT_TYPE,
    MISSING_DETAIL,
    NOT_FOUND,
    OWNER,
    SIGNED_OUT,
    TOKEN_RE,
    UTC,
    WORKSPACE,
    body_of,
    expired_detail,
    is_utc,
    sha256,
    split,
    sqlite_url,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 2, 15, 4, 5, 123456, tzinfo=UTC)
"""A fixed "now" for `verify_record`, with microseconds."""

SECRET = "s3cretS3cretS3cretS3cr"
KEY_ID = "AbCdEfGhIj"
PRESENTED = f"{KEY_ID}-{SECRET}"

Opener = Callable[..., tokenward.Authority]


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every lifecycle test runs on both stores."""
    return ":memory:" if request.param == "memory" else sqlite_url(tmp_path)


@pytest.fixture
def open_authority(url: str) -> Iterator[Opener]:
    """Opens the store of `url` (optionally with settings); closed after the test."""
    opened: list[tokenward.Authority] = []

    def open_(settings: tokenward.Settings | None = None) -> tokenward.Authority:
        authority = tokenward.Authority.open(url, settings)
        opened.append(authority)
        return authority

    yield open_
    for authority in opened:
        authority.close()


@pytest.fixture
def authority(open_authority: Opener) -> tokenward.Authority:
    return open_authority()


def record(
    *,
    login_type: str = "token",
    expires_at: datetime = NOW + DAY,
    last_used: datetime = NOW - timedelta(minutes=5),
    lifetime_seconds: int = 86400,
    hashed_secret: bytes | None = None,
    key_id: str = KEY_ID,
) -> tokenward.ApiKey:
    """A hand-built record for `PRESENTED`, its hash from hashlib."""
    return tokenward.ApiKey(
        id=key_id,
        hashed_secret=sha256(SECRET) if hashed_secret is None else hashed_secret,
        user_id="jane",
        login_type=login_type,
        created_at=NOW - DAY,
        expires_at=expires_at,
        last_used=last_used,
        lifetime_seconds=lifetime_seconds,
        ip_address="192.0.2.10",
        token_name="ci" if login_type == "token" else "",
    )


def assert_signed_out(error: tokenward.TokenwardError, detail: str) -> None:
    """compatibility §6: a 401 with the SignedOut message, the detail and the challenge."""
    assert error.status == 401
    assert error.message == SIGNED_OUT
    assert error.detail == detail
    assert str(error) == detail
    assert error.www_authenticate == CHALLENGE_EXPIRED
    assert body_of(error) == {"message": SIGNED_OUT, "detail": detail}
    assert ("Content-Type", JSON_CONTENT_TYPE) in error.headers
    assert ("WWW-Authenticate", CHALLENGE_EXPIRED) in error.headers


# --- generate, parse, hash ------------------------------------------------------------


def test_generated_tokens_are_a_10_char_id_a_hyphen_and_a_22_char_secret() -> None:
    tokens = {tokenward.generate() for _ in range(500)}
    assert len(tokens) == 500
    ids = set()
    for token in tokens:
        assert len(token) == 33
        assert TOKEN_RE.match(token), token
        ids.add(token[:10])
    assert len(ids) == 500


def test_generated_tokens_draw_every_symbol_of_the_alphabet_evenly() -> None:
    counts = collections.Counter(
        "".join(tokenward.generate().replace("-", "") for _ in range(2000))
    )
    assert set(counts) == set(ALPHABET)
    expected = (
        2000 * 32 / 62
    )  # about 1032 per symbol; these bounds are over 15 sigma wide
    assert all(
        expected * 0.5 < counts[symbol] < expected * 1.5 for symbol in ALPHABET
    ), counts


def test_parse_splits_a_token_into_id_and_secret() -> None:
    token = tokenward.generate()
    parsed = tokenward.parse(token)
    assert (parsed.id, parsed.secret) == split(token)
    assert parsed.hashed_secret() == hashlib.sha256(token[11:].encode()).digest()
    assert tokenward.parse(token, strict=True).id == token[:10]


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("test-wow-hello", "incorrect amount of API key parts, expected 2 got 3"),
        ("nohyphen", "incorrect amount of API key parts, expected 2 got 1"),
        ("", "incorrect amount of API key parts, expected 2 got 1"),
        ("test-wow", "invalid API key ID length, expected 10 got 4"),
        ("testtestid-wow", "invalid API key secret length, expected 22 got 3"),
        (
            "ab-c",
            "invalid API key ID length, expected 10 got 2",
        ),  # the id is checked first
        (
            "é" * 4 + "-" + "x" * 22,
            "invalid API key ID length, expected 10 got 8",
        ),  # bytes
    ],
)
def test_parse_refuses_what_coder_refuses_with_coders_words(
    text: str, detail: str
) -> None:
    with pytest.raises(tokenward.InvalidToken) as caught:
        tokenward.parse(text)
    assert caught.value.detail == detail
    assert caught.value.status == 400


def test_parse_counts_bytes_and_checks_no_alphabet_unless_strict() -> None:
    multibyte = "é" * 5 + "-" + "!" * 22  # 10 bytes of id
    assert tokenward.parse(multibyte).id == "é" * 5
    with pytest.raises(tokenward.InvalidToken):
        tokenward.parse(multibyte, strict=True)
    with pytest.raises(tokenward.InvalidToken):
        tokenward.parse("abcdefghij-" + "x" * 21 + "_", strict=True)


def test_hash_secret_is_plain_sha256_of_the_utf8_bytes() -> None:
    for secret in ["", SECRET, "sécret-ü", "x" * 1000]:
        assert tokenward.hash_secret(secret) == hashlib.sha256(secret.encode()).digest()
        assert (
            tokenward.hash_secret(secret.encode())
            == hashlib.sha256(secret.encode()).digest()
        )
    assert tokenward.hash_secret(b"\xff\x00") == hashlib.sha256(b"\xff\x00").digest()


def test_hash_secrets_hashes_each_of_any_iterable() -> None:
    secrets = [SECRET, "", "é", "z" * 22]
    want = [hashlib.sha256(s.encode()).digest() for s in secrets]
    assert tokenward.hash_secrets(secrets) == want
    assert tokenward.hash_secrets(s for s in secrets) == want
    assert tokenward.hash_secrets([s.encode() for s in secrets]) == want
    assert tokenward.hash_secrets([]) == []


def test_token_repr_shows_the_id_never_the_secret() -> None:
    parsed = tokenward.parse(PRESENTED)
    assert KEY_ID in repr(parsed)
    assert SECRET not in repr(parsed)


# --- verify_record --------------------------------------------------------------------


def test_verify_record_accepts_the_right_secret_and_records_the_use() -> None:
    key = record(last_used=NOW - 2 * HOUR)
    verified = tokenward.verify_record(
        PRESENTED, key, now=NOW, remote_addr="198.51.100.7"
    )
    assert verified.key == key  # as fetched
    update = verified.update
    assert update is not None
    assert update.id == KEY_ID
    assert update.last_used == NOW
    assert update.ip_address == "198.51.100.7"
    assert update.expires_at == key.expires_at  # a token key does not slide (§7.2)
    assert update.previous_expires_at == key.expires_at
    assert is_utc(update.last_used) and is_utc(update.expires_at)


def test_verify_record_writes_nothing_within_the_hour_of_the_last_use() -> None:
    # §7.1: strictly more than an hour moves last_used; exactly one hour does not.
    assert (
        tokenward.verify_record(PRESENTED, record(last_used=NOW - HOUR), now=NOW).update
        is None
    )
    later = NOW - HOUR - timedelta(microseconds=1)
    moved = tokenward.verify_record(PRESENTED, record(last_used=later), now=NOW).update
    assert moved is not None and moved.last_used == NOW


def test_a_session_slides_to_now_plus_its_lifetime_but_a_token_does_not() -> None:
    # §9 items 21 and 22: used just now, expiring in a minute.
    soon = NOW + timedelta(minutes=1)
    session = record(login_type="password", expires_at=soon, last_used=NOW)
    update = tokenward.verify_record(PRESENTED, session, now=NOW).update
    assert update is not None
    assert update.expires_at == NOW + DAY
    assert update.last_used == NOW  # unchanged
    assert update.previous_expires_at == soon
    token = record(login_type="token", expires_at=soon, last_used=NOW)
    assert tokenward.verify_record(PRESENTED, token, now=NOW).update is None


def test_disabling_the_session_refresh_keeps_the_expiry() -> None:
    # §9 item 23: used a day ago, expiring in a day.
    settings = tokenward.Settings(disable_session_expiry_refresh=True)
    session = record(login_type="password", expires_at=NOW + DAY, last_used=NOW - DAY)
    update = tokenward.verify_record(
        PRESENTED, session, now=NOW, settings=settings
    ).update
    assert update is not None
    assert update.last_used == NOW
    assert update.expires_at == NOW + DAY


def test_verify_record_rejects_each_failure_with_coders_answer() -> None:
    with pytest.raises(tokenward.Missing) as missing:
        tokenward.verify_record("", record(), now=NOW)
    assert_signed_out(missing.value, MISSING_DETAIL)

    with pytest.raises(tokenward.Malformed) as malformed:
        tokenward.verify_record("test-wow", record(), now=NOW)
    assert_signed_out(
        malformed.value,
        "Invalid API key format: invalid API key ID length, expected 10 got 4",
    )

    with pytest.raises(tokenward.UnknownKey) as unknown:
        tokenward.verify_record(PRESENTED, None, now=NOW)
    assert_signed_out(unknown.value, "API key is invalid.")

    # A record for another id is as good as none ("Fine points decided").
    with pytest.raises(tokenward.UnknownKey):
        tokenward.verify_record(PRESENTED, record(key_id="ZZZZZZZZZZ"), now=NOW)

    with pytest.raises(tokenward.InvalidSecret) as wrong:
        tokenward.verify_record(f"{KEY_ID}-{'x' * 22}", record(), now=NOW)
    assert_signed_out(wrong.value, "API key secret is invalid.")

    # Stored bytes of any length but 32 never match (§2).
    with pytest.raises(tokenward.InvalidSecret):
        tokenward.verify_record(
            PRESENTED, record(hashed_secret=sha256(SECRET)[:31]), now=NOW
        )

    lapsed = NOW - timedelta(microseconds=876600)
    with pytest.raises(tokenward.Expired) as expired:
        tokenward.verify_record(PRESENTED, record(expires_at=lapsed), now=NOW)
    assert_signed_out(
        expired.value, 'API key expired at "2026-01-02 15:04:04.246856 +0000 UTC".'
    )


def test_the_expired_detail_drops_trailing_zeros_of_the_fraction() -> None:
    at = datetime(2026, 1, 2, 15, 4, 5, 123400, tzinfo=UTC)
    with pytest.raises(tokenward.Expired) as caught:
        tokenward.verify_record(PRESENTED, record(expires_at=at), now=NOW)
    assert (
        caught.value.detail
        == 'API key expired at "2026-01-02 15:04:05.1234 +0000 UTC".'
    )
    whole = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)
    with pytest.raises(tokenward.Expired) as caught:
        tokenward.verify_record(PRESENTED, record(expires_at=whole), now=NOW)
    assert caught.value.detail == 'API key expired at "2026-01-02 15:04:05 +0000 UTC".'


def test_a_key_is_still_valid_at_its_very_expiry() -> None:
    # §6 row 5: expires_at < now, strictly.
    tokenward.verify_record(PRESENTED, record(expires_at=NOW), now=NOW)
    with pytest.raises(tokenward.Expired):
        later = NOW + timedelta(microseconds=1)
        tokenward.verify_record(PRESENTED, record(expires_at=NOW), now=later)


def test_rejections_name_the_access_url_when_the_settings_have_one() -> None:
    settings = tokenward.Settings(access_url="https://coder.example.com/")
    with pytest.raises(tokenward.UnknownKey) as caught:
        tokenward.verify_record(PRESENTED, None, now=NOW, settings=settings)
    metadata = 'resource_metadata="https://coder.example.com/.well-known/oauth-protected-resource"'
    assert caught.value.www_authenticate == f"{CHALLENGE_EXPIRED}, {metadata}"


def test_verify_record_takes_now_in_any_zone_or_as_rfc3339() -> None:
    plus_two = NOW.astimezone(timezone(timedelta(hours=2)))
    stale = record(last_used=NOW - 2 * HOUR)
    update = tokenward.verify_record(PRESENTED, stale, now=plus_two).update
    assert update is not None and update.last_used == NOW and is_utc(update.last_used)
    update = tokenward.verify_record(
        PRESENTED, stale, now="2026-01-02T15:04:05.123456Z"
    ).update
    assert update is not None and update.last_used == NOW


def test_an_update_applies_to_its_record_forward_only() -> None:
    key = record(
        login_type="password",
        expires_at=NOW + timedelta(minutes=1),
        last_used=NOW - DAY,
    )
    update = tokenward.verify_record(
        PRESENTED, key, now=NOW, remote_addr="203.0.113.5"
    ).update
    assert update is not None
    applied = update.apply_to(key, now=NOW)
    assert applied.last_used == NOW
    assert applied.expires_at == NOW + DAY
    assert applied.ip_address == "203.0.113.5"
    assert applied.updated_at == key.updated_at  # a refresh leaves updated_at (§3)
    assert (applied.id, applied.hashed_secret, applied.created_at) == (
        key.id,
        key.hashed_secret,
        key.created_at,
    )
    assert key.last_used == NOW - DAY  # the original is immutable
    # Applied twice, or onto a newer record, nothing moves backwards.
    assert update.apply_to(applied, now=NOW) == applied
    newer = record(
        login_type="password", expires_at=NOW + 2 * DAY, last_used=NOW + HOUR
    )
    kept = update.apply_to(newer, now=NOW)
    assert kept.last_used == NOW + HOUR
    assert kept.expires_at == NOW + 2 * DAY
    # A record that lapsed meanwhile does not slide ("Deliberate differences").
    lapsed = update.apply_to(key, now=NOW + timedelta(minutes=2))
    assert lapsed.expires_at == NOW + timedelta(minutes=1)


# --- ApiKey ---------------------------------------------------------------------------


def test_an_api_key_gets_coders_column_defaults() -> None:
    key = tokenward.ApiKey(
        id=KEY_ID,
        hashed_secret=sha256(SECRET),
        user_id="jane",
        login_type="password",
        created_at=NOW,
        expires_at=NOW + DAY,
    )
    assert key.last_used == EPOCH
    assert key.updated_at == NOW
    assert key.lifetime_seconds == 86400
    assert key.ip_address == "0.0.0.0"
    assert key.token_name == ""
    assert key.scopes == ["coder:all"]
    assert key.scope == "all"
    assert key.allow_list == [{"type": "*", "id": "*"}]
    assert key.login_type == "password"
    assert key.login_type is tokenward.LoginType.PASSWORD
    assert key.hashed_secret == hashlib.sha256(SECRET.encode()).digest()
    assert not key.is_expired(NOW + DAY)
    assert key.is_expired(NOW + DAY + timedelta(microseconds=1))


def test_api_key_times_are_aware_utc_with_microseconds() -> None:
    plus_five = timezone(timedelta(hours=5, minutes=30))
    key = tokenward.ApiKey(
        id=KEY_ID,
        hashed_secret=sha256(SECRET),
        user_id="jane",
        login_type="token",
        created_at=NOW.astimezone(plus_five),
        expires_at="2026-01-09T15:04:05.654321+00:00",
        last_used="2026-01-02T16:04:05.0000005Z",  # half a microsecond rounds away from zero
        updated_at=NOW,
    )
    for t in (key.created_at, key.expires_at, key.last_used, key.updated_at):
        assert is_utc(t), t
    assert key.created_at == NOW and key.created_at.microsecond == 123456
    assert key.expires_at == datetime(2026, 1, 9, 15, 4, 5, 654321, tzinfo=UTC)
    assert key.last_used == datetime(2026, 1, 2, 16, 4, 5, 1, tzinfo=UTC)


def _full_key() -> tokenward.ApiKey:
    return tokenward.ApiKey(
        id=KEY_ID,
        hashed_secret=sha256(SECRET),
        user_id="user:default/jane",
        login_type="token",
        created_at=NOW,
        expires_at=NOW + 7 * DAY,
        last_used=NOW + HOUR,
        updated_at=NOW + timedelta(minutes=1),
        lifetime_seconds=604800,
        ip_address="2001:db8::7",
        token_name="deploy",
        scopes=["workspace:read", "coder:application_connect"],
        allow_list=[f"workspace:{WORKSPACE}", {"type": "template", "id": "*"}],
    )


def test_an_api_key_round_trips_through_its_storage_forms() -> None:
    key = _full_key()
    assert tokenward.ApiKey.from_dict(key.to_storage_dict()) == key
    assert tokenward.ApiKey.from_json(key.to_storage_json()) == key
    stored = json.loads(key.to_storage_json())
    assert stored["hashed_secret"] == hashlib.sha256(SECRET.encode()).hexdigest()
    assert stored["ip_address"] == "2001:db8::7"
    assert stored["scopes"] == ["workspace:read", "coder:application_connect"]
    assert stored["allow_list"] == [
        {"type": "workspace", "id": WORKSPACE},
        {"type": "template", "id": "*"},
    ]
    assert key.to_storage_dict()["hashed_secret"] == sha256(SECRET)


def test_equal_records_compare_equal_and_a_changed_hash_does_not() -> None:
    key = _full_key()
    assert key == _full_key()
    other = key.to_storage_dict()
    other["hashed_secret"] = sha256("another")
    assert tokenward.ApiKey.from_dict(other) != key


def test_the_public_view_has_coders_fields_and_no_hash_or_address() -> None:
    key = _full_key()
    public = key.to_dict()
    fields = {
        "id",
        "user_id",
        "last_used",
        "expires_at",
        "created_at",
        "updated_at",
        "login_type",
        "scope",
        "scopes",
        "token_name",
        "lifetime_seconds",
        "allow_list",
    }  # §3, "API representation"
    assert set(public) == fields
    as_json = json.loads(key.to_json())
    assert set(as_json) == fields
    assert as_json["scope"] == "application_connect"
    assert as_json["scopes"] == ["workspace:read", "coder:application_connect"]
    assert as_json["login_type"] == "token"
    assert as_json["lifetime_seconds"] == 604800
    assert as_json["allow_list"] == [
        {"type": "workspace", "id": WORKSPACE},
        {"type": "template", "id": "*"},
    ]
    assert datetime.fromisoformat(as_json["created_at"].replace("Z", "+00:00")) == NOW
    assert public["created_at"] == NOW and is_utc(public["created_at"])
    digest = hashlib.sha256(SECRET.encode()).hexdigest()
    assert digest not in key.to_json()
    assert "2001:db8::7" not in key.to_json()
    # The public view is not a record: without the hash it does not make one.
    with pytest.raises(TypeError):
        tokenward.ApiKey.from_dict(public)


@pytest.mark.parametrize(
    ("scopes", "scope"),
    [
        (["coder:all"], "all"),
        (["coder:application_connect", "coder:all"], "application_connect"),
        (["workspace:read"], ""),
    ],
)
def test_the_legacy_scope_derives_from_the_scopes(
    scopes: list[str], scope: str
) -> None:
    key = tokenward.ApiKey(
        id=KEY_ID,
        hashed_secret=sha256(SECRET),
        user_id="jane",
        login_type="token",
        created_at=NOW,
        expires_at=NOW,
        scopes=scopes,
    )
    assert key.scope == scope
    assert json.loads(key.to_json())["scope"] == scope


def test_an_api_key_repr_shows_neither_hash_nor_secret() -> None:
    key = _full_key()
    text = repr(key)
    assert KEY_ID in text
    digest = sha256(SECRET)
    assert digest.hex() not in text and repr(digest) not in text and SECRET not in text


# --- Settings and durations -----------------------------------------------------------


def test_default_settings_are_coders() -> None:
    settings = tokenward.Settings()
    assert settings.session_duration == timedelta(hours=24)
    assert settings.disable_session_expiry_refresh is False
    assert settings.default_token_lifetime == timedelta(hours=168)
    assert settings.max_token_lifetime == timedelta(hours=876600)
    assert settings.max_admin_token_lifetime == timedelta(hours=168)
    assert settings.api_keys_retention == timedelta(days=7)
    assert settings.access_url is None
    assert settings.to_dict() == {
        "session_duration": "24h0m0s",
        "disable_session_expiry_refresh": False,
        "default_token_lifetime": "168h0m0s",
        "max_token_lifetime": "876600h0m0s",
        "max_admin_token_lifetime": "168h0m0s",
        "api_keys_retention": "168h0m0s",
        "access_url": None,
    }


def test_settings_take_timedeltas_go_strings_and_coders_units() -> None:
    settings = tokenward.Settings(
        session_duration=timedelta(hours=2),
        default_token_lifetime="12h",
        max_token_lifetime="30d",
        max_admin_token_lifetime="1y",
        api_keys_retention="1h30m",
        disable_session_expiry_refresh=True,
        access_url="https://coder.example.com",
    )
    assert settings.session_duration == timedelta(hours=2)
    assert settings.default_token_lifetime == timedelta(hours=12)
    assert settings.max_token_lifetime == timedelta(days=30)
    assert settings.max_admin_token_lifetime == timedelta(hours=8760)
    assert settings.api_keys_retention == timedelta(minutes=90)
    assert settings.disable_session_expiry_refresh is True
    assert settings.access_url == "https://coder.example.com"
    assert settings == tokenward.Settings(
        session_duration="2h",
        default_token_lifetime=timedelta(hours=12),
        max_token_lifetime="720h",
        max_admin_token_lifetime="8760h",
        api_keys_retention=timedelta(minutes=90),
        disable_session_expiry_refresh=True,
        access_url="https://coder.example.com",
    )
    assert settings != tokenward.Settings()


def test_the_default_lifetime_may_exceed_the_maximum() -> None:
    # §4.7: as in Coder.
    settings = tokenward.Settings(
        default_token_lifetime="48h", max_token_lifetime="24h"
    )
    assert settings.default_token_lifetime > settings.max_token_lifetime


def test_settings_round_trip_through_json() -> None:
    settings = tokenward.Settings(
        session_duration="90m", access_url="https://c.example.com"
    )
    assert tokenward.Settings.from_json(settings.to_json()) == settings
    assert (
        tokenward.Settings.from_json(tokenward.Settings().to_json())
        == tokenward.Settings()
    )
    assert tokenward.Settings.from_json("{}") == tokenward.Settings()
    partial = tokenward.Settings.from_json('{"max_token_lifetime": "720h"}')
    assert partial.max_token_lifetime == timedelta(hours=720)
    assert partial.session_duration == timedelta(hours=24)


def test_replace_makes_a_changed_copy() -> None:
    settings = tokenward.Settings()
    changed = settings.replace(
        session_duration="1h", access_url="http://localhost:3000"
    )
    assert changed.session_duration == HOUR
    assert changed.access_url == "http://localhost:3000"
    assert changed.max_token_lifetime == timedelta(hours=876600)
    assert settings == tokenward.Settings()
    assert changed.replace(access_url=None).access_url is None


_ENV_NAMES = [
    "SESSION_DURATION",
    "DISABLE_SESSION_EXPIRY_REFRESH",
    "DEFAULT_TOKEN_LIFETIME",
    "MAX_TOKEN_LIFETIME",
    "MAX_ADMIN_TOKEN_LIFETIME",
    "API_KEYS_RETENTION",
    "ACCESS_URL",
]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _ENV_NAMES:
        monkeypatch.delenv(f"CODER_{name}", raising=False)
        monkeypatch.delenv(f"TOKENWARD_{name}", raising=False)
    return monkeypatch


def test_from_env_reads_coders_variables(clean_env: pytest.MonkeyPatch) -> None:
    assert tokenward.Settings.from_env() == tokenward.Settings()
    clean_env.setenv("CODER_SESSION_DURATION", "2h")
    clean_env.setenv("CODER_DISABLE_SESSION_EXPIRY_REFRESH", "true")
    clean_env.setenv("CODER_DEFAULT_TOKEN_LIFETIME", "12h")
    clean_env.setenv("CODER_MAX_TOKEN_LIFETIME", "720h")
    clean_env.setenv("CODER_MAX_ADMIN_TOKEN_LIFETIME", "336h")
    clean_env.setenv("CODER_API_KEYS_RETENTION", "0")
    clean_env.setenv("CODER_ACCESS_URL", "https://coder.example.com")
    settings = tokenward.Settings.from_env()
    assert settings.session_duration == 2 * HOUR
    assert settings.disable_session_expiry_refresh is True
    assert settings.default_token_lifetime == 12 * HOUR
    assert settings.max_token_lifetime == timedelta(hours=720)
    assert settings.max_admin_token_lifetime == timedelta(hours=336)
    assert settings.api_keys_retention == timedelta(0)
    assert settings.access_url == "https://coder.example.com"


def test_tokenward_variables_win_over_coders_unless_empty(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("CODER_SESSION_DURATION", "2h")
    clean_env.setenv("TOKENWARD_SESSION_DURATION", "3h")
    clean_env.setenv("CODER_MAX_TOKEN_LIFETIME", "720h")
    clean_env.setenv("TOKENWARD_MAX_TOKEN_LIFETIME", "")
    clean_env.setenv("TOKENWARD_API_KEYS_RETENTION", "1d")
    settings = tokenward.Settings.from_env()
    assert settings.session_duration == 3 * HOUR
    assert settings.max_token_lifetime == timedelta(hours=720)
    assert settings.api_keys_retention == DAY


def test_a_bad_variable_is_invalid_settings_naming_it(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("CODER_SESSION_DURATION", "soon")
    with pytest.raises(tokenward.InvalidSettings) as caught:
        tokenward.Settings.from_env()
    assert "CODER_SESSION_DURATION" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("168h", timedelta(hours=168)),
        ("7d", timedelta(days=7)),
        ("1y", timedelta(hours=8760)),
        ("1h30m", timedelta(minutes=90)),
        ("1d12h30m", timedelta(days=1, hours=12, minutes=30)),
        ("-1.5s", timedelta(seconds=-1.5)),
        ("1.5h", timedelta(minutes=90)),
        ("250ms", timedelta(milliseconds=250)),
        ("3us", timedelta(microseconds=3)),
        ("3µs", timedelta(microseconds=3)),
        ("0", timedelta(0)),
        ("1ns", timedelta(0)),  # a sub-microsecond remainder is dropped
    ],
)
def test_parse_duration_reads_go_durations_and_coders_units(
    text: str, want: timedelta
) -> None:
    assert tokenward.parse_duration(text) == want


def test_parse_duration_ns_is_exact_to_go_limits() -> None:
    assert tokenward.parse_duration_ns("1ns") == 1
    assert tokenward.parse_duration_ns("1.5s") == 1_500_000_000
    assert tokenward.parse_duration_ns("1d") == 24 * 3600 * 10**9
    assert tokenward.parse_duration_ns("2562047h47m16.854775807s") == 2**63 - 1
    assert tokenward.parse_duration_ns("-2562047h47m16.854775808s") == -(2**63)
    with pytest.raises(tokenward.InvalidDuration):
        tokenward.parse_duration_ns("2562047h47m16.854775808s")
    with pytest.raises(tokenward.InvalidDuration) as caught:
        tokenward.parse_duration("soon")
    assert caught.value.detail == 'time: invalid duration "soon"'


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (timedelta(hours=168), "168h0m0s"),
        (timedelta(hours=876600), "876600h0m0s"),
        (timedelta(0), "0s"),
        (1_500_000_000, "1.5s"),
        (1, "1ns"),
        (-(10**9), "-1s"),
        (timedelta(microseconds=1500), "1.5ms"),
        ("7d", "168h0m0s"),
        ("1h30m", "1h30m0s"),
    ],
)
def test_format_duration_prints_as_go(value: timedelta | int | str, want: str) -> None:
    assert tokenward.format_duration(value) == want


# --- exceptions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "bases", "status"),
    [
        (tokenward.Missing, (tokenward.Rejected, PermissionError), 401),
        (tokenward.Malformed, (tokenward.Rejected, PermissionError), 401),
        (tokenward.UnknownKey, (tokenward.Rejected, PermissionError), 401),
        (tokenward.InvalidSecret, (tokenward.Rejected, PermissionError), 401),
        (tokenward.Expired, (tokenward.Rejected, PermissionError), 401),
        (tokenward.InvalidToken, (tokenward.InvalidArgument, ValueError), 400),
        (tokenward.InvalidDuration, (tokenward.InvalidArgument, ValueError), 400),
        (tokenward.InvalidSettings, (tokenward.InvalidArgument, ValueError), 400),
        (tokenward.InvalidTimestamp, (tokenward.InvalidArgument, ValueError), 400),
        (tokenward.InvalidScope, (tokenward.InvalidArgument, ValueError), 400),
        (tokenward.InvalidAllowList, (tokenward.InvalidArgument, ValueError), 400),
        (tokenward.InvalidLoginType, (tokenward.InvalidArgument, ValueError), 400),
        (tokenward.InvalidLifetime, (tokenward.InvalidArgument, ValueError), 400),
        (tokenward.LifetimeTooLong, (tokenward.InvalidArgument, ValueError), 400),
        (tokenward.Forbidden, (PermissionError,), 403),
        (tokenward.NotFound, (LookupError,), 404),
        (tokenward.Conflict, (), 409),
        (tokenward.StoreBusy, (tokenward.StoreError,), 500),
        (tokenward.StoreIo, (tokenward.StoreError,), 500),
    ],
)
def test_each_error_class_has_its_place_and_coders_status(
    cls: type[tokenward.TokenwardError], bases: tuple[type, ...], status: int
) -> None:
    assert issubclass(cls, tokenward.TokenwardError)
    for base in bases:
        assert issubclass(cls, base)
    error = cls("some detail")
    assert error.status == status
    assert isinstance(error.code, str) and error.code
    assert isinstance(error.number, int) and error.number > 0
    assert str(error) == "some detail"


def test_error_codes_and_numbers_are_distinct() -> None:
    classes = [
        getattr(tokenward, name)
        for name in tokenward.__all__
        if isinstance(getattr(tokenward, name), type)
        and issubclass(getattr(tokenward, name), tokenward.TokenwardError)
        and getattr(tokenward, name) not in (tokenward.TokenwardError,)
    ]
    concrete = [
        c for c in classes if c not in (tokenward.Rejected, tokenward.StoreError)
    ]
    assert len({c.code for c in concrete}) == len(concrete)
    assert len({c.number for c in concrete}) == len(concrete)
    assert tokenward.Expired.code == "expired"
    assert tokenward.StoreBusy.code == "store_busy"


def test_a_raised_error_pickles_whole(authority: tokenward.Authority) -> None:
    authority.create_token("jane", token_name="ci")
    with pytest.raises(tokenward.Conflict) as caught:
        authority.create_token("jane", token_name="ci")
    for error in (caught.value, _rejection_with_access_url()):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        for name in (
            "code",
            "number",
            "status",
            "message",
            "detail",
            "www_authenticate",
            "body",
            "headers",
            "validations",
        ):
            assert getattr(copy, name) == getattr(error, name), name
        assert str(copy) == str(error) and repr(copy) == repr(error)


def _rejection_with_access_url() -> tokenward.TokenwardError:
    settings = tokenward.Settings(access_url="https://coder.example.com")
    try:
        tokenward.verify_record(
            PRESENTED, record(expires_at=NOW - HOUR), now=NOW, settings=settings
        )
    except tokenward.Expired as e:
        assert (
            e.www_authenticate is not None and "resource_metadata" in e.www_authenticate
        )
        return e
    raise AssertionError("not rejected")


def test_every_error_class_pickles() -> None:
    for name in tokenward.__all__:
        cls = getattr(tokenward, name)
        if isinstance(cls, type) and issubclass(cls, tokenward.TokenwardError):
            error = cls("detail", message="message", validations=[("name", "taken")])
            copy = pickle.loads(pickle.dumps(error))
            assert type(copy) is cls
            assert (copy.detail, copy.message, copy.validations) == (
                "detail",
                "message",
                [("name", "taken")],
            )


def test_str_of_an_error_is_its_detail_else_its_message() -> None:
    assert str(tokenward.NotFound("", message=NOT_FOUND)) == NOT_FOUND
    assert str(tokenward.Expired("the detail", message=SIGNED_OUT)) == "the detail"


# --- users ----------------------------------------------------------------------------


def test_a_user_is_an_id_and_roles() -> None:
    user = tokenward.User("jane")
    assert (user.id, user.roles, user.is_owner) == ("jane", (), False)
    assert OWNER.is_owner and OWNER.roles == ("owner",)
    assert tokenward.User("root", ["owner"]) == OWNER
    assert tokenward.User("root", ["member"]).is_owner is False


# --- the lifecycle, on both stores ----------------------------------------------------


def test_a_created_token_is_named_and_lasts_the_default_lifetime(
    authority: tokenward.Authority,
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    token, key = authority.create_token(
        "jane", token_name="ci", remote_addr="198.51.100.4"
    )
    after = datetime.now(UTC) + timedelta(seconds=1)
    key_id, secret = split(token)
    assert key.id == key_id
    assert key.hashed_secret == hashlib.sha256(secret.encode()).digest()
    assert key.user_id == "jane"
    assert key.login_type == "token"
    assert key.token_name == "ci"
    assert before <= key.created_at <= after
    assert key.updated_at == key.created_at
    assert key.expires_at - key.created_at == timedelta(hours=168)
    assert key.lifetime_seconds == 168 * 3600
    assert key.last_used == EPOCH  # §4.1 step 6
    assert key.ip_address == "198.51.100.4"
    assert key.scopes == ["coder:all"] and key.scope == "all"
    assert key.allow_list == [{"type": "*", "id": "*"}]
    for t in (key.created_at, key.expires_at, key.last_used, key.updated_at):
        assert is_utc(t)


def test_an_unnamed_token_gets_a_generated_adjective_surname_digit_name(
    authority: tokenward.Authority,
) -> None:
    names = [authority.create_token("jane")[1].token_name for _ in range(3)]
    for name in names:
        assert re.fullmatch(r"[a-z]+_[a-z]+[0-9]", name), name
    assert len(set(names)) == 3  # a taken generated name is drawn again


@pytest.mark.parametrize(
    ("lifetime", "span", "seconds"),
    [
        (timedelta(hours=48), timedelta(hours=48), 172800),
        ("30d", timedelta(days=30), 30 * 86400),
        ("1h30m", timedelta(minutes=90), 5400),
        ("1500ms", timedelta(milliseconds=1500), 1),  # whole seconds, truncated
        (timedelta(seconds=59, microseconds=999999), timedelta(seconds=59.999999), 59),
        ("999999999ns", timedelta(microseconds=1000000), 86400),  # 0 s, stored as 86400
        ("876600h", timedelta(hours=876600), 876600 * 3600),  # equal to the maximum
        (None, timedelta(hours=168), 604800),
        (timedelta(0), timedelta(hours=168), 604800),  # zero: the default (§4.2 step 6)
    ],
)
def test_a_token_lifetime_sets_the_expiry_and_the_whole_seconds(
    authority: tokenward.Authority,
    lifetime: timedelta | str | None,
    span: timedelta,
    seconds: int,
) -> None:
    _, key = authority.create_token("jane", lifetime=lifetime)
    assert key.expires_at - key.created_at == span
    assert key.lifetime_seconds == seconds


def test_a_lifetime_over_the_members_maximum_is_refused_with_coders_message(
    authority: tokenward.Authority,
) -> None:
    for lifetime in ("876600h1ns", timedelta(hours=876601)):
        with pytest.raises(tokenward.LifetimeTooLong) as caught:
            authority.create_token("jane", lifetime=lifetime)
        error = caught.value
        assert isinstance(error, ValueError)
        assert error.status == 400
        assert error.message == "Failed to validate create API key request."
        assert error.detail == "lifetime must be less than 876600h0m0s"
        assert body_of(error) == {
            "message": "Failed to validate create API key request.",
            "detail": "lifetime must be less than 876600h0m0s",
        }
        assert error.www_authenticate is None
    assert authority.list_tokens("jane") == []


def test_an_owners_maximum_is_the_admin_maximum(authority: tokenward.Authority) -> None:
    authority.create_token(OWNER, lifetime="168h")
    with pytest.raises(tokenward.LifetimeTooLong) as caught:
        authority.create_token(OWNER, lifetime="169h")
    assert caught.value.detail == "lifetime must be less than 168h0m0s"
    # The target's roles count, not the caller's: an Owner minting for a member.
    _, key = authority.create_token(OWNER, "jane", lifetime="169h")
    assert key.user_id == "jane"


def test_the_admin_maximum_replaces_the_members_even_when_larger(
    open_authority: Opener,
) -> None:
    # §9 items 58 and 59.
    settings = tokenward.Settings(
        max_token_lifetime="14d", max_admin_token_lifetime="7d"
    )
    authority = open_authority(settings)
    authority.create_token(OWNER, lifetime="6d")
    with pytest.raises(tokenward.LifetimeTooLong):
        authority.create_token(OWNER, lifetime="8d")
    authority.create_token("jane", lifetime="10d")
    with pytest.raises(tokenward.LifetimeTooLong) as caught:
        authority.create_token("jane", lifetime="15d")
    assert caught.value.detail == "lifetime must be less than 336h0m0s"


def test_no_lifetime_takes_the_default_even_above_the_maximum(
    open_authority: Opener,
) -> None:
    authority = open_authority(
        tokenward.Settings(default_token_lifetime="48h", max_token_lifetime="24h")
    )
    _, key = authority.create_token("jane")
    assert key.expires_at - key.created_at == timedelta(hours=48)


@pytest.mark.parametrize("lifetime", ["-1h", "-1ns", timedelta(seconds=-1)])
def test_a_negative_lifetime_is_refused(
    authority: tokenward.Authority, lifetime: timedelta | str
) -> None:
    with pytest.raises(tokenward.InvalidLifetime) as caught:
        authority.create_token("jane", lifetime=lifetime)
    assert caught.value.detail == "lifetime must be positive number greater than 0"
    assert caught.value.message == "Failed to validate create API key request."


@pytest.mark.parametrize(
    ("kwargs", "scopes", "scope"),
    [
        ({}, ["coder:all"], "all"),
        ({"scopes": ["workspace:read", "all"]}, ["workspace:read", "coder:all"], "all"),
        (
            {"scope": "application_connect"},
            ["coder:application_connect"],
            "application_connect",
        ),
        # Non-empty scopes win over scope; duplicates go.
        ({"scope": "all", "scopes": ["template:use"]}, ["template:use"], ""),
        ({"scopes": ["all", "coder:all", "all"]}, ["coder:all"], "all"),
        ({"scopes": [tokenward.Scope.WORKSPACE_SSH]}, ["workspace:ssh"], ""),
        ({"scopes": ["coder:workspaces.operate"]}, ["coder:workspaces.operate"], ""),
    ],
)
def test_token_scopes_are_coders(
    authority: tokenward.Authority,
    kwargs: dict[str, Any],
    scopes: list[str],
    scope: str,
) -> None:
    _, key = authority.create_token("jane", **kwargs)
    assert key.scopes == scopes
    assert key.scope == scope
    assert authority.get_key("jane", key.id).scopes == scopes


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scopes": ["everything"]},
        {"scope": "everything"},
        {"scopes": ["Workspace:read"]},
    ],
)
def test_an_unknown_scope_is_refused(
    authority: tokenward.Authority, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(tokenward.InvalidScope) as caught:
        authority.create_token("jane", **kwargs)
    name = (kwargs.get("scopes") or [kwargs.get("scope")])[0]
    assert caught.value.message == "Failed to create API key."
    assert caught.value.detail == f'invalid or unsupported API key scope: "{name}"'
    assert caught.value.status == 400


def test_an_allow_list_takes_type_id_strings(authority: tokenward.Authority) -> None:
    entries = [f"workspace:{WORKSPACE}", "template:*", f"workspace:{WORKSPACE}"]
    _, key = authority.create_token("jane", allow_list=entries)
    assert key.allow_list == [
        {"type": "workspace", "id": WORKSPACE},
        {"type": "template", "id": "*"},
    ]
    _, everything = authority.create_token("jane", allow_list=["template:*", "*:*"])
    # *:* allows all the rest.
    assert everything.allow_list == [{"type": "*", "id": "*"}]
    _, empty = authority.create_token("jane", allow_list=[])
    assert empty.allow_list == [{"type": "*", "id": "*"}]  # §4.1 step 3


def test_an_allow_list_takes_type_id_dicts(authority: tokenward.Authority) -> None:
    entries = [{"type": "workspace", "id": WORKSPACE}, {"type": "template", "id": "*"}]
    _, key = authority.create_token("jane", allow_list=entries)
    assert key.allow_list == entries


@pytest.mark.parametrize("entry", ["badvalue", "workspace:nope", "spaceship:*", ":"])
def test_a_bad_allow_list_entry_is_refused(
    authority: tokenward.Authority, entry: str
) -> None:
    with pytest.raises(tokenward.InvalidAllowList) as caught:
        authority.create_token("jane", allow_list=[entry])
    assert caught.value.message == "Failed to create API key."
    assert "invalid allow_list entry" in caught.value.detail
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("203.0.113.7:443", "0.0.0.0"),
        ("", "0.0.0.0"),
        ("fe80::1%eth0", "0.0.0.0"),
        ("not an address", "0.0.0.0"),
    ],
)
def test_only_a_bare_ip_is_kept_as_the_address(
    authority: tokenward.Authority, given: str, stored: str
) -> None:
    _, key = authority.create_token("jane", remote_addr=given)
    assert key.ip_address == stored


def test_a_session_lasts_the_session_duration_and_has_no_name(
    open_authority: Opener,
) -> None:
    authority = open_authority(tokenward.Settings(session_duration="2h"))
    token, key = authority.create_session("jane", remote_addr="192.0.2.1")
    assert key.login_type == "password"
    assert key.expires_at - key.created_at == 2 * HOUR
    assert key.lifetime_seconds == 7200
    assert key.token_name == ""
    assert key.ip_address == "192.0.2.1"
    assert key.scopes == ["coder:all"]
    assert authority.authenticate(token).key.id == key.id
    assert authority.list_tokens("jane") == []  # sessions are not tokens


@pytest.mark.parametrize(
    "login_type",
    [
        "password",
        "github",
        "oidc",
        "none",
        "oauth2_provider_app",
        tokenward.LoginType.OIDC,
    ],
)
def test_a_session_takes_any_login_type_but_token(
    authority: tokenward.Authority, login_type: str
) -> None:
    token, key = authority.create_session(tokenward.User("jane"), login_type)
    assert key.login_type == login_type
    assert key.expires_at - key.created_at == timedelta(hours=24)
    assert authority.authenticate(token).key.login_type == login_type


def test_a_session_of_login_type_token_is_refused(
    authority: tokenward.Authority,
) -> None:
    with pytest.raises(tokenward.InvalidArgument) as caught:
        authority.create_session("jane", "token")
    assert type(caught.value) is tokenward.InvalidArgument
    with pytest.raises(tokenward.InvalidLoginType):
        authority.create_session("jane", "magic")


def test_a_session_key_lasts_the_default_token_lifetime(open_authority: Opener) -> None:
    # §4.3 and §9 item 65.
    authority = open_authority(tokenward.Settings(default_token_lifetime="12h"))
    token, key = authority.create_session_key("jane", remote_addr="198.51.100.4")
    assert key.login_type == "password"
    assert key.lifetime_seconds == 43200
    assert key.expires_at - key.created_at == 12 * HOUR
    assert key.ip_address == "198.51.100.4"
    assert key.scopes == ["coder:all"]
    assert key.token_name == ""
    assert authority.authenticate(token).key.id == key.id


def test_authenticate_records_the_first_use_then_writes_nothing(
    authority: tokenward.Authority,
) -> None:
    token, key = authority.create_token("jane", token_name="ci", lifetime="1h")
    before = datetime.now(UTC) - timedelta(seconds=1)
    verified = authority.authenticate(token, "203.0.113.7")
    after = datetime.now(UTC) + timedelta(seconds=1)
    update = verified.update
    assert update is not None
    assert update.id == key.id
    assert before <= update.last_used <= after
    assert update.ip_address == "203.0.113.7"
    assert update.expires_at == key.expires_at  # a token does not slide
    # The key returned is the row as stored after the refresh.
    assert verified.key.id == key.id
    assert verified.key.last_used == update.last_used
    assert verified.key.ip_address == "203.0.113.7"
    assert verified.key.expires_at == key.expires_at
    assert verified.key.updated_at == key.updated_at
    assert authority.get_key("jane", key.id) == verified.key
    # Used a moment ago: nothing to write, and the key is as stored.
    again = authority.authenticate(token, "198.51.100.1")
    assert again.update is None
    assert again.key == verified.key


def test_a_session_refreshes_its_last_use_and_keeps_working(
    authority: tokenward.Authority,
) -> None:
    token, key = authority.create_session("jane")
    first = authority.authenticate(token, "192.0.2.5")
    assert first.update is not None and first.key.ip_address == "192.0.2.5"
    second = authority.authenticate(token)
    assert second.update is None
    # Not yet an hour into its lifetime: the expiry stays (§7.2).
    assert second.key.expires_at == key.expires_at


def test_authenticate_rejects_each_failure_with_coders_answer(
    authority: tokenward.Authority,
) -> None:
    token, key = authority.create_token("jane", token_name="ci")
    cases = [
        ("", tokenward.Missing, MISSING_DETAIL),
        (
            "test-wow-hello",
            tokenward.Malformed,
            "Invalid API key format: incorrect amount of API key parts, expected 2 got 3",
        ),
        (
            "test-wow",
            tokenward.Malformed,
            "Invalid API key format: invalid API key ID length, expected 10 got 4",
        ),
        (
            "testtestid-wow",
            tokenward.Malformed,
            "Invalid API key format: invalid API key secret length, expected 22 got 3",
        ),
        (token + "x", tokenward.Malformed, None),
        ("0123456789-" + "a" * 22, tokenward.UnknownKey, "API key is invalid."),
        (
            key.id + "-" + "a" * 22,
            tokenward.InvalidSecret,
            "API key secret is invalid.",
        ),
    ]
    for presented, cls, detail in cases:
        with pytest.raises(cls) as caught:
            authority.authenticate(presented)
        assert type(caught.value) is cls
        assert isinstance(caught.value, PermissionError)
        if detail is not None:
            assert_signed_out(caught.value, detail)
    # None of them changed the key.
    assert authority.get_key("jane", key.id) == key


def test_token_config_is_the_targets_maximum(open_authority: Opener) -> None:
    authority = open_authority(tokenward.Settings(max_token_lifetime="720h"))
    assert authority.token_config("jane") == timedelta(hours=720)
    assert authority.token_config(tokenward.User("jane")) == timedelta(hours=720)
    assert authority.token_config(OWNER) == timedelta(hours=168)


def test_token_config_defaults(authority: tokenward.Authority) -> None:
    assert authority.token_config("jane") == timedelta(hours=876600)
    assert authority.token_config(OWNER) == timedelta(hours=168)


def test_listing_shows_own_tokens_others_only_to_an_owner(
    authority: tokenward.Authority,
) -> None:
    _, j1 = authority.create_token("jane", token_name="j1")
    _, b1 = authority.create_token("bob", token_name="b1")
    _, j2 = authority.create_token("jane", token_name="j2")
    authority.create_session("jane")
    authority.create_session_key("jane")

    def names(keys: list[tokenward.ApiKey]) -> list[str]:
        return [f"{k.user_id}/{k.token_name}" for k in keys]

    mine = ["jane/j1", "jane/j2"]  # oldest first
    assert names(authority.list_tokens("jane")) == mine
    assert names(authority.list_tokens("jane", user_id="jane")) == mine
    assert authority.list_tokens("jane", user_id="bob") == []
    assert names(authority.list_tokens("jane", all=True)) == ["jane/j1", "jane/j2"]
    assert names(authority.list_tokens(OWNER, user_id="bob")) == ["bob/b1"]
    assert authority.list_tokens(OWNER) == []
    assert names(authority.list_tokens(OWNER, all=True)) == [
        "jane/j1",
        "bob/b1",
        "jane/j2",
    ]
    assert authority.list_tokens("jane")[0] == j1

    authority.expire("jane", j1.id)
    assert names(authority.list_tokens("jane")) == ["jane/j2"]
    assert names(authority.list_tokens("jane", include_expired=True)) == [
        "jane/j1",
        "jane/j2",
    ]
    assert names(authority.list_tokens(OWNER, all=True)) == ["bob/b1", "jane/j2"]
    assert len(authority.list_tokens(OWNER, all=True, include_expired=True)) == 3
    assert b1.id in {k.id for k in authority.list_tokens(OWNER, all=True)}
    assert j2.id in {k.id for k in authority.list_tokens("jane")}


def test_get_key_shows_a_key_to_its_owner_and_to_an_owner_only(
    authority: tokenward.Authority,
) -> None:
    _, key = authority.create_token("jane", token_name="ci")
    _, session = authority.create_session("jane")
    assert authority.get_key("jane", key.id) == key
    assert authority.get_key(OWNER, key.id) == key
    assert authority.get_key("jane", session.id) == session
    for actor, key_id in [("bob", key.id), ("jane", "0123456789")]:
        with pytest.raises(tokenward.NotFound) as caught:
            authority.get_key(actor, key_id)
        assert caught.value.status == 404
        assert caught.value.message == NOT_FOUND
        assert body_of(caught.value) == {"message": NOT_FOUND}
        assert caught.value.www_authenticate is None


def test_get_token_by_name_never_matches_the_empty_name(
    authority: tokenward.Authority,
) -> None:
    _, key = authority.create_token("jane", token_name="ci")
    authority.create_session("jane")  # its name is ""
    assert authority.get_token_by_name("jane", "jane", "ci") == key
    assert authority.get_token_by_name(OWNER, "jane", "ci") == key
    for actor, user_id, name in [
        ("jane", "jane", ""),
        ("jane", "jane", "CI"),
        ("bob", "jane", "ci"),
        ("jane", "bob", "ci"),
    ]:
        with pytest.raises(tokenward.NotFound):
            authority.get_token_by_name(actor, user_id, name)


def test_find_token_takes_a_name_an_id_or_the_whole_token(
    authority: tokenward.Authority,
) -> None:
    token, key = authority.create_token("jane", token_name="deploy")
    for typed in ("deploy", key.id, token):
        assert authority.find_token("jane", "jane", typed).id == key.id
    assert authority.find_token(OWNER, "jane", "deploy").id == key.id
    for actor, typed in [("jane", "nothing"), ("bob", key.id), ("bob", token)]:
        with pytest.raises(tokenward.NotFound):
            authority.find_token(actor, actor, typed)


def test_an_expired_key_is_refused_as_expired_until_deleted(
    authority: tokenward.Authority,
) -> None:
    token, key = authority.create_token("jane", token_name="ci")
    before = datetime.now(UTC) - timedelta(seconds=1)
    authority.expire("jane", key.id)
    after = datetime.now(UTC) + timedelta(seconds=1)
    stored = authority.get_key("jane", key.id)
    assert before <= stored.expires_at <= after
    assert stored.is_expired(datetime.now(UTC))
    with pytest.raises(tokenward.Expired) as caught:
        authority.authenticate(token)
    assert_signed_out(caught.value, expired_detail(stored.expires_at))
    # Expiring again changes nothing (§4.6).
    authority.expire("jane", key.id)
    assert authority.get_key("jane", key.id).expires_at == stored.expires_at
    authority.delete("jane", key.id)
    with pytest.raises(tokenward.UnknownKey):
        authority.authenticate(token)


def test_a_member_cannot_expire_or_delete_anothers_key_but_an_owner_can(
    authority: tokenward.Authority,
) -> None:
    token, key = authority.create_token("jane", token_name="ci")
    for act in (authority.expire, authority.delete):
        with pytest.raises(tokenward.NotFound):
            act("bob", key.id)
    authority.authenticate(token)  # untouched
    authority.expire(OWNER, key.id)
    with pytest.raises(tokenward.Expired):
        authority.authenticate(token)
    authority.delete(OWNER, key.id)
    with pytest.raises(tokenward.NotFound):
        authority.get_key(OWNER, key.id)


def test_a_deleted_key_is_unknown(authority: tokenward.Authority) -> None:
    token, key = authority.create_session("jane")
    authority.delete("jane", key.id)
    with pytest.raises(tokenward.UnknownKey) as caught:
        authority.authenticate(token)
    assert_signed_out(caught.value, "API key is invalid.")
    with pytest.raises(tokenward.NotFound):
        authority.delete("jane", key.id)
    with pytest.raises(tokenward.NotFound):
        authority.expire("jane", key.id)
    with pytest.raises(tokenward.NotFound):
        authority.delete("jane", "0123456789")


def test_deleting_a_users_keys_logs_only_them_out(
    authority: tokenward.Authority,
) -> None:
    jane = [
        authority.create_token("jane")[0],
        authority.create_session("jane")[0],
        authority.create_session_key("jane")[0],
    ]
    bobs, _ = authority.create_token("bob")
    assert authority.delete_user_keys("jane") == 3
    for token in jane:
        with pytest.raises(tokenward.UnknownKey):
            authority.authenticate(token)
    authority.authenticate(bobs)
    assert authority.delete_user_keys("jane") == 0
    assert authority.delete_user_keys("nobody") == 0


def test_purge_removes_keys_expired_longer_than_the_retention(
    open_authority: Opener,
) -> None:
    authority = open_authority(tokenward.Settings(api_keys_retention="1ms"))
    old, old_key = authority.create_token("jane", token_name="old")
    live, live_key = authority.create_token("jane", token_name="live")
    authority.expire("jane", old_key.id)
    expired_at = authority.get_key("jane", old_key.id).expires_at
    deadline = time.monotonic() + 30
    while authority.now() <= expired_at + timedelta(milliseconds=2):
        assert time.monotonic() < deadline, "the clock did not move"
        time.sleep(0.005)
    # Until the purge, an expired key reads "expired" (§7.7).
    with pytest.raises(tokenward.Expired):
        authority.authenticate(old)
    assert authority.purge_expired() == 1
    with pytest.raises(tokenward.UnknownKey):
        authority.authenticate(old)
    authority.authenticate(live)
    assert authority.get_key("jane", live_key.id).id == live_key.id
    assert authority.purge_expired() == 0


def test_purge_keeps_keys_within_the_retention_or_with_a_zero_retention(
    open_authority: Opener,
) -> None:
    for settings in (tokenward.Settings(), tokenward.Settings(api_keys_retention="0")):
        authority = open_authority(settings)
        token, key = authority.create_token("jane")
        authority.expire("jane", key.id)
        assert authority.purge_expired() == 0
        with pytest.raises(tokenward.Expired):
            authority.authenticate(token)
        authority.delete_user_keys("jane")


def test_only_an_owner_mints_for_another_user(authority: tokenward.Authority) -> None:
    with pytest.raises(tokenward.Forbidden) as caught:
        authority.create_token("bob", "jane", token_name="x")
    error = caught.value
    assert isinstance(error, PermissionError)
    assert error.status == 403
    assert error.www_authenticate is None
    assert error.message == "Forbidden."
    assert authority.list_tokens(OWNER, all=True) == []
    token, key = authority.create_token(OWNER, tokenward.User("jane"), token_name="x")
    assert key.user_id == "jane"
    assert authority.authenticate(token).key.user_id == "jane"
    # The target itself may, given as the actor or as the target.
    authority.create_token("jane", "jane", token_name="y")


def test_a_duplicate_name_is_a_conflict_per_user_among_live_rows(
    authority: tokenward.Authority,
) -> None:
    _, key = authority.create_token("jane", token_name="ci")
    with pytest.raises(tokenward.Conflict) as caught:
        authority.create_token("jane", token_name="ci")
    error = caught.value
    assert error.status == 409
    assert error.message == 'A token with name "ci" already exists.'
    assert error.validations == [
        ("name", "This value is already in use and should be unique.")
    ]
    assert body_of(error) == {
        "message": 'A token with name "ci" already exists.',
        "validations": [
            {
                "field": "name",
                "detail": "This value is already in use and should be unique.",
            }
        ],
    }
    authority.create_token("bob", token_name="ci")  # another user's name space
    authority.expire("jane", key.id)
    with pytest.raises(tokenward.Conflict):  # an expired row still holds its name
        authority.create_token("jane", token_name="ci")
    authority.delete("jane", key.id)
    authority.create_token("jane", token_name="ci")


def test_a_closed_authority_raises_store_io_everywhere(
    authority: tokenward.Authority,
) -> None:
    token, key = authority.create_token("jane")
    authority.close()
    calls: list[Callable[[], object]] = [
        lambda: authority.authenticate(token),
        lambda: authority.create_token("jane"),
        lambda: authority.create_session("jane"),
        lambda: authority.create_session_key("jane"),
        lambda: authority.token_config("jane"),
        lambda: authority.list_tokens("jane"),
        lambda: authority.get_key("jane", key.id),
        lambda: authority.get_token_by_name("jane", "jane", key.token_name),
        lambda: authority.find_token("jane", "jane", key.id),
        lambda: authority.expire("jane", key.id),
        lambda: authority.delete("jane", key.id),
        lambda: authority.delete_user_keys("jane"),
        lambda: authority.purge_expired(),
        lambda: authority.settings,
        lambda: authority.now(),
    ]
    for call in calls:
        with pytest.raises(tokenward.StoreIo) as caught:
            call()
        assert caught.value.status == 500
        # Coder's internal message; an insert's is "Failed to create API key." (§4.2 step 8)
        assert caught.value.message in (INTERNAL, "Failed to create API key.")
    authority.close()  # twice: nothing


def test_a_with_block_closes_the_authority(url: str) -> None:
    with tokenward.Authority.open(url) as authority:
        token, _ = authority.create_token("jane")
        assert authority.authenticate(token).key.user_id == "jane"
    with pytest.raises(tokenward.StoreIo):
        authority.authenticate(token)
    # An exception inside the block passes through, and the authority is closed.
    with pytest.raises(KeyError), tokenward.Authority.open(url) as other:
        raise KeyError("inside")
    with pytest.raises(tokenward.StoreIo):
        other.now()


def test_the_authority_reports_its_settings_and_clock(open_authority: Opener) -> None:
    settings = tokenward.Settings(
        session_duration="3h", access_url="https://c.example.com"
    )
    authority = open_authority(settings)
    assert authority.settings == settings
    before = datetime.now(UTC) - timedelta(seconds=1)
    now = authority.now()
    assert is_utc(now)
    assert before <= now <= datetime.now(UTC) + timedelta(seconds=1)
    assert tokenward.Authority.open(":memory:").settings == tokenward.Settings()


def test_a_sqlite_file_keeps_every_key_across_reopening(tmp_path: Path) -> None:
    path = sqlite_url(tmp_path)
    with tokenward.Authority.open(path) as first:
        token, key = first.create_token("jane", token_name="ci", lifetime="48h")
        session, _ = first.create_session("jane", "github", "192.0.2.1")
        first.authenticate(token, "203.0.113.7")
        gone, gone_key = first.create_token("jane", token_name="gone")
        first.delete("jane", gone_key.id)
    for reopened_url in (path, "sqlite:" + path):
        with tokenward.Authority.open(reopened_url) as again:
            stored = again.get_key("jane", key.id)
            assert stored.token_name == "ci"
            assert stored.expires_at == key.expires_at
            assert stored.ip_address == "203.0.113.7"
            assert stored.last_used > EPOCH
            assert again.authenticate(token).key.id == key.id
            assert again.authenticate(session).key.login_type == "github"
            assert [k.token_name for k in again.list_tokens("jane")] == ["ci"]
            with pytest.raises(tokenward.UnknownKey):
                again.authenticate(gone)
            with pytest.raises(tokenward.Conflict):
                again.create_token("jane", token_name="ci")


def test_a_memory_store_is_gone_with_its_authority() -> None:
    with tokenward.Authority.open(":memory:") as first:
        token, _ = first.create_token("jane")
    with (
        tokenward.Authority.open(tokenward.MEMORY_URL) as second,
        pytest.raises(tokenward.UnknownKey),
    ):
        second.authenticate(token)


@pytest.mark.parametrize(
    ("url", "cls"),
    [
        ("", tokenward.InvalidArgument),
        ("sqlite:", tokenward.InvalidArgument),
        ("mysql://db/keys", tokenward.InvalidArgument),
    ],
)
def test_a_bad_store_url_is_refused(url: str, cls: type) -> None:
    with pytest.raises(cls) as caught:
        tokenward.Authority.open(url)
    assert type(caught.value) is cls


def test_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(tokenward.StoreIo) as caught:
        tokenward.Authority.open(str(tmp_path / "no" / "such" / "dir" / "keys.db"))
    assert str(tmp_path) not in caught.value.body  # no HTTP detail names a file


def test_a_path_object_opens_the_sqlite_file_its_string_names(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    with tokenward.Authority.open(path) as authority:
        token, _ = authority.create_token("jane", token_name="ci")
    with tokenward.Authority.open(str(path)) as again:
        assert again.authenticate(token).key.token_name == "ci"


def test_an_aware_datetime_beyond_utcs_range_is_invalid_timestamp() -> None:
    late = datetime.max.replace(tzinfo=timezone(timedelta(hours=-5)))
    with pytest.raises(tokenward.InvalidTimestamp):
        tokenward.verify_record(tokenward.generate(), None, now=late)


def test_verify_record_is_a_function_of_the_native_module() -> None:
    assert getattr(tokenward.verify_record, "__self__", None) is tokenward._native
