"""Types of `tokenward._native`, the PyO3 extension (`bindings/python/src/*.rs`).

Times come back as aware UTC `datetime`s and go in as aware `datetime`s or RFC 3339 strings;
durations come back as `timedelta`s and go in as `timedelta`s or Go duration strings.
"""

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final, Literal, Protocol, final

from typing_extensions import Self, TypeAlias

from tokenward._enums import LoginType, Scope
from tokenward._errors import TokenwardError

__all__ = [
    "CODES",
    "CONTENT_TYPE",
    "LOGIN_TYPES",
    "MEMORY_URL",
    "SCOPES",
    "SESSION_TOKEN_COOKIE",
    "SESSION_TOKEN_HEADER",
    "TOKEN_SOURCES",
    "ApiKey",
    "Authority",
    "Extracted",
    "KeyUpdate",
    "Settings",
    "Token",
    "User",
    "Verified",
    "__version__",
    "_register",
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

# An aware `datetime` (any zone) or an RFC 3339 string; a naive datetime is refused.
_Instant: TypeAlias = datetime | str

# A `timedelta` or a Go duration string (`"168h"`, `"7d"`, `"1h30m"`).
_Duration: TypeAlias = timedelta | str

# A `User`, or a user id (a user without roles).
_UserLike: TypeAlias = User | str

# Request text: `str`, or `bytes` (not UTF-8: each bad byte reads as DEL).
_Text: TypeAlias = str | bytes

_TokenSourceName: TypeAlias = Literal[
    "cookie", "query", "header", "bearer", "access_token"
]

# A mapping of headers: a dict, Starlette's or Werkzeug's `Headers` (`items()` gives every value).
class _HeaderItems(Protocol):
    def items(self) -> Iterable[tuple[_Text, _Text]]: ...

# Defaults written `...` below are Rust expressions (`String::new()`, `Vec::new()`) that PyO3
# shows as `...` in `__text_signature__`; the comment beside each gives the value.

# The tables `tokenward._errors` and `tokenward._enums` are made from.
# Every code: `(number, name, http_status, is_rejection, is_store)`.
CODES: list[tuple[int, str, int, bool, bool]]
LOGIN_TYPES: list[str]
SCOPES: list[str]
TOKEN_SOURCES: list[str]

MEMORY_URL: Final = ":memory:"
CONTENT_TYPE: Final = "application/json; charset=utf-8"
SESSION_TOKEN_COOKIE: Final = "coder_session_token"
SESSION_TOKEN_HEADER: Final = "Coder-Session-Token"
__version__: str

def _register(
    errors: dict[int, type[TokenwardError]],
    login_type: type[LoginType],
    scope: type[Scope],
) -> None: ...
def generate() -> str: ...
def parse(text: str, strict: bool = False) -> Token: ...
def hash_secret(secret: str | bytes) -> bytes: ...
def hash_secrets(secrets: Iterable[str | bytes]) -> list[bytes]: ...
def verify_record(
    token: str,
    key: ApiKey | None,
    now: _Instant | None = None,
    settings: Settings | None = None,
    remote_addr: str | None = None,
) -> Verified: ...
def extract_token(
    headers: _HeaderItems | Iterable[tuple[_Text, _Text]],
    query: _Text | None = None,
) -> Extracted | None: ...
def parse_duration(text: str) -> timedelta: ...
def parse_duration_ns(text: str) -> int: ...
def format_duration(duration: timedelta | int | str) -> str: ...

@final
class Token:
    @property
    def id(self) -> str: ...
    @property
    def secret(self) -> str: ...
    def hashed_secret(self) -> bytes: ...

@final
class Extracted:
    @property
    def token(self) -> str: ...
    @property
    def source(self) -> _TokenSourceName: ...

@final
class ApiKey:
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __new__(
        cls,
        *,
        id: str,
        hashed_secret: bytes,
        user_id: str,
        login_type: str,
        created_at: _Instant,
        expires_at: _Instant,
        last_used: _Instant | None = None,
        updated_at: _Instant | None = None,
        lifetime_seconds: int | None = None,
        ip_address: str | None = None,
        token_name: str | None = None,
        scopes: Iterable[str] | None = None,
        allow_list: Iterable[str | dict[str, str]] | None = None,
    ) -> Self: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Self: ...
    @staticmethod
    def from_json(text: str) -> ApiKey: ...
    @property
    def id(self) -> str: ...
    @property
    def hashed_secret(self) -> bytes: ...
    @property
    def user_id(self) -> str: ...
    @property
    def last_used(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def login_type(self) -> LoginType: ...
    @property
    def lifetime_seconds(self) -> int: ...
    @property
    def ip_address(self) -> str: ...
    @property
    def token_name(self) -> str: ...
    @property
    def scopes(self) -> list[Scope | str]: ...
    @property
    def scope(self) -> Literal["all", "application_connect", ""]: ...
    @property
    def allow_list(self) -> list[dict[str, str]]: ...
    def is_expired(self, now: _Instant) -> bool: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_storage_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    def to_storage_json(self) -> str: ...

@final
class KeyUpdate:
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    @property
    def id(self) -> str: ...
    @property
    def last_used(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def ip_address(self) -> str: ...
    @property
    def previous_expires_at(self) -> datetime: ...
    def apply_to(self, key: ApiKey, now: _Instant | None = None) -> ApiKey: ...

@final
class Verified:
    @property
    def key(self) -> ApiKey: ...
    @property
    def update(self) -> KeyUpdate | None: ...

@final
class Settings:
    __hash__: ClassVar[None]  # type: ignore[assignment]
    # The runtime takes `**values`; these are the names it accepts (any other raises
    # `InvalidSettings`). A name left out keeps its current value.
    def __new__(
        cls,
        *,
        session_duration: _Duration = ...,
        disable_session_expiry_refresh: bool = ...,
        default_token_lifetime: _Duration = ...,
        max_token_lifetime: _Duration = ...,
        max_admin_token_lifetime: _Duration = ...,
        api_keys_retention: _Duration = ...,
        access_url: str | None = ...,
    ) -> Self: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    @staticmethod
    def from_env() -> Settings: ...
    @staticmethod
    def from_json(text: str) -> Settings: ...
    def replace(
        self,
        *,
        session_duration: _Duration = ...,
        disable_session_expiry_refresh: bool = ...,
        default_token_lifetime: _Duration = ...,
        max_token_lifetime: _Duration = ...,
        max_admin_token_lifetime: _Duration = ...,
        api_keys_retention: _Duration = ...,
        access_url: str | None = ...,
    ) -> Settings: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    @property
    def session_duration(self) -> timedelta: ...
    @property
    def disable_session_expiry_refresh(self) -> bool: ...
    @property
    def default_token_lifetime(self) -> timedelta: ...
    @property
    def max_token_lifetime(self) -> timedelta: ...
    @property
    def max_admin_token_lifetime(self) -> timedelta: ...
    @property
    def api_keys_retention(self) -> timedelta: ...
    @property
    def access_url(self) -> str | None: ...

@final
class User:
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __new__(cls, id: str, roles: Sequence[str] | None = None) -> Self: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    @property
    def id(self) -> str: ...
    @property
    def roles(self) -> tuple[str, ...]: ...
    @property
    def is_owner(self) -> bool: ...

@final
class Authority:
    @staticmethod
    def open(
        url: str | os.PathLike[str], settings: Settings | None = None
    ) -> Authority: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def may_block(self) -> bool: ...
    def now(self) -> datetime: ...
    def create_token(
        self,
        actor: _UserLike,
        target: _UserLike | None = None,
        *,
        lifetime: _Duration | None = None,
        token_name: str = "",
        scopes: Sequence[str] | None = None,
        scope: str | None = None,
        allow_list: Iterable[str | Mapping[str, str]] | None = None,
        remote_addr: str | None = None,
    ) -> tuple[str, ApiKey]: ...
    def create_session(
        self,
        user: _UserLike,
        login_type: str = "password",
        remote_addr: str | None = None,
    ) -> tuple[str, ApiKey]: ...
    def create_session_key(
        self,
        user: _UserLike,
        remote_addr: str | None = None,
    ) -> tuple[str, ApiKey]: ...
    def authenticate(self, token: str, remote_addr: str | None = None) -> Verified: ...
    def token_config(self, user: _UserLike) -> timedelta: ...
    def list_tokens(
        self,
        actor: _UserLike,
        *,
        user_id: str | None = None,
        all: bool = False,
        include_expired: bool = False,
    ) -> list[ApiKey]: ...
    def get_key(self, actor: _UserLike, id: str) -> ApiKey: ...
    def get_token_by_name(
        self, actor: _UserLike, user_id: str, name: str
    ) -> ApiKey: ...
    def find_token(self, actor: _UserLike, user_id: str, name_or_id: str) -> ApiKey: ...
    def expire(self, actor: _UserLike, id: str) -> None: ...
    def delete(self, actor: _UserLike, id: str) -> None: ...
    def delete_user_keys(self, user_id: str) -> int: ...
    def purge_expired(self) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> Literal[False]: ...
