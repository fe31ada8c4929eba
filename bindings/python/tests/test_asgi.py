"""tokenward.asgi with the real frameworks: FastAPI and Starlette through their test clients
(httpx), and the middleware called with hand-built ASGI scopes.

Every failure is compared, byte for byte, with what the binding raises for the same token:
the status, Content-Type, WWW-Authenticate and the JSON body.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
import tokenward
from _middleware import ACCESS_URL, INTERNAL, METADATA, Token, raised
from fastapi import Depends, FastAPI, Request, WebSocket
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.datastructures import Headers as StarletteHeaders
from starlette.middleware import Middleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocket as StarletteWebSocket
from starlette.websockets import WebSocketDisconnect
from tokenward.asgi import (
    STATE_KEY,
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    TokenwardHTTPException,
    TokenwardMiddleware,
    authenticated,
    handle_tokenward_error,
    install,
)


@pytest.fixture
def authority() -> Iterator[tokenward.Authority]:
    settings = tokenward.Settings(access_url=ACCESS_URL)
    with tokenward.Authority.open(":memory:", settings) as opened:
        yield opened


@pytest.fixture
def jane(authority: tokenward.Authority) -> Token:
    return authority.create_token("jane", token_name="ci")


@pytest.fixture
def joe(authority: tokenward.Authority) -> Token:
    return authority.create_token("joe", token_name="ci")


def assert_answer(response: httpx.Response, error: tokenward.TokenwardError) -> None:
    """``response`` is Coder's answer to ``error``: status, headers and body, byte for byte."""
    assert response.status_code == error.status
    assert response.content == error.body.encode()
    assert response.headers["content-length"] == str(len(response.content))
    for name, value in error.headers:
        assert response.headers.get_list(name) == [value]
    names = {name.lower() for name, _ in error.headers}
    assert ("www-authenticate" in response.headers) == ("www-authenticate" in names)


def describe(key: tokenward.ApiKey) -> dict[str, str]:
    return {"id": key.id, "user_id": key.user_id, "token_name": key.token_name}


# Where a token goes, for each of Coder's sources: (query string, headers).
SOURCES: dict[str, Callable[[str], tuple[str, dict[str, str]]]] = {
    "cookie": lambda t: ("", {"Cookie": f"theme=dark; coder_session_token={t}"}),
    "query": lambda t: (f"coder_session_token={t}", {}),
    "header": lambda t: ("", {"Coder-Session-Token": t}),
    "bearer": lambda t: ("", {"Authorization": f"Bearer {t}"}),
    "access_token": lambda t: (f"access_token={t}", {}),
}


def presenting(*placed: tuple[str, str]) -> tuple[str, dict[str, str]]:
    """The query string and headers presenting each (source, token)."""
    queries: list[str] = []
    headers: dict[str, str] = {}
    for source, token in placed:
        query, more = SOURCES[source](token)
        queries += [query] if query else []
        headers.update(more)
    return "&".join(queries), headers


def get(client: TestClient, path: str, *placed: tuple[str, str]) -> httpx.Response:
    query, headers = presenting(*placed)
    response: httpx.Response = client.get(
        path + ("?" + query if query else ""), headers=headers
    )
    return response


def fastapi_middleware(authority: tokenward.Authority, **options: Any) -> FastAPI:
    app = FastAPI()
    app.add_middleware(TokenwardMiddleware, authority=authority, **options)

    @app.get("/whoami")
    def whoami(request: Request) -> dict[str, str]:
        return describe(request.state.tokenward_key)

    @app.get("/healthz")
    @app.get("/healthz/live")
    @app.get("/public/page")
    @app.get("/style.css")
    def public(request: Request) -> dict[str, bool]:
        return {"has_key": hasattr(request.state, STATE_KEY)}

    return app


def starlette_middleware(authority: tokenward.Authority, **options: Any) -> Starlette:
    async def whoami(request: StarletteRequest) -> JSONResponse:
        return JSONResponse(describe(request.state.tokenward_key))

    return Starlette(
        routes=[Route("/whoami", whoami)],
        middleware=[Middleware(TokenwardMiddleware, authority=authority, **options)],
    )


