"""Helpers shared by test_authority.py, test_concurrency.py and test_bad_input.py.

Expected values here come from Coder's rules (docs/compatibility.md) and from Python's own
tools (hashlib, datetime, string), never from tokenward.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import tokenward

UTC = timezone.utc

ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
"""compatibility §1: the 62 symbols, digits, then upper case, then lower case."""

TOKEN_RE = re.compile(r"^[0-9A-Za-z]{10}-[0-9A-Za-z]{22}$")

SIGNED_OUT = (
    "You are signed out or your session has expired. Please sign in again to continue."
)
INTERNAL = (
    "An internal error occurred. Please try again or contact the system administrator."
)
NOT_FOUND = "Resource not found or you do not have access to this resource"
MISSING_DETAIL = 'Cookie "coder_session_token" or query parameter must be provided.'
CHALLENGE_EXPIRED = (
    'Bearer realm="coder", error="invalid_token", '
    'error_description="The access token has expired"'
)
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

OWNER = tokenward.User("root", ("owner",))
"""A site Owner (compatibility §4.2 step 7)."""

WORKSPACE = "0b0b0b0b-1c1c-4d4d-8e8e-9f9f9f9f9f9f"


def sha256(secret: str) -> bytes:
    """SHA-256 of a secret's UTF-8 bytes, by hashlib (compatibility §2)."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def split(token: str) -> tuple[str, str]:
    """`(id, secret)` of a well-formed token, split by hand (compatibility §1)."""
    assert TOKEN_RE.match(token), token
    return token[:10], token[11:]


def go_time(t: datetime) -> str:
    """`t` as Go's `Time.String()` prints a UTC time: trailing zeros of the fraction dropped."""
    assert t.utcoffset() == timedelta(0)
    text = t.strftime("%Y-%m-%d %H:%M:%S")
    if t.microsecond:
        text += ("." + f"{t.microsecond:06d}").rstrip("0")
    return text + " +0000 UTC"


def expired_detail(expires_at: datetime) -> str:
    """compatibility §6 row 5 and "Fine points decided"."""
    return f'API key expired at "{go_time(expires_at)}".'


def is_utc(t: datetime) -> bool:
    """An aware datetime in UTC itself (not merely an offset of zero)."""
    return (
        t.tzinfo is not None and t.utcoffset() == timedelta(0) and t.tzname() == "UTC"
    )


def error_texts(error: BaseException) -> list[str]:
    """Every text an error shows: str, repr, and a tokenward error's answer fields."""
    texts = [str(error), repr(error)]
    texts.extend(str(arg) for arg in error.args)
    for name in (
        "detail",
        "message",
        "body",
        "www_authenticate",
        "headers",
        "validations",
    ):
        texts.append(str(getattr(error, name, "")))
    return texts


def body_of(error: tokenward.TokenwardError) -> dict[str, Any]:
    """The JSON body Coder sends for `error`."""
    body: dict[str, Any] = json.loads(error.body)
    return body


def sqlite_url(tmp_path: Path, name: str = "keys.db") -> str:
    return str(tmp_path / name)


def mint_and_authenticate(
    path: str, worker: int, count: int, barrier: Any, results: Any
) -> None:
    """A process of test_concurrency: waits at `barrier`, then mints `count` tokens in the
    SQLite file `path` and authenticates each (twice: the first use writes `last_used`).
    Puts `(worker, tokens, errors)` on `results`; `errors` holds "ClassName: text" for every
    exception seen, none expected."""
    tokens: list[str] = []
    errors: list[str] = []
    user = f"worker-{worker}"
    try:
        barrier.wait(timeout=60)  # then all open (and create) the file at once
        authority = tokenward.Authority.open(path)
        for i in range(count):
            try:
                token, key = authority.create_token(user, token_name=f"t{i}")
                tokens.append(token)
                for _ in range(2):
                    verified = authority.authenticate(token, "203.0.113.9")
                    if verified.key.id != key.id or verified.key.user_id != user:
                        errors.append(f"wrong key: {verified.key!r} for {key!r}")
            except Exception as e:  # noqa: BLE001 (every failure is reported to the parent)
                errors.append(f"{type(e).__name__}: {e}")
        # Everything minted so far, again: another process's writes lose nothing of ours.
        for token in tokens:
            try:
                authority.authenticate(token)
            except Exception as e:  # noqa: BLE001
                errors.append(f"{type(e).__name__}: {e}")
        authority.close()
    except Exception as e:  # noqa: BLE001
        errors.append(f"{type(e).__name__}: {e}")
    results.put((worker, tokens, errors))
