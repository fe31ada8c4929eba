"""tokenward.wsgi with Flask's test client, and the middleware called with hand-built
environs.

Every failure is compared, byte for byte, with what the binding raises for the same token:
the status, Content-Type, WWW-Authenticate and the JSON body.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import threading
import wsgiref.simple_server
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import flask
import pytest
import tokenward
from _middleware import ACCESS_URL, INTERNAL, METADATA, Token, raised
from tokenward.wsgi import ENVIRON_KEY, TokenwardMiddleware
from werkzeug.test import TestResponse


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


def assert_answer(response: TestResponse, error: tokenward.TokenwardError) -> None:
    """``response`` is Coder's answer to ``error``: status, headers and body, byte for byte."""
    assert response.status_code == error.status
    assert response.get_data() == error.body.encode()
    assert response.headers["Content-Length"] == str(len(response.get_data()))
    for name, value in error.headers:
        assert response.headers.getlist(name) == [value]
    names = {name.lower() for name, _ in error.headers}
    assert ("WWW-Authenticate" in response.headers) == ("www-authenticate" in names)


def flask_app(authority: tokenward.Authority, **options: Any) -> flask.Flask:
    app = flask.Flask(__name__)
    app.wsgi_app = TokenwardMiddleware(app.wsgi_app, authority, **options)  # type: ignore[method-assign]

    @app.get("/whoami")
    def whoami() -> dict[str, str]:
        key: tokenward.ApiKey = flask.request.environ[ENVIRON_KEY]
        return {"id": key.id, "user_id": key.user_id, "token_name": key.token_name}

    @app.get("/healthz")
    @app.get("/healthz/live")
    @app.get("/style.css")
    def public() -> dict[str, bool]:
        return {"has_key": ENVIRON_KEY in flask.request.environ}

    return app


@pytest.fixture
def client(authority: tokenward.Authority) -> flask.testing.FlaskClient:
    # Without its cookie jar, the test client sends the Cookie header it is given.
    return flask_app(authority).test_client(use_cookies=False)


# Where a token goes, for each of Coder's sources: (query string, headers).
SOURCES: dict[str, Callable[[str], tuple[str, dict[str, str]]]] = {
    "cookie": lambda t: ("", {"Cookie": f"theme=dark; coder_session_token={t}"}),
    "query": lambda t: (f"coder_session_token={t}", {}),
    "header": lambda t: ("", {"Coder-Session-Token": t}),
    "bearer": lambda t: ("", {"Authorization": f"Bearer {t}"}),
    "access_token": lambda t: (f"access_token={t}", {}),
}


def get(
    client: flask.testing.FlaskClient, path: str, *placed: tuple[str, str]
) -> TestResponse:
    queries: list[str] = []
    headers: dict[str, str] = {}
    for source, token in placed:
        query, more = SOURCES[source](token)
        queries += [query] if query else []
        headers.update(more)
    return client.get(path, query_string="&".join(queries), headers=headers)


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_token_source_reaches_the_app_as_its_key(
    client: flask.testing.FlaskClient, jane: Token, source: str
) -> None:
    token, key = jane
    response = get(client, "/whoami", (source, token))
    assert response.status_code == 200, response.text
    assert response.json == {"id": key.id, "user_id": "jane", "token_name": "ci"}


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
    client: flask.testing.FlaskClient, jane: Token, joe: Token, first: str, second: str
) -> None:
    response = get(client, "/whoami", (second, joe[0]), (first, jane[0]))
    assert response.status_code == 200, response.text
    assert response.json is not None and response.json["user_id"] == "jane"


def test_an_empty_bearer_ends_the_search_before_access_token(
    authority: tokenward.Authority, client: flask.testing.FlaskClient, jane: Token
) -> None:
    response = client.get(
        "/whoami",
        query_string=f"access_token={jane[0]}",
        headers={"Authorization": "Bearer "},
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
    authority: tokenward.Authority,
    client: flask.testing.FlaskClient,
    jane: Token,
    case: str,
) -> None:
    token = rejected_token(authority, case, jane)
    placed = [] if token is None else [("cookie", token)]
    response = get(client, "/whoami", *placed)
    error = raised(authority, token or "")
    assert type(error) is REJECTIONS[case]
    assert_answer(response, error)
    assert response.status == "401 Unauthorized"  # the status line as Go writes it
    assert response.headers["WWW-Authenticate"].endswith(METADATA)
    assert jane[0][11:] not in response.text