def fastapi_dependency(authority: tokenward.Authority) -> FastAPI:
    app = FastAPI()
    install(app, authority)

    @app.get("/whoami")
    def whoami(
        key: Annotated[tokenward.ApiKey, Depends(authenticated)],
    ) -> dict[str, str]:
        return describe(key)

    return app


APPS: dict[str, Callable[[tokenward.Authority], Any]] = {
    "fastapi+middleware": fastapi_middleware,
    "starlette+middleware": starlette_middleware,
    "fastapi+dependency": fastapi_dependency,
}


@pytest.fixture(params=sorted(APPS))
def client(
    request: pytest.FixtureRequest, authority: tokenward.Authority
) -> Iterator[TestClient]:
    with TestClient(APPS[request.param](authority)) as test_client:
        yield test_client


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_token_source_reaches_the_handler_as_its_key(
    client: TestClient, jane: Token, source: str
) -> None:
    token, key = jane
    response = get(client, "/whoami", (source, token))
    assert response.status_code == 200, response.text
    assert response.json() == {"id": key.id, "user_id": "jane", "token_name": "ci"}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("cookie", "query"),
        ("query", "header"),
        ("header", "bearer"),
        ("bearer", "access_token"),
        ("cookie", "access_token"),
    ],
)
def test_the_earlier_source_in_coders_order_wins(
    client: TestClient, jane: Token, joe: Token, first: str, second: str
) -> None:
    response = get(client, "/whoami", (second, joe[0]), (first, jane[0]))
    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == "jane"


def test_an_empty_bearer_ends_the_search_before_access_token(
    authority: tokenward.Authority, client: TestClient, jane: Token
) -> None:
    response = client.get(
        f"/whoami?access_token={jane[0]}", headers={"Authorization": "Bearer "}
    )
    assert_answer(response, raised(authority, ""))


def rejected_token(
    authority: tokenward.Authority, case: str, jane: Token
) -> str | None:
    """The token presented for ``case`` (None: no token at all)."""
    token, key = jane
    if case == "missing":
        return None
    if case == "malformed":
        return token + "x"
    if case == "unknown_key":
        return ("zzzzzzzzzz" if key.id != "zzzzzzzzzz" else "yyyyyyyyyy") + token[10:]
    if case == "invalid_secret":
        return token[:11] + "0" * 22
    assert case == "expired"
    authority.expire("jane", key.id)
    return token


REJECTIONS = {
    "missing": tokenward.Missing,
    "malformed": tokenward.Malformed,
    "unknown_key": tokenward.UnknownKey,
    "invalid_secret": tokenward.InvalidSecret,
    "expired": tokenward.Expired,
}


@pytest.mark.parametrize("case", sorted(REJECTIONS))
def test_a_rejection_is_coders_401_byte_for_byte(
    authority: tokenward.Authority, client: TestClient, jane: Token, case: str
) -> None:
    token = rejected_token(authority, case, jane)
    placed = [] if token is None else [("bearer", token)]
    response = get(client, "/whoami", *placed)
    error = raised(authority, token or "")
    assert type(error) is REJECTIONS[case]
    assert_answer(response, error)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].endswith(METADATA)
    assert jane[0][11:] not in response.text


def test_without_an_access_url_the_challenge_has_no_resource_metadata(
    jane: Token,
) -> None:
    with (
        tokenward.Authority.open(":memory:") as plain,
        TestClient(fastapi_middleware(plain)) as c,
    ):
        response = get(c, "/whoami", ("header", jane[0]))
        error = raised(plain, jane[0])
    assert type(error) is tokenward.UnknownKey
    assert_answer(response, error)
    assert "resource_metadata" not in response.headers["www-authenticate"]


def test_a_closed_authority_is_coders_500_and_the_handler_is_not_reached(
    authority: tokenward.Authority, client: TestClient, jane: Token
) -> None:
    authority.close()
    response = get(client, "/whoami", ("cookie", jane[0]))
    error = raised(authority, jane[0])
    assert isinstance(error, tokenward.StoreIo)
    assert_answer(response, error)
    assert response.status_code == 500
    assert response.text.startswith(INTERNAL)
    assert "www-authenticate" not in response.headers


