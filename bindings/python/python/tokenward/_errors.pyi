"""Types of `tokenward._errors`: the classes it makes from `_native.CODES` at runtime.

One class per code (stubtest checks this list against the runtime's): `Rejected`
subclasses for a token that does not authenticate (401), `InvalidArgument` subclasses for
bad input (400), `StoreError` subclasses for a failing store (500).
"""

from collections.abc import Iterable
from typing import Any

from typing_extensions import Self

class TokenwardError(Exception):
    code: str
    number: int
    message: str
    detail: str
    status: int
    www_authenticate: str | None
    body: str
    headers: list[tuple[str, str]]
    validations: list[tuple[str, str]]
    def __new__(cls, detail: str = "", **_answer: Any) -> Self: ...
    def __init__(
        self,
        detail: str = "",
        *,
        message: str = "",
        status: int | None = None,
        www_authenticate: str | None = None,
        body: str = "",
        headers: Iterable[tuple[str, str]] = (),
        validations: Iterable[tuple[str, str]] = (),
    ) -> None: ...
    def __reduce__(self) -> tuple[Any, ...]: ...
    def _answer(self) -> dict[str, Any]: ...

class Rejected(TokenwardError, PermissionError): ...
class InvalidArgument(TokenwardError, ValueError): ...
class Forbidden(TokenwardError, PermissionError): ...
class NotFound(TokenwardError, LookupError): ...
class Conflict(TokenwardError): ...
class StoreError(TokenwardError): ...

CLASSES: dict[int, type[TokenwardError]]

# One class per code of `_native.CODES` (but `ok` and the four named above), by number.
class Missing(Rejected): ...  # 1000 missing
class Malformed(Rejected): ...  # 1001 malformed
class UnknownKey(Rejected): ...  # 1002 unknown_key
class InvalidSecret(Rejected): ...  # 1003 invalid_secret
class Expired(Rejected): ...  # 1004 expired
class UserDeleted(Rejected): ...  # 1005 user_deleted
class NoUserLink(Rejected): ...  # 1006 no_user_link
class UserInactive(Rejected): ...  # 1007 user_inactive
class InvalidToken(InvalidArgument): ...  # 2001 invalid_token
class InvalidDuration(InvalidArgument): ...  # 2002 invalid_duration
class InvalidSettings(InvalidArgument): ...  # 2003 invalid_settings
class InvalidTimestamp(InvalidArgument): ...  # 2004 invalid_timestamp
class InvalidScope(InvalidArgument): ...  # 2005 invalid_scope
class InvalidAllowList(InvalidArgument): ...  # 2006 invalid_allow_list
class InvalidLoginType(InvalidArgument): ...  # 2007 invalid_login_type
class InvalidKey(InvalidArgument): ...  # 2008 invalid_key
class InvalidLifetime(InvalidArgument): ...  # 2009 invalid_lifetime
class NullArgument(InvalidArgument): ...  # 2100 null_argument
class InvalidUtf8(InvalidArgument): ...  # 2101 invalid_utf8
class BufferTooSmall(InvalidArgument): ...  # 2102 buffer_too_small
class LifetimeTooLong(InvalidArgument): ...  # 3000 lifetime_too_long
class StoreBusy(StoreError): ...  # 5000 store_busy
class StoreCorrupt(StoreError): ...  # 5001 store_corrupt
class StoreReadOnly(StoreError): ...  # 5002 store_read_only
class StoreIo(StoreError): ...  # 5003 store_io
class StoreFull(StoreError): ...  # 5004 store_full
class StoreConstraint(StoreError): ...  # 5005 store_constraint
class StoreIncompatible(StoreError): ...  # 5006 store_incompatible
class Random(TokenwardError): ...  # 6000 random
class Panic(TokenwardError): ...  # 6001 panic
class OauthUnavailable(TokenwardError): ...  # 6002 oauth_unavailable