def test_without_an_access_url_the_challenge_has_no_resource_metadata(
    jane: Token,
) -> None:
    with tokenward.Authority.open(":memory:") as plain:
        response = get(
            flask_app(plain).test_client(use_cookies=False),
            "/whoami",
            ("header", jane[0]),
        )
        error = raised(plain, jane[0])
    assert type(error) is tokenward.UnknownKey
    assert_answer(response, error)
    assert "resource_metadata" not in response.headers["WWW-Authenticate"]


def test_a_closed_authority_is_coders_500_and_the_app_is_not_reached(
    authority: tokenward.Authority, client: flask.testing.FlaskClient, jane: Token
) -> None:
    authority.close()
    response = get(client, "/whoami", ("bearer", jane[0]))
    error = raised(authority, jane[0])
    assert isinstance(error, tokenward.StoreIo)
    assert_answer(response, error)
    assert response.status_code == 500
    assert response.text.startswith(INTERNAL)
    assert "WWW-Authenticate" not in response.headers


def test_the_refresh_is_written_with_the_remote_address(
    authority: tokenward.Authority, jane: Token
) -> None:
    token, key = jane
    client = flask_app(authority).test_client(use_cookies=False)
    response = client.get(
        "/whoami",
        headers={"Coder-Session-Token": token},
        environ_base={"REMOTE_ADDR": "2001:db8::7"},
    )
    assert response.status_code == 200
    stored = authority.get_key("jane", key.id)
    assert stored.last_used > key.last_used  # the new key's was the epoch
    assert stored.ip_address == "2001:db8::7"


def test_skipped_prefixes_pass_without_a_token_and_without_a_key(
    authority: tokenward.Authority,
) -> None:
    client = flask_app(authority, skip={"/healthz"}).test_client(use_cookies=False)
    for path in ("/healthz", "/healthz/live"):
        response = client.get(path)
        assert (response.status_code, response.json) == (200, {"has_key": False}), path
    assert_answer(client.get("/style.css"), raised(authority, ""))
    assert_answer(client.get("/healthzz"), raised(authority, ""))


def test_a_path_with_dot_segments_is_never_skipped(
    authority: tokenward.Authority,
) -> None:
    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["PATH_INFO"])
        start_response("204 No Content", [])
        return []

    middleware = TokenwardMiddleware(app, authority, skip={"/healthz"})
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        statuses.append(status)

    for path in ("/healthz/../admin", "/healthz/./x", "/healthz/live"):
        list(middleware(environ(PATH_INFO=path), start_response))  # type: ignore[arg-type]
    assert statuses == ["401 Unauthorized", "401 Unauthorized", "204 No Content"]
    assert seen == ["/healthz/live"]


def test_a_skip_predicate_decides_on_the_path(authority: tokenward.Authority) -> None:
    client = flask_app(authority, skip=lambda path: path.endswith(".css")).test_client(
        use_cookies=False
    )
    assert client.get("/style.css").json == {"has_key": False}
    assert client.get("/healthz").status_code == 401