def test_a_request_without_a_token_on_a_closed_authority_is_the_500_too(
    authority: tokenward.Authority, client: TestClient
) -> None:
    authority.close()
    response = client.get("/whoami")
    assert_answer(response, raised(authority, ""))
    assert response.status_code == 500


def test_the_refresh_is_written_through_the_middleware(
    authority: tokenward.Authority, client: TestClient, jane: Token
) -> None:
    token, key = jane
    assert get(client, "/whoami", ("header", token)).status_code == 200
    stored = authority.get_key("jane", key.id)
    assert stored.last_used > key.last_used  # the new key's was the epoch
    # The test client's address ("testclient") is no bare IP: stored as 0.0.0.0, as in Coder.
    assert stored.ip_address == "0.0.0.0"


def test_skipped_prefixes_pass_without_a_token_and_without_a_key(
    authority: tokenward.Authority,
) -> None:
    app = fastapi_middleware(authority, skip={"/healthz", "/public/"})
    with TestClient(app) as c:
        for path in ("/healthz", "/healthz/live", "/public/page"):
            response = c.get(path)
            assert (response.status_code, response.json()) == (
                200,
                {"has_key": False},
            ), path
        # Not below a prefix: authenticated.
        assert_answer(c.get("/healthzz"), raised(authority, ""))
        assert_answer(c.get("/style.css"), raised(authority, ""))


def test_a_single_skip_string_is_one_prefix_not_its_letters(
    authority: tokenward.Authority,
) -> None:
    with TestClient(fastapi_middleware(authority, skip="/healthz")) as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/style.css").status_code == 401


def test_a_skip_predicate_decides_on_the_path(authority: tokenward.Authority) -> None:
    app = fastapi_middleware(authority, skip=lambda path: path.endswith(".css"))
    with TestClient(app) as c:
        assert c.get("/style.css").json() == {"has_key": False}
        assert c.get("/healthz").status_code == 401


def test_lifespan_passes_through_the_middleware(authority: tokenward.Authority) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = Starlette(
        lifespan=lifespan,
        middleware=[Middleware(TokenwardMiddleware, authority=authority)],
    )
    with TestClient(app):
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


# WebSockets.


