"""tokenward's Python benchmark: each figure beside its baseline, measured in the same run.

Run from the repository root with the package installed (``pip install ./bindings/python``;
``scripts/test.sh`` builds it with ``--release``)::

    python bindings/python/bench.py

Figures are medians of interleaved batches (one batch of each contender per round), so a
machine that slows down during the run moves every figure alike and the ratios stay put.
Nothing here asserts a time; the ratios are printed against their goals.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import os
import statistics
import sys
import tempfile
import timeit
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Dict, List, MutableMapping, Optional, Tuple

import tokenward

# Module level: FastAPI resolves the route's annotations in this module's globals.
try:
    from fastapi import Depends, FastAPI
    from tokenward.asgi import authenticated, install

    FASTAPI_MISSING = ""
except ImportError as missing:
    FASTAPI_MISSING = str(missing)

ROUNDS = 15
BATCH_SECONDS = 0.02


def measure(contenders: Dict[str, str], names: Dict[str, Any]) -> Dict[str, float]:
    """Median nanoseconds per run of each contender, a statement over `names` compiled into
    timeit's loop (no call of a wrapper per run), batch by batch in turn."""
    timers = {
        name: timeit.Timer(stmt, globals=names) for name, stmt in contenders.items()
    }
    first = next(iter(timers.values()))
    batch = 1
    while first.timeit(batch) < BATCH_SECONDS:
        batch *= 2
    samples: Dict[str, List[float]] = {name: [] for name in timers}
    for _ in range(ROUNDS):
        for name, timer in timers.items():
            samples[name].append(timer.timeit(batch) / batch * 1e9)
    return {name: statistics.median(values) for name, values in samples.items()}


def session_record(now: datetime) -> Tuple[str, tokenward.ApiKey, bytes]:
    """A session token and its record, used a moment ago: verifying it writes nothing."""
    token = tokenward.generate()
    key_id, secret = token.split("-")
    stored = hashlib.sha256(secret.encode()).digest()
    key = tokenward.ApiKey(
        id=key_id,
        hashed_secret=stored,
        user_id="bench-user",
        login_type="password",
        created_at=now,
        expires_at=now + timedelta(hours=24),
        last_used=now,
        lifetime_seconds=86400,
    )
    return token, key, stored


class Row:
    """A key row as a host's own table would hold it, for the pure-Python check."""

    def __init__(self, key: tokenward.ApiKey) -> None:
        self.id = key.id
        self.hashed_secret = key.hashed_secret
        self.expires_at = key.expires_at
        self.last_used = key.last_used
        self.lifetime_seconds = key.lifetime_seconds
        self.login_type = str(key.login_type.value)


def python_check(token: str, row: Row, session: timedelta) -> Optional[Dict[str, Any]]:
    """A straightforward pure-Python check, as a host would write it with the standard
    library: split, hash, compare, expiry, refresh decision (the baseline to beat)."""
    parts = token.split("-")
    if len(parts) != 2 or len(parts[0]) != 10 or len(parts[1]) != 22:
        raise PermissionError("Invalid API key format")
    if parts[0] != row.id:
        raise PermissionError("API key is invalid.")
    digest = hashlib.sha256(parts[1].encode()).digest()
    if not hmac.compare_digest(digest, row.hashed_secret):
        raise PermissionError("API key secret is invalid.")
    now = datetime.now(timezone.utc)
    if row.expires_at < now:
        raise PermissionError("API key expired")
    update: Dict[str, Any] = {}
    if now - row.last_used > timedelta(hours=1):
        update["last_used"] = now
    lifetime = timedelta(seconds=row.lifetime_seconds)
    if row.login_type != "token" and row.expires_at - now <= lifetime - timedelta(
        hours=1
    ):
        update["expires_at"] = now + lifetime
    return update or None


def bench_check() -> List[str]:
    now = datetime.now(timezone.utc)
    token, key, stored = session_record(now)
    secret = token.split("-")[1].encode()
    row = Row(key)
    session = timedelta(hours=24)
    assert tokenward.verify_record(token, key).update is None
    assert python_check(token, row, session) is None
    figures = measure(
        {
            "hashlib": "compare_digest(sha256(secret).digest(), stored)",
            "python": "python_check(token, row, session)",
            "tokenward": "verify_record(token, key)",
        },
        {
            "compare_digest": hmac.compare_digest,
            "sha256": hashlib.sha256,
            "python_check": python_check,
            "verify_record": tokenward.verify_record,
            **locals(),
        },
    )
    lines = [
        "| operation | ns/op |",
        "|---|---:|",
        f"| `hmac.compare_digest(hashlib.sha256(secret).digest(), stored)` | {figures['hashlib']:.0f} |",
        f"| pure-Python full check (split, hash, compare, expiry, refresh) | {figures['python']:.0f} |",
        f"| `tokenward.verify_record(token, key)` (the same work, in the core) | {figures['tokenward']:.0f} |",
        "",
        (
            "verify_record vs hashlib + compare_digest alone: "
            f"{figures['hashlib'] / figures['tokenward']:.2f}x faster (goal >= 2x)"
        ),
        (
            "verify_record vs the pure-Python full check: "
            f"{figures['python'] / figures['tokenward']:.2f}x faster (goal >= 4x)"
        ),
    ]
    return lines


