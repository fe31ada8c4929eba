"""Shared by test_asgi.py and test_wsgi.py: Coder's strings the middleware tests expect, and
the exception the binding raises for a token (the answer a middleware must send)."""

from __future__ import annotations

import pytest
import tokenward

ACCESS_URL = "https://coder.example.com"
METADATA = (
    'resource_metadata="https://coder.example.com/.well-known/oauth-protected-resource"'
)
INTERNAL = (
    '{"message":"An internal error occurred. Please try again or contact the system '
    'administrator.","detail":"Internal error fetching API key by id. '
)

Token = tuple[str, tokenward.ApiKey]


def raised(authority: tokenward.Authority, token: str) -> tokenward.TokenwardError:
    """What the binding raises for ``token``: the answer the app must send."""
    with pytest.raises(tokenward.TokenwardError) as info:
        authority.authenticate(token)
    return info.value
