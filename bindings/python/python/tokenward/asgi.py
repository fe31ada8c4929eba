"""ASGI middleware and a FastAPI dependency: Coder's API-key check for Starlette, FastAPI or
any ASGI app.

The middleware, pure ASGI (any framework, any server)::

    from tokenward.asgi import TokenwardMiddleware
    app.add_middleware(TokenwardMiddleware, authority=authority, skip={"/healthz"})
    # or: app = TokenwardMiddleware(app, authority)
    ...
    key = request.state.tokenward_key  # Starlette/FastAPI; raw ASGI: scope["state"]

Every ``http`` and ``websocket`` request (but those ``skip`` names) has its token found where
Coder looks (``tokenward.extract_token`` on ``scope["headers"]`` and ``scope["query_string"]``,
bytes as received: the ``coder_session_token`` cookie, that query parameter, the
``Coder-Session-Token`` header, ``Authorization: Bearer``, the ``access_token`` query
parameter) and checked by ``authority.authenticate`` with the client's address
(``scope["client"][0]``), which also writes Coder's refresh. A request that passes reaches the
app with its ``ApiKey`` in ``scope["state"]["tokenward_key"]``; any other gets Coder's answer
byte for byte: the status, the ``Content-Type``, the ``WWW-Authenticate`` challenge of a
rejection and the JSON body, exactly as the binding's exception carries them (a request without
a token gets what ``authority.authenticate("")`` raises, Coder's ``Missing`` 401; a closed
authority or a failing store Coder's 500). ``lifespan`` (and any other) scopes pass through.
Behind a proxy, have the server (``uvicorn --proxy-headers``) or a proxy-headers middleware put
the real client in ``scope["client"]``; an address that is no bare IP is stored as 0.0.0.0.

WebSocket handshakes are authenticated too, before the app sees them. Coder checks the upgrade
request as any other and answers its HTTP 401 before upgrading; an ASGI app can do that only
through the WebSocket Denial Response extension (``websocket.http.response``, offered by
uvicorn, hypercorn and Starlette's test client), which the middleware uses when the server
offers it: the same status, headers and body as for HTTP. Without it the handshake is refused
with ``websocket.close`` (the server then answers 403) with code 1008 (policy violation) for a
rejected token, 1011 (internal error) for a store failure.

The FastAPI dependency::

    from tokenward.asgi import authenticated, install
    install(app, authority)

    @app.get("/whoami")
    async def whoami(key: Annotated[tokenward.ApiKey, Depends(authenticated)]) -> dict[str, str]:
        return {"user_id": key.user_id}

``authenticated`` returns the key the middleware put in ``request.state.tokenward_key``; where
the middleware did not run (it is not installed, or ``skip`` let the path through) it
authenticates the request itself with the authority ``install`` put in
``app.state.tokenward_authority``. A failure raises ``TokenwardHTTPException``, a Starlette
``HTTPException`` carrying the binding's exception (``.error``). FastAPI's own handler for an
``HTTPException`` writes ``{"detail": ...}``, not Coder's body, so ``install`` also registers
``handle_tokenward_error`` for ``TokenwardHTTPException`` and for ``TokenwardError``: every
tokenward failure a route lets escape (the dependency's, or, say, ``NotFound`` from
``authority.get_key``) is then answered with Coder's exact status, headers and body through
FastAPI's real exception handling (for a WebSocket route: the denial response, or a close, as
above). Without ``install`` the status and the challenge stay right and the body is FastAPI's.

Starlette (hence FastAPI) is needed only by the dependency, ``install`` and the handler: without
it, ``import tokenward.asgi`` still works and the middleware runs on asyncio alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._errors import TokenwardError
from ._native import ApiKey, Authority, Verified, extract_token
from .wsgi import Skip, _skip_predicate, _wire_text

if TYPE_CHECKING:
    from starlette.types import ExceptionHandler

try:
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import HTTPConnection
    from starlette.responses import Response
    from starlette.websockets import WebSocket, WebSocketState
except ImportError:
    # Starlette (FastAPI) is not installed: only the middleware can be used.
    HAS_STARLETTE = False
else:
    HAS_STARLETTE = True

# A store that may block (a SQLite file: a read, a write when the key is refreshed, a wait for
# another process's lock) has `authenticate` run in a worker thread, never on the event loop;
# the native call releases the GIL. A `:memory:` store answers in about a microsecond, far
# less than the hop to a thread and back (about 200 us on a 2-core machine), so it runs
# inline: `Authority.may_block` tells them apart. anyio's `to_thread.run_sync` is preferred:
# it runs under asyncio and trio alike, and it shares the thread limiter Starlette uses for
# sync endpoints, so a flood of requests cannot start more threads than the app already
# allows. Without anyio (no Starlette), `asyncio.to_thread`.
try:
    import anyio.to_thread
except ImportError:  # anyio comes with Starlette
    _HAS_ANYIO = False
else:
    _HAS_ANYIO = True

__all__ = [
    "AUTHORITY_STATE",
    "HAS_STARLETTE",
    "STATE_KEY",
    "Skip",
    "TokenwardMiddleware",
    "authenticated",
    "handle_tokenward_error",
    "install",
]

Scope = MutableMapping[str, Any]
"""An ASGI connection scope."""
Message = MutableMapping[str, Any]
"""An ASGI event."""
Receive = Callable[[], Awaitable[Message]]
"""The ASGI ``receive`` callable."""
Send = Callable[[Message], Awaitable[None]]
"""The ASGI ``send`` callable."""
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
"""An ASGI 3 application."""

STATE_KEY = "tokenward_key"
"""The ``scope["state"]`` key (``request.state`` attribute) holding the verified ``ApiKey``."""

AUTHORITY_STATE = "tokenward_authority"
"""The ``app.state`` attribute where ``install`` puts the authority ``authenticated`` uses."""

_T = TypeVar("_T")


async def _in_thread(
    function: Callable[[str, str], _T], token: str, remote_addr: str
) -> _T:
    """``function(token, remote_addr)`` in a worker thread (see the comment on the imports)."""
    if _HAS_ANYIO:
        return await anyio.to_thread.run_sync(function, token, remote_addr)
    return await asyncio.to_thread(function, token, remote_addr)


async def _authenticate(authority: Authority, scope: Scope) -> ApiKey:
    """The key of the token ``scope`` presents, refreshed; raises the binding's exception."""
    found = extract_token(scope.get("headers", ()), scope.get("query_string", b""))
    client: tuple[str, int] | None = scope.get("client")
    # No token: authenticate("") raises Coder's own answer (Missing), not one made up here.
    token, address = (
        found.token if found is not None else "",
        client[0] if client else "",
    )
    verified: Verified
    if authority.may_block:
        verified = await _in_thread(authority.authenticate, token, address)
    else:
        verified = authority.authenticate(token, address)
    return verified.key