def minted_sessions(authority: tokenward.Authority, count: int) -> List[str]:
    tokens = []
    for n in range(count):
        token, _ = authority.create_session(f"user-{n}", remote_addr="203.0.113.7")
        tokens.append(token)
    for token in tokens:
        authority.authenticate(token, "203.0.113.7")  # the first use writes last_used
    return tokens


def bench_authority() -> List[str]:
    keys = 1000
    with tempfile.TemporaryDirectory() as scratch:
        memory = tokenward.Authority.open(":memory:")
        sqlite = tokenward.Authority.open(os.path.join(scratch, "keys.db"))
        memory_tokens = minted_sessions(memory, keys)
        sqlite_tokens = minted_sessions(sqlite, keys)
        now = datetime.now(timezone.utc)
        token, key, _ = session_record(now)
        figures = measure(
            {
                "verify_record": "verify_record(token, key, None, None, address)",
                "memory": "memory(next(memory_tokens), address)",
                "sqlite": "sqlite(next(sqlite_tokens), address)",
            },
            {
                "verify_record": tokenward.verify_record,
                "memory": memory.authenticate,
                "sqlite": sqlite.authenticate,
                "memory_tokens": itertools.cycle(memory_tokens),
                "sqlite_tokens": itertools.cycle(sqlite_tokens),
                "address": "203.0.113.7",
                "token": token,
                "key": key,
            },
        )
        sqlite.close()
    return [
        f"| operation ({keys} session keys, round robin) | ns/op | ops/s |",
        "|---|---:|---:|",
        *(
            f"| {label} | {figures[name]:.0f} | {1e9 / figures[name]:,.0f} |"
            for name, label in (
                ("verify_record", "`verify_record`, record in hand (baseline)"),
                ("memory", "`Authority.authenticate`, `:memory:`"),
                ("sqlite", "`Authority.authenticate`, SQLite file"),
            )
        ),
        "",
        (
            f"authenticate / verify_record: {figures['memory'] / figures['verify_record']:.2f}x "
            f"(memory), {figures['sqlite'] / figures['verify_record']:.2f}x (SQLite)"
        ),
    ]


async def anyone() -> str:
    """A dependency that does nothing: what FastAPI's dependency injection costs alone."""
    return "anyone"


def bench_fastapi() -> List[str]:
    if FASTAPI_MISSING:  # FastAPI is a test extra
        return [f"FastAPI route: skipped ({FASTAPI_MISSING})"]

    authority = tokenward.Authority.open(":memory:")
    token, _ = authority.create_token("bench-user", token_name="bench")
    authority.authenticate(token)
    app = FastAPI()
    install(app, authority)

    @app.get("/open")
    async def open_route() -> Dict[str, str]:
        return {"user": "anyone"}

    @app.get("/empty-dependency")
    async def empty_dependency(
        user: Annotated[str, Depends(anyone)],
    ) -> Dict[str, str]:
        return {"user": user}

    @app.get("/protected")
    async def protected(
        key: Annotated[tokenward.ApiKey, Depends(authenticated)],
    ) -> Dict[str, str]:
        return {"user": key.user_id}

    headers = [(b"coder-session-token", token.encode())]

    async def call(path: str) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("203.0.113.7", 50000),
            "server": ("127.0.0.1", 8000),
        }
        status = 0

        async def receive() -> Dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    loop = asyncio.new_event_loop()
    assert loop.run_until_complete(call("/protected")) == 200
    assert loop.run_until_complete(call("/open")) == 200
    assert loop.run_until_complete(call("/empty-dependency")) == 200
    figures = measure(
        {
            "open": "run(call('/open'))",
            "empty": "run(call('/empty-dependency'))",
            "protected": "run(call('/protected'))",
        },
        {"run": loop.run_until_complete, "call": call},
    )
    loop.close()
    return [
        "| FastAPI route (ASGI app called in-process) | us/request |",
        "|---|---:|",
        f"| without the dependency | {figures['open'] / 1000:.1f} |",
        f"| with an empty async dependency (FastAPI's own cost) | {figures['empty'] / 1000:.1f} |",
        f"| with `Depends(authenticated)` | {figures['protected'] / 1000:.1f} |",
        "",
        (
            f"the dependency adds {(figures['protected'] - figures['open']) / 1000:.1f} us "
            f"({figures['protected'] / figures['open']:.2f}x the route without it)"
        ),
    ]


def main() -> None:
    print(f"Python {sys.version.split()[0]}, tokenward {tokenward.__version__}")
    for section in (bench_check, bench_authority, bench_fastapi):
        print()
        print("\n".join(section()))


if __name__ == "__main__":
    main()