def websocket_app(authority: tokenward.Authority) -> Starlette:
    async def whoami(websocket: StarletteWebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(describe(websocket.state.tokenward_key))
        await websocket.close()

    return Starlette(
        routes=[WebSocketRoute("/ws", whoami)],
        middleware=[Middleware(TokenwardMiddleware, authority=authority)],
    )


def refused(
    client: TestClient, path: str, headers: dict[str, str] | None = None
) -> WebSocketDenialResponse:
    """The HTTP answer refusing a WebSocket handshake (the denial response extension)."""
    session = client.websocket_connect(path, headers=headers or {})
    with pytest.raises(WebSocketDenialResponse) as denial:
        session.__enter__()
    return denial.value


def test_a_websocket_handshake_with_a_token_reaches_the_app_with_its_key(
    authority: tokenward.Authority, jane: Token
) -> None:
    with TestClient(websocket_app(authority)) as c:
        with_token = c.websocket_connect(
            "/ws", headers={"Coder-Session-Token": jane[0]}
        )
        with with_token as session:
            assert session.receive_json() == describe(jane[1])


def test_a_refused_websocket_handshake_gets_coders_answer_as_a_denial_response(
    authority: tokenward.Authority, jane: Token
) -> None:
    bad = jane[0][:11] + "0" * 22
    with TestClient(websocket_app(authority)) as c:
        denial = refused(c, f"/ws?coder_session_token={bad}")
    error = raised(authority, bad)
    assert type(error) is tokenward.InvalidSecret
    assert_answer(denial, error)


def test_a_websocket_handshake_on_a_closed_authority_is_denied_with_coders_500(
    authority: tokenward.Authority, jane: Token
) -> None:
    authority.close()
    with TestClient(websocket_app(authority)) as c:
        denial = refused(c, "/ws", {"Authorization": f"Bearer {jane[0]}"})
    assert_answer(denial, raised(authority, jane[0]))
    assert denial.status_code == 500


# The FastAPI dependency.


def test_the_dependency_returns_the_middlewares_key_without_an_installed_authority(
    authority: tokenward.Authority, jane: Token
) -> None:
    app = FastAPI()
    app.add_middleware(TokenwardMiddleware, authority=authority)
    seen: list[bool] = []

    @app.get("/whoami")
    def whoami(
        request: Request, key: Annotated[tokenward.ApiKey, Depends(authenticated)]
    ) -> dict[str, str]:
        seen.append(key is request.state.tokenward_key)
        return describe(key)

    with TestClient(app) as c:
        assert get(c, "/whoami", ("header", jane[0])).json()["user_id"] == "jane"
    assert seen == [True]


def test_the_dependency_authenticates_a_path_the_middleware_skipped(
    authority: tokenward.Authority, jane: Token
) -> None:
    app = FastAPI()
    app.add_middleware(TokenwardMiddleware, authority=authority, skip={"/open"})
    install(app, authority)

    @app.get("/open/whoami")
    def whoami(
        request: Request, key: Annotated[tokenward.ApiKey, Depends(authenticated)]
    ) -> dict[str, str]:
        assert request.state.tokenward_key is key
        return describe(key)

    with TestClient(app) as c:
        assert get(c, "/open/whoami", ("query", jane[0])).json()["id"] == jane[1].id
        bad = jane[0][:11] + "1" * 22
        assert_answer(get(c, "/open/whoami", ("query", bad)), raised(authority, bad))


def test_the_dependency_without_middleware_or_authority_is_a_clear_error() -> None:
    app = FastAPI()

    @app.get("/whoami")
    def whoami(key: Annotated[tokenward.ApiKey, Depends(authenticated)]) -> str:
        return key.id

    with TestClient(app) as c, pytest.raises(RuntimeError, match="install"):
        c.get("/whoami")


def test_without_install_the_dependency_still_answers_coders_status_and_challenge(
    authority: tokenward.Authority, jane: Token
) -> None:
    app = FastAPI()
    app.state.tokenward_authority = authority

    @app.get("/whoami")
    def whoami(key: Annotated[tokenward.ApiKey, Depends(authenticated)]) -> str:
        return key.id

    bad = jane[0][:11] + "0" * 22
    with TestClient(app) as c:
        response = get(c, "/whoami", ("header", bad))
    error = raised(authority, bad)
    assert response.status_code == 401
    assert response.headers.get_list("www-authenticate") == [error.www_authenticate]
    assert response.json() == {
        "detail": "API key secret is invalid."
    }  # FastAPI's own body


def test_install_answers_a_tokenward_error_a_route_lets_escape(
    authority: tokenward.Authority,
) -> None:
    app = FastAPI()
    install(app, authority)

    @app.get("/keys/{key_id}")
    def get_key(key_id: str) -> str:
        return authority.get_key("jane", key_id).id

    with TestClient(app) as c:
        response = c.get("/keys/abcdefghij")
    with pytest.raises(tokenward.NotFound) as info:
        authority.get_key("jane", "abcdefghij")
    assert_answer(response, info.value)
    assert response.status_code == 404


def test_the_dependency_on_a_websocket_route_denies_with_coders_answer(
    authority: tokenward.Authority, jane: Token
) -> None:
    app = FastAPI()
    install(app, authority)

    @app.websocket("/ws")
    async def ws(
        websocket: WebSocket, key: Annotated[tokenward.ApiKey, Depends(authenticated)]
    ) -> None:
        await websocket.accept()
        await websocket.send_json(describe(key))
        await websocket.close()

    with TestClient(app) as c:
        with c.websocket_connect(
            "/ws", headers={"Coder-Session-Token": jane[0]}
        ) as session:
            assert session.receive_json()["user_id"] == "jane"
        denial = refused(c, "/ws")
    assert_answer(denial, raised(authority, ""))


def test_an_error_after_a_websocket_is_accepted_closes_it_with_1008(
    authority: tokenward.Authority, jane: Token
) -> None:
    app = FastAPI()
    install(app, authority)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        authority.get_key("jane", "abcdefghij")  # NotFound, after the handshake

    code = None
    with TestClient(app) as c, c.websocket_connect("/ws") as session:
        try:
            session.receive_text()
        except WebSocketDisconnect as closed:
            code = closed.code
    assert code == 1008


# The middleware called directly, with hand-built scopes.


class Recorder:
    """An ASGI app that records the scope it was called with and answers 204."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})


def call(app: ASGIApp, scope: Scope) -> list[Message]:
    """Runs ``app`` on ``scope`` and returns the messages it sent."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await app(scope, receive, send)

    asyncio.run(main())
    return sent


def http_scope(headers: list[Any], query: bytes = b"", **more: Any) -> dict[str, Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/whoami",
        "raw_path": b"/whoami",
        "root_path": "",
        "query_string": query,
        "headers": headers,
        "client": ("203.0.113.7", 50123),
        "server": ("127.0.0.1", 8000),
    }
    scope.update(more)
    return scope


def test_raw_asgi_reads_the_token_beside_bytes_that_are_not_utf8(
    authority: tokenward.Authority, jane: Token
) -> None:
    token, key = jane
    inner = Recorder()
    headers = [
        (b"x-junk", b"\xff\xfe"),
        (b"cookie", b"theme=\xff\xfe; coder_session_token=" + token.encode()),
    ]
    sent = call(TokenwardMiddleware(inner, authority), http_scope(headers, b"q=\xff"))
    assert sent[0]["status"] == 204
    assert inner.scopes[0]["state"][STATE_KEY].id == key.id
    # The connection's bare IP is recorded with the refresh.
    assert authority.get_key("jane", key.id).ip_address == "203.0.113.7"


def test_raw_asgi_a_stray_byte_keeps_the_token_length(
    authority: tokenward.Authority, jane: Token
) -> None:
    token, _ = jane
    presented = token[:-1].encode() + b"\xff"  # a 22-byte secret that does not match
    headers = [(b"coder-session-token", presented)]
    inner = Recorder()
    sent = call(TokenwardMiddleware(inner, authority), http_scope(headers))
    found = tokenward.extract_token(headers)
    assert found is not None
    error = raised(authority, found.token)
    assert type(error) is tokenward.InvalidSecret
    body, challenge = error.body.encode(), str(error.www_authenticate)
    assert sent == [
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"www-authenticate", challenge.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        },
        {"type": "http.response.body", "body": body},
    ]
    assert inner.scopes == []