def _raw_headers(error: TokenwardError, body: bytes) -> list[tuple[bytes, bytes]]:
    """``error``'s headers as ASGI sends them (lower-case names), with the body's length."""
    headers = [
        (name.lower().encode("latin-1"), value.encode("utf-8"))
        for name, value in error.headers
    ]
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    return headers


def _close_code(error: TokenwardError) -> int:
    """The WebSocket close code refusing a handshake: 1011 (internal error) for a store
    failure, 1008 (policy violation) for a rejected token."""
    return 1011 if error.status >= 500 else 1008


async def _send_answer(scope: Scope, send: Send, error: TokenwardError) -> None:
    """Sends Coder's answer to ``error`` on an ``http`` or ``websocket`` connection."""
    body = error.body.encode("utf-8")
    if scope["type"] == "http":
        prefix = "http."
    elif "websocket.http.response" in (scope.get("extensions") or {}):
        prefix = "websocket.http."
    else:
        await send({"type": "websocket.close", "code": _close_code(error)})
        return
    headers = _raw_headers(error, body)
    await send(
        {"type": prefix + "response.start", "status": error.status, "headers": headers}
    )
    await send({"type": prefix + "response.body", "body": body})


def _route_path(scope: Scope) -> str:
    """The path as the app's routes see it: ``scope["path"]`` less the ``root_path``."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :]
    return path


class TokenwardMiddleware:
    """Authenticates every ``http`` and ``websocket`` request to ``app`` against
    ``authority``, as Coder's API-key middleware does (see the module's documentation).

    ``skip``: the paths let through without a token and without a key in the state, as a
    predicate on the path or a collection of prefixes (see ``tokenward.wsgi.Skip``); the path
    is the one the app's routes see (``scope["path"]`` less ``scope["root_path"]``). The
    authority is shared by every request; close it when the app stops.
    """

    def __init__(self, app: ASGIApp, authority: Authority, *, skip: Skip = ()) -> None:
        self.app = app
        self.authority = authority
        self._skipped = _skip_predicate(skip)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answers the request, or passes it on with ``scope["state"]["tokenward_key"]``."""
        kind = scope["type"]
        if kind == "lifespan" or (
            kind in ("http", "websocket") and self._skipped(_route_path(scope))
        ):
            await self.app(scope, receive, send)
            return
        if kind not in ("http", "websocket"):
            # A connection type this middleware does not know is refused, not let through.
            raise ValueError(f"tokenward: unsupported ASGI scope type {kind!r}")
        try:
            key = await _authenticate(self.authority, scope)
        except TokenwardError as error:
            await _send_answer(scope, send, error)
            return
        # In place, as Starlette's request.state does: middlewares around this one see it too.
        scope.setdefault("state", {})[STATE_KEY] = key
        await self.app(scope, receive, send)