def test_flask_reads_the_token_beside_bytes_that_are_not_utf8(
    client: flask.testing.FlaskClient, jane: Token
) -> None:
    # WSGI hands header bytes over decoded as latin-1: "\xff" here is the byte 0xff.
    headers = {
        "X-Junk": "\xff\xfe",
        "Cookie": f"theme=\xff\xfe; coder_session_token={jane[0]}",
    }
    response = client.get("/whoami", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json is not None and response.json["id"] == jane[1].id


# The middleware called directly, with hand-built environs.


class Recorder:
    """A WSGI app that records the environ it was called with and answers 204."""

    def __init__(self) -> None:
        self.environs: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.environs.append(environ)
        start_response("204 No Content", [])
        return []


def call(
    app: TokenwardMiddleware, environ: dict[str, Any]
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Runs ``app`` on ``environ``: the status line, the headers and the body it answered."""
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        started.append((status, headers))
        return lambda data: None

    body = b"".join(app(environ, start_response))
    return started[0][0], started[0][1], body


def environ(**more: str) -> dict[str, Any]:
    """A GET /whoami environ, as PEP 3333 servers build it; ``more`` adds keys."""
    base: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/whoami",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    base.update(more)
    return base


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("HTTP_COOKIE", "coder_session_token={}"),
        ("QUERY_STRING", "coder_session_token={}"),
        ("HTTP_CODER_SESSION_TOKEN", "{}"),
        ("HTTP_AUTHORIZATION", "Bearer {}"),
        ("QUERY_STRING", "access_token={}"),
    ],
)
def test_cgi_environ_keys_are_read_as_their_headers(
    authority: tokenward.Authority, jane: Token, key: str, value: str
) -> None:
    inner = Recorder()
    status, _, _ = call(
        TokenwardMiddleware(inner, authority), environ(**{key: value.format(jane[0])})
    )
    assert status == "204 No Content"
    assert inner.environs[0][ENVIRON_KEY].id == jane[1].id
    assert authority.get_key("jane", jane[1].id).ip_address == "203.0.113.9"


def test_the_answer_is_a_pep3333_status_line_headers_and_body(
    authority: tokenward.Authority,
) -> None:
    inner = Recorder()
    status, headers, body = call(TokenwardMiddleware(inner, authority), environ())
    error = raised(authority, "")
    assert type(error) is tokenward.Missing
    assert status == "401 Unauthorized"
    assert headers == [
        *error.headers,
        ("Content-Length", str(len(error.body.encode()))),
    ]
    assert body == error.body.encode()
    assert inner.environs == []


def test_a_stray_byte_keeps_the_token_length(
    authority: tokenward.Authority, jane: Token
) -> None:
    token, _ = jane
    presented = token[:-1].encode() + b"\xff"  # a 22-byte secret that does not match
    found = tokenward.extract_token([("Coder-Session-Token", presented)])
    assert found is not None
    error = raised(authority, found.token)
    assert type(error) is tokenward.InvalidSecret
    for key, value in [
        ("HTTP_CODER_SESSION_TOKEN", presented.decode("latin-1")),
        ("QUERY_STRING", "coder_session_token=" + presented.decode("latin-1")),
    ]:
        status, _, body = call(
            TokenwardMiddleware(Recorder(), authority), environ(**{key: value})
        )
        assert (status, body) == ("401 Unauthorized", error.body.encode()), key


def test_a_closed_authority_answers_a_500_status_line(
    authority: tokenward.Authority, jane: Token
) -> None:
    authority.close()
    app = TokenwardMiddleware(Recorder(), authority)
    status, headers, body = call(app, environ(HTTP_CODER_SESSION_TOKEN=jane[0]))
    error = raised(authority, jane[0])
    assert status == "500 Internal Server Error"
    assert headers == [*error.headers, ("Content-Length", str(len(body)))]
    assert body == error.body.encode()


class QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    """wsgiref's request handler, without the access log on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def whoami_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A bare WSGI app answering the verified key's user."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ[ENVIRON_KEY].user_id.encode()]


@contextlib.contextmanager
def serve(app: TokenwardMiddleware) -> Iterator[int]:
    """Serves ``app`` with wsgiref on 127.0.0.1 for the ``with`` block: gives the port."""
    server = wsgiref.simple_server.make_server(
        "127.0.0.1", 0, app, handler_class=QuietHandler
    )
    serving = threading.Thread(target=server.serve_forever)
    serving.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        serving.join()
        server.server_close()


def fetch(port: int, headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes]:
    """GET /whoami over a real connection: the response and its body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/whoami", headers=headers)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def test_over_a_real_wsgiref_server(
    authority: tokenward.Authority, jane: Token
) -> None:
    token, key = jane
    bad = token[:11] + "0" * 22
    with serve(TokenwardMiddleware(whoami_app, authority)) as port:
        # http.client sends header text as latin-1: "\xff" goes out as the byte 0xff.
        ok, ok_body = fetch(
            port, {"Cookie": f"theme=\xff; coder_session_token={token}"}
        )
        refused, body = fetch(port, {"Authorization": f"Bearer {bad}"})
    assert (ok.status, ok_body) == (200, b"jane")
    stored = authority.get_key("jane", key.id)
    assert stored.ip_address == "127.0.0.1" and stored.last_used > key.last_used
    error = raised(authority, bad)
    assert (refused.status, refused.reason) == (401, "Unauthorized")
    for name, value in error.headers:
        assert refused.headers.get_all(name) == [value]
    assert refused.headers["Content-Length"] == str(len(body))
    assert body == error.body.encode()
