"""WSGI middleware: Coder's API-key check in front of any WSGI app (Flask, Django, ...).

>>> import tokenward
>>> from tokenward.wsgi import TokenwardMiddleware
>>> authority = tokenward.Authority.open(":memory:")
>>> def hello(environ, start_response):
...     start_response("200 OK", [("Content-Type", "text/plain")])
...     return [environ["tokenward.key"].user_id.encode()]
>>> app = TokenwardMiddleware(hello, authority, skip={"/healthz"})

With Flask, wrap the WSGI callable and read the key from the request's environ::

    app.wsgi_app = TokenwardMiddleware(app.wsgi_app, authority)
    ...
    key = flask.request.environ["tokenward.key"]

Every request (but those ``skip`` names) has its token found where Coder looks
(``tokenward.extract_token``: the ``coder_session_token`` cookie, that query parameter, the
``Coder-Session-Token`` header, ``Authorization: Bearer``, the ``access_token`` query
parameter) and checked by ``authority.authenticate`` with the connection's ``REMOTE_ADDR``,
which also writes Coder's refresh. A request that passes reaches the app with its ``ApiKey`` in
``environ["tokenward.key"]``; any other gets Coder's answer byte for byte: the status, the
``Content-Type``, the ``WWW-Authenticate`` challenge of a rejection and the JSON body, exactly as
the binding's exception carries them (a request without a token gets what
``authority.authenticate("")`` raises, Coder's ``Missing`` 401; a closed authority or a failing
store Coder's 500). Behind a proxy, set ``REMOTE_ADDR`` to the real client first (Werkzeug's
``ProxyFix``); an address that is no bare IP is stored as 0.0.0.0.

The server hands the headers over as CGI ``HTTP_*`` keys whose values are the header bytes
decoded as latin-1 (PEP 3333); they are turned back into (name, bytes) pairs, and the
``QUERY_STRING`` back into bytes, so bytes that are not UTF-8 reach ``extract_token`` as
received.
"""

from __future__ import annotations

import http
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Union

from ._errors import TokenwardError
from ._native import Authority, extract_token

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["ENVIRON_KEY", "Skip", "TokenwardMiddleware"]

ENVIRON_KEY = "tokenward.key"
"""The ``environ`` key under which the middleware puts the verified ``ApiKey``."""

Skip = Union[Callable[[str], bool], Iterable[str]]
"""The paths to let through unauthenticated: a predicate on the path, or path prefixes.

A prefix matches the path equal to it and every path below it: ``"/healthz"`` skips
``/healthz`` and ``/healthz/live`` but not ``/healthzz``; ``"/"`` skips everything. A path
with a ``.`` or ``..`` segment is never skipped.
"""


def _skip_predicate(skip: Skip) -> Callable[[str], bool]:
    """``skip`` as a predicate on the path (shared with ``tokenward.asgi``). A path with a
    ``.`` or ``..`` segment is never skipped: a router that resolves them could serve
    ``/healthz/../admin`` as ``/admin``."""
    if callable(skip):
        wanted = skip
    else:
        prefixes = tuple(
            p.rstrip("/") for p in ([skip] if isinstance(skip, str) else skip)
        )

        def wanted(path: str) -> bool:
            return any(path == p or path.startswith(p + "/") for p in prefixes)

    def skipped(path: str) -> bool:
        if any(segment in (".", "..") for segment in path.split("/")):
            return False
        return wanted(path)

    return skipped


def _wire_text(value: str) -> str:
    """A header value of the answer as the native string WSGI sends byte for byte (PEP 3333:
    the bytes as latin-1): its UTF-8 bytes, which is what Coder writes."""
    return value.encode("utf-8").decode("latin-1")


def _received_bytes(value: str) -> bytes:
    """The bytes a server received, from the native string it made of them: PEP 3333 says
    latin-1; a server that decoded UTF-8 (with surrogateescape) is read back the same way."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape")


def _request_headers(environ: WSGIEnvironment) -> list[tuple[str, bytes]]:
    """The request's headers as (name, bytes): ``HTTP_CODER_SESSION_TOKEN`` ->
    ``Coder-Session-Token``, ``HTTP_COOKIE`` -> ``Cookie``, ..."""
    return [
        (name[5:].replace("_", "-").title(), _received_bytes(value))
        for name, value in environ.items()
        if name.startswith("HTTP_") and isinstance(value, str)
    ]


def _answer(error: TokenwardError) -> tuple[str, list[tuple[str, str]], bytes]:
    """Coder's answer to ``error`` for WSGI: the status line, the headers, the body."""
    body = error.body.encode("utf-8")
    try:
        reason = http.HTTPStatus(error.status).phrase
    except ValueError:
        reason = ""
    headers = [(name, _wire_text(value)) for name, value in error.headers]
    headers.append(("Content-Length", str(len(body))))
    return f"{error.status} {reason}".rstrip(), headers, body


class TokenwardMiddleware:
    """Authenticates every request to ``app`` against ``authority``, as Coder's API-key
    middleware does (see the module's documentation).

    ``skip``: the paths (``PATH_INFO``, as the app's routes see them) let through without a
    token and without a key in the environ, as a predicate or a collection of prefixes (see
    ``Skip``). The authority is shared by every request; close it when the app stops.
    """

    def __init__(
        self, app: WSGIApplication, authority: Authority, *, skip: Skip = ()
    ) -> None:
        self.app = app
        self.authority = authority
        self._skipped = _skip_predicate(skip)

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Answers the request, or passes it to the app with ``environ["tokenward.key"]``."""
        if self._skipped(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        found = extract_token(
            _request_headers(environ), _received_bytes(environ.get("QUERY_STRING", ""))
        )
        try:
            # No token: authenticate("") raises Coder's own answer (Missing), not ours.
            verified = self.authority.authenticate(
                found.token if found is not None else "", environ.get("REMOTE_ADDR", "")
            )
        except TokenwardError as error:
            status, headers, body = _answer(error)
            start_response(status, headers)
            return [body]
        environ[ENVIRON_KEY] = verified.key
        return self.app(environ, start_response)