if HAS_STARLETTE:
    __all__ += ["TokenwardHTTPException"]

    class TokenwardHTTPException(HTTPException):
        """A request did not authenticate: Starlette's ``HTTPException`` with Coder's status
        and challenge, and the binding's exception, whose answer ``handle_tokenward_error``
        sends, in ``error``."""

        def __init__(self, error: TokenwardError) -> None:
            headers = {n: v for n, v in error.headers if n.lower() != "content-type"}
            super().__init__(error.status, str(error), headers or None)
            self.error = error


async def authenticated(connection: HTTPConnection) -> ApiKey:
    """FastAPI dependency (``Depends(authenticated)``): the request's verified ``ApiKey``.

    The key the middleware verified, else the request's token authenticated with the authority
    in ``app.state.tokenward_authority`` (see ``install``); the key is then put in
    ``request.state.tokenward_key`` as the middleware does. Raises ``TokenwardHTTPException``
    when the request does not authenticate, ``RuntimeError`` when there is no authority.
    Works for HTTP and WebSocket routes.
    """
    state = connection.scope.setdefault("state", {})
    key: ApiKey | None = state.get(STATE_KEY)
    if key is not None:
        return key
    authority: Authority | None = getattr(connection.app.state, AUTHORITY_STATE, None)
    if authority is None:
        raise RuntimeError(
            "tokenward.asgi.authenticated: no TokenwardMiddleware verified this request and "
            "app.state.tokenward_authority is not set; call tokenward.asgi.install(app, authority)"
        )
    try:
        key = await _authenticate(authority, connection.scope)
    except TokenwardError as error:
        raise TokenwardHTTPException(error) from error
    state[STATE_KEY] = key
    return key


def _response(error: TokenwardError) -> Response:
    """Coder's answer to ``error`` as a Starlette response."""
    # Starlette sends header strings as latin-1: _wire_text makes them the UTF-8 bytes Coder sends.
    headers = {name: _wire_text(value) for name, value in error.headers}
    return Response(error.body.encode("utf-8"), error.status, headers)


async def handle_tokenward_error(
    connection: HTTPConnection, exc: Exception
) -> Response | None:
    """Starlette/FastAPI exception handler: Coder's answer, byte for byte, to a
    ``TokenwardHTTPException`` or any ``TokenwardError`` (``install`` registers it).

    On a WebSocket it sends the denial response when the server offers the extension, else it
    closes (1008, or 1011 for a store failure), and returns None.
    """
    error = exc.error if isinstance(exc, TokenwardHTTPException) else exc
    if not isinstance(error, TokenwardError):
        raise exc
    if not isinstance(connection, WebSocket):
        return _response(error)
    # Sent here rather than returned: older Starlette releases drop a websocket's response.
    # Only a handshake not yet accepted can be denied with an HTTP answer; after accept() the
    # connection is closed with the code.
    handshake = connection.application_state == WebSocketState.CONNECTING
    if handshake and "websocket.http.response" in (
        connection.scope.get("extensions") or {}
    ):
        await connection.send_denial_response(_response(error))
    else:
        await connection.close(_close_code(error))
    return None


def install(app: Starlette, authority: Authority) -> None:
    """Prepares a Starlette/FastAPI ``app`` for ``authenticated``: puts ``authority`` in
    ``app.state.tokenward_authority`` and registers ``handle_tokenward_error`` for
    ``TokenwardHTTPException`` and ``TokenwardError``. Call it before the app starts. It adds
    no middleware: add ``TokenwardMiddleware`` to authenticate every request."""
    if not HAS_STARLETTE:
        raise ImportError(
            "tokenward.asgi.install needs Starlette (pip install fastapi)"
        )
    setattr(app.state, AUTHORITY_STATE, authority)
    # Starlette types a handler as for HTTP or for WebSocket; this one serves both.
    handler = cast("ExceptionHandler", handle_tokenward_error)
    app.add_exception_handler(TokenwardHTTPException, handler)
    app.add_exception_handler(TokenwardError, handler)
