"""Enums made from the core's tables: login types, Coder's public scopes, token sources."""

from __future__ import annotations

import enum
from typing import List, Tuple

from . import _native


def _member(value: str) -> str:
    return value.replace("*", "all").replace(":", "_").replace(".", "_").upper()


def _members(values: List[str]) -> List[Tuple[str, str]]:
    return [(_member(value), value) for value in values]


LoginType = enum.Enum(  # type: ignore[misc]
    "LoginType", _members(_native.LOGIN_TYPES), module=__name__, type=str
)
LoginType.__doc__ = "How a key was obtained: Coder's ``login_type`` enum."

Scope = enum.Enum(  # type: ignore[misc]
    "Scope", _members(_native.SCOPES), module=__name__, type=str
)
Scope.__doc__ = "The scopes a user may request for a token (Coder's public scopes)."

TokenSource = enum.Enum(  # type: ignore[misc]
    "TokenSource",
    _members(_native.TOKEN_SOURCES),
    module=__name__,
    type=str,
)
TokenSource.__doc__ = (
    "Where a request carried its token, in Coder's order of precedence."
)