def test_raw_asgi_accepts_header_pairs_given_as_lists(
    authority: tokenward.Authority, jane: Token
) -> None:
    inner = Recorder()
    headers = [[b"authorization", b"Bearer " + jane[0].encode()]]
    call(TokenwardMiddleware(inner, authority), http_scope(headers))
    assert inner.scopes[0]["state"][STATE_KEY].user_id == "jane"


def test_extract_token_takes_asgi_header_pairs_given_as_lists(jane: Token) -> None:
    pairs = [[b"coder-session-token", jane[0].encode()]]
    found = tokenward.extract_token(pairs)  # type: ignore[arg-type]
    assert found is not None and found.source == "header"


def test_raw_asgi_puts_the_key_in_the_state_dict_it_was_given(
    authority: tokenward.Authority, jane: Token
) -> None:
    state: dict[str, Any] = {"request_id": "r-1"}
    inner = Recorder()
    headers = [(b"coder-session-token", jane[0].encode())]
    call(TokenwardMiddleware(inner, authority), http_scope(headers, state=state))
    assert inner.scopes[0]["state"] is state
    assert state["request_id"] == "r-1" and state[STATE_KEY].id == jane[1].id


def test_raw_asgi_without_a_client_address_records_0_0_0_0(
    authority: tokenward.Authority, jane: Token
) -> None:
    headers = [(b"coder-session-token", jane[0].encode())]
    call(TokenwardMiddleware(Recorder(), authority), http_scope(headers, client=None))
    stored = authority.get_key("jane", jane[1].id)
    assert stored.ip_address == "0.0.0.0" and stored.last_used > jane[1].last_used


