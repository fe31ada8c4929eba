"""tokenward's exceptions, one class per code of the core's error model.

The classes are made from the native module's ``CODES`` table, so every code the core
knows has its class, named after the code (``expired`` -> ``Expired``,
``invalid_allow_list`` -> ``InvalidAllowList``). Each carries Coder's answer to the failure:
``status``, ``message``, ``detail``, ``body`` (the JSON Coder sends), ``headers`` and, for a
rejected token, ``www_authenticate``.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple, Type, TypeVar

from . import _native

_E = TypeVar("_E", bound="TokenwardError")


class TokenwardError(Exception):
    """Base of every tokenward error.

    ``code`` is the stable snake_case name (``"expired"``), ``number`` its stable number;
    ``status`` is the HTTP status Coder answers with, ``message`` and ``detail`` Coder's JSON
    fields (``message`` is empty for failures Coder has no words for), ``body`` that JSON as
    Coder writes it, ``headers`` the answer's headers (``Content-Type``, and
    ``WWW-Authenticate`` for a rejected token) and ``validations`` Coder's field errors.
    ``str(error)`` is the detail, or the message when there is no detail.
    """

    code: str = "internal"
    number: int = 0
    message: str
    detail: str
    status: int
    www_authenticate: Optional[str]
    body: str
    headers: List[Tuple[str, str]]
    validations: List[Tuple[str, str]]

    def __new__(cls: Type[_E], detail: str = "", **_answer: Any) -> _E:
        # OSError (a base of Rejected and Forbidden) takes no keyword arguments.
        return super().__new__(cls, detail)

    def __init__(
        self,
        detail: str = "",
        *,
        message: str = "",
        status: Optional[int] = None,
        www_authenticate: Optional[str] = None,
        body: str = "",
        headers: Iterable[Tuple[str, str]] = (),
        validations: Iterable[Tuple[str, str]] = (),
    ) -> None:
        super().__init__(detail or message)
        self.detail = detail
        self.message = message
        self.status = _STATUS.get(self.number, 500) if status is None else status
        self.www_authenticate = www_authenticate
        self.body = body
        self.headers = list(headers)
        self.validations = list(validations)

    def __str__(self) -> str:
        return self.detail or self.message or self.code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> Tuple[Any, ...]:
        # Pickled whole (multiprocessing sends exceptions between processes).
        return (_rebuild, (type(self), self.detail, self._answer()))

    def _answer(self) -> Dict[str, Any]:
        return {
            "message": self.message,
            "status": self.status,
            "www_authenticate": self.www_authenticate,
            "body": self.body,
            "headers": self.headers,
            "validations": self.validations,
        }


def _rebuild(
    cls: Type[TokenwardError], detail: str, answer: Dict[str, Any]
) -> TokenwardError:
    return cls(detail, **answer)


class Rejected(TokenwardError, PermissionError):
    """A presented token does not authenticate (Coder's 401); one subclass per reason."""


class InvalidArgument(TokenwardError, ValueError):
    """Invalid input (Coder's 400): the base of every ``Invalid*`` error and of limits."""

    code = "invalid_argument"


class Forbidden(TokenwardError, PermissionError):
    """The actor may not do this (Coder's 403)."""

    code = "forbidden"


class NotFound(TokenwardError, LookupError):
    """No such key, or one the actor may not see (Coder's 404)."""

    code = "not_found"


class Conflict(TokenwardError):
    """The user already has a token of this name (Coder's 409)."""

    code = "conflict"


class StoreError(TokenwardError):
    """The key store failed (Coder's 500); one subclass per kind (``StoreBusy``, ...)."""


_STATUS: Dict[int, int] = {number: status for number, _, status, _, _ in _native.CODES}


def _class_name(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_"))


def _base(status: int, is_rejection: bool, is_store: bool) -> Type[TokenwardError]:
    if is_rejection:
        return Rejected
    if is_store:
        return StoreError
    if status == 400:  # invalid input and limits, as the core's table answers them
        return InvalidArgument
    return TokenwardError


def _make_classes() -> Dict[int, Type[TokenwardError]]:
    named: Dict[str, Type[TokenwardError]] = {
        cls.code: cls for cls in (InvalidArgument, Forbidden, NotFound, Conflict)
    }
    classes: Dict[int, Type[TokenwardError]] = {}
    for number, code, status, is_rejection, is_store in _native.CODES:
        if number == 0:
            continue
        cls = named.get(code)
        if cls is None:
            base = _base(status, is_rejection, is_store)
            doc = f"Code ``{code}`` ({number})."
            cls = type(_class_name(code), (base,), {"code": code, "__doc__": doc})
            cls.__module__ = __name__
        cls.number = number
        classes[number] = cls
    return classes


CLASSES: Dict[int, Type[TokenwardError]] = _make_classes()
"""Every exception class by code number."""

globals().update({cls.__name__: cls for cls in CLASSES.values()})
