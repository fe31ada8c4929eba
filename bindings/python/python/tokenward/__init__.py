"""tokenward: Coder's API keys and session tokens, in-process.

Issue and verify tokens of the form ``<10-character id>-<22-character secret>`` with exactly
Coder's rules and answers: the server keeps only SHA-256 of the secret, sessions last 24 hours
and slide forward while in use, named tokens have a lifetime capped by the deployment's
maximum, and only an Owner mints tokens for someone else.

>>> import tokenward
>>> authority = tokenward.Authority.open(":memory:")
>>> token, key = authority.create_token("user-1", token_name="ci")
>>> authority.authenticate(token).key.token_name
'ci'

Every rule runs in the Rust core; this package converts types and errors.
"""

from __future__ import annotations

from . import _native
from ._enums import LoginType, Scope, TokenSource
from ._errors import CLASSES as _CLASSES

# One class per code of the core, made from its table (_errors.py).
from ._errors import (
    BufferTooSmall,
    Conflict,
    Expired,
    Forbidden,
    InvalidAllowList,
    InvalidArgument,
    InvalidDuration,
    InvalidKey,
    InvalidLifetime,
    InvalidLoginType,
    InvalidScope,
    InvalidSecret,
    InvalidSettings,
    InvalidTimestamp,
    InvalidToken,
    InvalidUtf8,
    LifetimeTooLong,
    Malformed,
    Missing,
    NotFound,
    NoUserLink,
    NullArgument,
    OauthUnavailable,
    Panic,
    Random,
    Rejected,
    StoreBusy,
    StoreConstraint,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreIncompatible,
    StoreIo,
    StoreReadOnly,
    TokenwardError,
    UnknownKey,
    UserDeleted,
    UserInactive,
)
from ._native import (
    CONTENT_TYPE,
    MEMORY_URL,
    SESSION_TOKEN_COOKIE,
    SESSION_TOKEN_HEADER,
    ApiKey,
    Authority,
    Extracted,
    KeyUpdate,
    Settings,
    Token,
    User,
    Verified,
    extract_token,
    format_duration,
    generate,
    hash_secret,
    hash_secrets,
    parse,
    parse_duration,
    parse_duration_ns,
    verify_record,
)

_native._register(_CLASSES, LoginType, Scope)

__version__: str = _native.__version__

# Literal, so type checkers read it; tests/test_typing.py checks that every exception class
# the core's codes make is listed.
__all__ = [
    "CONTENT_TYPE",
    "MEMORY_URL",
    "SESSION_TOKEN_COOKIE",
    "SESSION_TOKEN_HEADER",
    "ApiKey",
    "Authority",
    "BufferTooSmall",
    "Conflict",
    "Expired",
    "Extracted",
    "Forbidden",
    "InvalidAllowList",
    "InvalidArgument",
    "InvalidDuration",
    "InvalidKey",
    "InvalidLifetime",
    "InvalidLoginType",
    "InvalidScope",
    "InvalidSecret",
    "InvalidSettings",
    "InvalidTimestamp",
    "InvalidToken",
    "InvalidUtf8",
    "KeyUpdate",
    "LifetimeTooLong",
    "LoginType",
    "Malformed",
    "Missing",
    "NoUserLink",
    "NotFound",
    "NullArgument",
    "OauthUnavailable",
    "Panic",
    "Random",
    "Rejected",
    "Scope",
    "Settings",
    "StoreBusy",
    "StoreConstraint",
    "StoreCorrupt",
    "StoreError",
    "StoreFull",
    "StoreIncompatible",
    "StoreIo",
    "StoreReadOnly",
    "Token",
    "TokenSource",
    "TokenwardError",
    "UnknownKey",
    "User",
    "UserDeleted",
    "UserInactive",
    "Verified",
    "extract_token",
    "format_duration",
    "generate",
    "hash_secret",
    "hash_secrets",
    "parse",
    "parse_duration",
    "parse_duration_ns",
    "verify_record",
]