def test_raw_asgi_skips_by_the_path_below_the_root_path(
    authority: tokenward.Authority,
) -> None:
    inner = Recorder()
    app = TokenwardMiddleware(inner, authority, skip={"/healthz"})
    scope = http_scope([], path="/api/healthz", root_path="/api")
    assert call(app, scope)[0]["status"] == 204
    assert STATE_KEY not in inner.scopes[0].get("state", {})
    assert (
        call(app, http_scope([], path="/api/whoami", root_path="/api"))[0]["status"]
        == 401
    )


class RecordingAuthority:
    """An authority that records the thread each ``authenticate`` runs in, and says its
    store may block as ``may_block`` tells it."""

    def __init__(self, inner: tokenward.Authority, may_block: bool) -> None:
        self.inner = inner
        self.may_block = may_block
        self.threads: list[int] = []

    def authenticate(self, token: str, remote_addr: str = "") -> tokenward.Verified:
        self.threads.append(threading.get_ident())
        return self.inner.authenticate(token, remote_addr)


def test_raw_asgi_authenticates_off_the_event_loop_thread_when_the_store_may_block(
    authority: tokenward.Authority, jane: Token
) -> None:
    recording = RecordingAuthority(authority, may_block=True)
    app = TokenwardMiddleware(Recorder(), recording)  # type: ignore[arg-type]
    call(app, http_scope([(b"coder-session-token", jane[0].encode())]))
    call(app, http_scope([]))
    assert len(recording.threads) == 2
    assert (
        threading.get_ident() not in recording.threads
    )  # asyncio.run's loop runs here


def test_raw_asgi_authenticates_on_the_loop_when_the_store_is_in_memory(
    authority: tokenward.Authority, jane: Token
) -> None:
    assert not authority.may_block
    recording = RecordingAuthority(authority, may_block=authority.may_block)
    app = TokenwardMiddleware(Recorder(), recording)  # type: ignore[arg-type]
    call(app, http_scope([(b"coder-session-token", jane[0].encode())]))
    assert recording.threads == [threading.get_ident()]


def test_a_sqlite_authority_may_block_and_a_memory_one_does_not(
    tmp_path: Path,
) -> None:
    with tokenward.Authority.open(str(tmp_path / "keys.db")) as sqlite:
        assert sqlite.may_block
    assert not tokenward.Authority.open(":memory:").may_block


def test_raw_asgi_never_skips_a_path_with_dot_segments(
    authority: tokenward.Authority,
) -> None:
    inner = Recorder()
    app = TokenwardMiddleware(inner, authority, skip={"/healthz"})
    for path in ("/healthz/../admin", "/healthz/./x", "/healthz/.."):
        sent = call(app, http_scope([], path=path))
        assert sent[0]["status"] == 401, path
    assert inner.scopes == []
    assert call(app, http_scope([], path="/healthz/live"))[0]["status"] == 204


def test_raw_asgi_refuses_a_scope_type_it_does_not_know(
    authority: tokenward.Authority,
) -> None:
    inner = Recorder()
    with pytest.raises(ValueError, match="unsupported ASGI scope type 'webtransport'"):
        call(TokenwardMiddleware(inner, authority), {"type": "webtransport"})
    assert inner.scopes == []


def test_starlette_headers_give_the_answer_their_raw_bytes_give(
    authority: tokenward.Authority,
) -> None:
    # A 22-byte secret of 11 two-byte characters: as bytes Coder splits it fine, and no key
    # has its id; decoded as latin-1 and re-encoded it would be 44 bytes, malformed.
    token = ("abcdefghij-" + "é" * 11).encode()
    raw = [(b"coder-session-token", token)]
    found = tokenward.extract_token(StarletteHeaders(raw=raw))
    assert found is not None and found.token.encode() == token
    with pytest.raises(tokenward.UnknownKey):
        authority.authenticate(found.token)


