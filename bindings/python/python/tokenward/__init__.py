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
from ._errors import (
    CLASSES as _CLASSES,
    Conflict,
    Forbidden,
    InvalidArgument,
    NotFound,
    Rejected,
    StoreError,
    TokenwardError,
)
from ._errors import *  # noqa: F401,F403  (one class per code: Expired, InvalidSecret, ...)
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

__all__ = [
    "CONTENT_TYPE",
    "MEMORY_URL",
    "SESSION_TOKEN_COOKIE",
    "SESSION_TOKEN_HEADER",
    "ApiKey",
    "Authority",
    "Conflict",
    "Extracted",
    "Forbidden",
    "InvalidArgument",
    "KeyUpdate",
    "LoginType",
    "NotFound",
    "Rejected",
    "Scope",
    "Settings",
    "StoreError",
    "Token",
    "TokenSource",
    "TokenwardError",
    "User",
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
] + sorted({cls.__name__ for cls in _CLASSES.values()} - {"InvalidArgument", "Forbidden", "NotFound", "Conflict"})
