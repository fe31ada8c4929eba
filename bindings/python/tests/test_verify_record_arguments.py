"""`verify_record`'s arguments: it is registered with CPython's fast calling convention by
hand (src/fastcall.rs), so its argument handling is pinned here as Python's own functions
behave: positional or keyword, defaults, and a TypeError for each misuse."""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
import tokenward
from _support import sha256, split

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def record() -> tuple[str, tokenward.ApiKey]:
    token = tokenward.generate()
    key_id, secret = split(token)
    key = tokenward.ApiKey(
        id=key_id,
        hashed_secret=sha256(secret),
        user_id="jane",
        login_type="password",
        created_at=NOW - timedelta(hours=2),
        expires_at=NOW + timedelta(hours=20),
        last_used=NOW - timedelta(hours=2),
    )
    return token, key


def test_the_signature_is_the_documented_one() -> None:
    assert str(inspect.signature(tokenward.verify_record)) == (
        "(token, key, now=None, settings=None, remote_addr=None)"
    )
    assert tokenward.verify_record.__module__ == "tokenward._native"
    assert (tokenward.verify_record.__doc__ or "").startswith(
        "Checks a presented token"
    )


def test_positional_and_keyword_arguments_give_the_same_answer(
    record: tuple[str, tokenward.ApiKey],
) -> None:
    token, key = record
    settings = tokenward.Settings()
    calls: list[Callable[[], tokenward.Verified]] = [
        lambda: tokenward.verify_record(token, key, NOW, settings, "192.0.2.1"),
        lambda: tokenward.verify_record(
            token, key, now=NOW, settings=settings, remote_addr="192.0.2.1"
        ),
        lambda: tokenward.verify_record(
            remote_addr="192.0.2.1", settings=settings, now=NOW, key=key, token=token
        ),
        lambda: tokenward.verify_record(
            token, key=key, now=NOW, remote_addr="192.0.2.1"
        ),
    ]
    for call in calls:
        verified = call()
        assert verified.key is key
        assert verified.update is not None
        assert verified.update.last_used == NOW
        assert verified.update.ip_address == "192.0.2.1"


def test_none_is_the_default_of_every_optional_argument(
    record: tuple[str, tokenward.ApiKey],
) -> None:
    token, key = record
    explicit = tokenward.verify_record(token, key, NOW, None, None)
    assert explicit.update is not None and explicit.update.ip_address == "0.0.0.0"
    assert explicit.update.last_used == NOW


def test_no_record_is_an_unknown_key(record: tuple[str, tokenward.ApiKey]) -> None:
    token, _ = record
    calls: list[Callable[[], tokenward.Verified]] = [
        lambda: tokenward.verify_record(token, None),
        lambda: tokenward.verify_record(token, key=None),
    ]
    for call in calls:
        with pytest.raises(tokenward.UnknownKey) as caught:
            call()
        assert caught.value.status == 401


@pytest.mark.parametrize(
    ("arguments", "keywords", "message"),
    [
        ((), {}, "missing required argument 'token' (pos 1)"),
        (("t",), {}, "missing required argument 'key' (pos 2)"),
        ((), {"key": None}, "missing required argument 'token' (pos 1)"),
        (
            ("t", None, None, None, None, None),
            {},
            "at most 5 positional arguments (6 given)",
        ),
        (("t", None), {"keys": None}, "unexpected keyword argument 'keys'"),
        (("t", None), {"token": "t"}, "multiple values for argument 'token'"),
        (
            ("t",),
            {"key": None, "now": None, "token": "u"},
            "multiple values for argument 'token'",
        ),
        ((42, None), {}, "argument 'token': expected str, got int"),
        ((b"t", None), {}, "argument 'token': expected str, got bytes"),
        (("t", "key"), {}, "argument 'key': expected ApiKey or None, got str"),
        (
            ("t", None),
            {"settings": {}},
            "argument 'settings': expected Settings or None, got dict",
        ),
        (
            ("t", None),
            {"remote_addr": 1},
            "argument 'remote_addr': expected str or None, got int",
        ),
    ],
)
def test_each_misuse_is_a_type_error_naming_it(
    arguments: tuple[Any, ...], keywords: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError) as caught:
        tokenward.verify_record(*arguments, **keywords)
    assert message in str(caught.value)
    assert not isinstance(caught.value, tokenward.TokenwardError)


def test_a_wrong_type_is_refused_before_the_token_is_checked(
    record: tuple[str, tokenward.ApiKey],
) -> None:
    token, key = record
    with pytest.raises(TypeError):
        tokenward.verify_record(token, key, settings="defaults")  # type: ignore[arg-type]
    with pytest.raises(tokenward.InvalidTimestamp):
        tokenward.verify_record(token, key, now=datetime(2026, 3, 1))  # naive