def test_raw_asgi_lifespan_reaches_the_app_unauthenticated(
    authority: tokenward.Authority,
) -> None:
    recording = RecordingAuthority(authority, may_block=True)
    inner = Recorder()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    assert call(TokenwardMiddleware(inner, recording), scope) == []  # type: ignore[arg-type]
    assert inner.scopes == [scope] and recording.threads == []


def websocket_scope(headers: list[Any], **more: Any) -> dict[str, Any]:
    scope = http_scope(headers, **more)
    scope.update(type="websocket", scheme="ws", subprotocols=[])
    del scope["method"]
    return scope


@pytest.mark.parametrize(
    ("close", "code"), [(False, 1008), (True, 1011)], ids=["rejected", "store failure"]
)
def test_raw_asgi_websocket_without_the_denial_extension_is_closed(
    authority: tokenward.Authority, jane: Token, close: bool, code: int
) -> None:
    if close:
        authority.close()
    inner = Recorder()
    headers = [(b"coder-session-token", jane[0][:11].encode() + b"0" * 22)]
    sent = call(TokenwardMiddleware(inner, authority), websocket_scope(headers))
    assert sent == [{"type": "websocket.close", "code": code}]
    assert inner.scopes == []


def test_raw_asgi_websocket_with_the_denial_extension_gets_coders_answer(
    authority: tokenward.Authority,
) -> None:
    scope = websocket_scope([], extensions={"websocket.http.response": {}})
    sent = call(TokenwardMiddleware(Recorder(), authority), scope)
    error = raised(authority, "")
    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 401 and sent[1]["body"] == error.body.encode()
    assert error.www_authenticate is not None
    assert (
        dict(sent[0]["headers"])[b"www-authenticate"] == error.www_authenticate.encode()
    )


@pytest.mark.parametrize(
    ("close", "code"), [(False, 1008), (True, 1011)], ids=["rejected", "store failure"]
)
def test_the_handler_closes_a_websocket_when_the_server_cannot_deny(
    authority: tokenward.Authority, close: bool, code: int
) -> None:
    if close:
        authority.close()
    error = raised(authority, "")
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        websocket = StarletteWebSocket(websocket_scope([]), receive, send)
        assert (
            await handle_tokenward_error(websocket, TokenwardHTTPException(error))
            is None
        )

    asyncio.run(main())
    assert sent == [{"type": "websocket.close", "code": code, "reason": ""}]


# Imports.


def run_python(code: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_tokenward_imports_no_web_framework() -> None:
    run_python(
        """
        import sys
        import tokenward, tokenward.wsgi
        loaded = {"fastapi", "starlette", "anyio", "flask"} & set(sys.modules)
        assert not loaded, loaded
        """
    )


def test_the_middleware_runs_on_asyncio_alone_without_starlette_or_anyio() -> None:
    run_python(
        """
        import asyncio, sys, threading
        for name in ("fastapi", "starlette", "anyio"):
            sys.modules[name] = None  # import fails
        import tokenward
        from tokenward.asgi import *
        from tokenward.asgi import HAS_STARLETTE, TokenwardMiddleware, install
        assert not HAS_STARLETTE
        try:
            install(None, None)
        except ImportError as error:
            assert "Starlette" in str(error)
        else:
            raise AssertionError("install without Starlette")

        threads = []

        class Recording:
            may_block = True

            def __init__(self, inner):
                self.inner = inner

            def authenticate(self, token, remote_addr=""):
                threads.append(threading.get_ident())
                return self.inner.authenticate(token, remote_addr)

        authority = tokenward.Authority.open(":memory:")
        token, key = authority.create_token("jane")
        seen = []

        async def inner(scope, receive, send):
            seen.append(scope["state"]["tokenward_key"].id)

        async def send(message):
            seen.append(message)

        app = TokenwardMiddleware(inner, Recording(authority))
        scope = {"type": "http", "path": "/", "query_string": b"", "client": None,
                 "headers": [(b"coder-session-token", token.encode())]}
        asyncio.run(app(scope, None, send))
        asyncio.run(app(dict(scope, headers=[]), None, send))
        assert seen[0] == key.id, seen
        assert seen[1]["status"] == 401, seen
        assert len(threads) == 2 and threading.get_ident() not in threads
        """
    )
