"""Concurrency: processes sharing one SQLite file, threads sharing one Authority, and
revocation that is final while other threads keep presenting the token.

Nothing here asserts on timing: waits are bounded only so that a bug cannot hang the suite.
"""

from __future__ import annotations

import itertools
import multiprocessing
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Protocol

import pytest
import tokenward
from _support import OWNER, UTC, mint_and_authenticate, sqlite_url

PROCESSES = 4
TOKENS_PER_PROCESS = 150
THREADS = 8
TOKENS_PER_THREAD = 25
ROUNDS = 5
PATIENCE = 60.0
"""Seconds a wait may last before the test gives up (a liveness bound, not a timing check)."""


@pytest.fixture(params=["memory", "sqlite"])
def authority(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tokenward.Authority]:
    url = ":memory:" if request.param == "memory" else sqlite_url(tmp_path)
    with tokenward.Authority.open(url) as opened:
        yield opened


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.002)


# --- processes ----------------------------------------------------------------------------


def test_processes_sharing_one_sqlite_file_lose_no_token_and_never_see_busy(
    tmp_path: Path,
) -> None:
    path = sqlite_url(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=mint_and_authenticate,
            args=(path, n, TOKENS_PER_PROCESS, barrier, results),
        )
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.terminate()
                worker.join()
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES

    minted: dict[int, list[str]] = {}
    for n, tokens, errors in outcomes:
        assert not [e for e in errors if e.startswith("StoreBusy")], errors
        assert errors == [], f"worker {n}: {errors}"
        assert len(tokens) == TOKENS_PER_PROCESS
        minted[n] = tokens
    assert sorted(minted) == list(range(PROCESSES))

    # Every token every worker minted authenticates here, as its worker's.
    with tokenward.Authority.open(path) as parent:
        for n, tokens in minted.items():
            for token in tokens:
                assert parent.authenticate(token).key.user_id == f"worker-{n}"
        listed = parent.list_tokens(OWNER, all=True, include_expired=True)
        assert len(listed) == PROCESSES * TOKENS_PER_PROCESS
        for n in range(PROCESSES):
            names = {k.token_name for k in listed if k.user_id == f"worker-{n}"}
            assert names == {f"t{i}" for i in range(TOKENS_PER_PROCESS)}


# --- threads ------------------------------------------------------------------------------


def test_threads_sharing_one_authority_create_and_authenticate(
    authority: tokenward.Authority,
) -> None:
    shared, _ = authority.create_token("jane", token_name="shared")
    start = threading.Barrier(THREADS)
    errors: list[str] = []
    minted: dict[int, list[str]] = {n: [] for n in range(THREADS)}

    def work(n: int) -> None:
        user = tokenward.User(f"thread-{n}")
        try:
            start.wait(timeout=PATIENCE)
            for i in range(TOKENS_PER_THREAD):
                token, key = authority.create_token(user, token_name=f"t{i}")
                minted[n].append(token)
                if authority.authenticate(token, "203.0.113.7").key.user_id != user.id:
                    errors.append(f"thread {n}: token {i} is not its user's")
                if authority.authenticate(shared).key.user_id != "jane":
                    errors.append(f"thread {n}: the shared token changed hands")
                session, _ = authority.create_session(user)
                if authority.authenticate(session).key.login_type != "password":
                    errors.append(f"thread {n}: session {i} lost its login type")
                if authority.get_key(user, key.id).id != key.id:
                    errors.append(f"thread {n}: key {i} not found by id")
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(f"thread {n}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=PATIENCE * 2)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    for n, tokens in minted.items():
        assert len(tokens) == TOKENS_PER_THREAD
        for token in tokens:
            assert authority.authenticate(token).key.user_id == f"thread-{n}"
    listed = authority.list_tokens(OWNER, all=True)
    assert len(listed) == 1 + THREADS * TOKENS_PER_THREAD


# --- revocation under threads -------------------------------------------------------------


class Revocable(Protocol):
    """What the revocation race uses of an Authority."""

    def authenticate(self, token: str, remote_addr: str = "") -> tokenward.Verified: ...
    def get_key(self, actor: str, id: str) -> tokenward.ApiKey: ...
    def expire(self, actor: str, id: str) -> None: ...
    def delete(self, actor: str, id: str) -> None: ...


@dataclass(frozen=True)
class Call:
    ticket: int
    """Drawn just before the call started, from one counter shared with the main thread."""
    outcome: str
    """"ok", or the class name of what the call raised."""


@dataclass(frozen=True)
class Race:
    calls: list[Call]
    before_expire: int
    """The ticket drawn just before expire() was called."""
    after_expire: int
    """The ticket drawn just after expire() returned."""
    after_delete: int
    """The ticket drawn just after delete() returned."""
    expire_returned_at: datetime
    stored_after_expire: datetime
    """The key's expires_at as read back once calls that began after the expire had run."""

    def violations(self) -> list[str]:
        """What contradicts "an expire (a delete) is final": any call that started after it
        returned and did not fail as expired (as unknown); a slide that landed after it."""
        found = []
        for call in self.calls:
            if call.ticket > self.after_delete:
                if call.outcome != "UnknownKey":
                    found.append(f"call {call.ticket} after the delete: {call.outcome}")
            elif call.ticket > self.after_expire:
                if call.outcome not in ("Expired", "UnknownKey"):
                    found.append(f"call {call.ticket} after the expire: {call.outcome}")
            elif call.outcome not in ("ok", "Expired", "UnknownKey"):
                found.append(f"call {call.ticket}: {call.outcome}")
        if self.stored_after_expire > self.expire_returned_at:
            found.append(
                f"expires_at moved to {self.stored_after_expire} after the expire"
            )
        return found


def race_revocation(
    authority: Revocable, token: str, key_id: str, hammers: int = 4, calls: int = 200
) -> Race:
    """`hammers` threads authenticate `token` over and over while this thread waits for
    `calls` successes, expires the key, waits for `calls` authentications that started after
    the expire returned, deletes the key, and waits for `calls` more."""
    lock = threading.Lock()
    counter = itertools.count()

    def ticket() -> int:
        with lock:
            return next(counter)

    made: list[Call] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            drawn = ticket()
            try:
                authority.authenticate(token)
                outcome = "ok"
            except Exception as e:  # noqa: BLE001 (every outcome is recorded)
                outcome = type(e).__name__
            made.append(Call(drawn, outcome))

    def started_after(fence: int) -> int:
        return sum(1 for call in list(made) if call.ticket > fence)

    threads = [threading.Thread(target=hammer) for _ in range(hammers)]
    for thread in threads:
        thread.start()
    try:
        wait_until(
            lambda: sum(1 for c in list(made) if c.outcome == "ok") >= calls,
            "successes before the expire",
        )
        before_expire = ticket()
        authority.expire("jane", key_id)
        after_expire = ticket()
        expire_returned_at = datetime.now(UTC)
        wait_until(
            lambda: started_after(after_expire) >= calls, "calls after the expire"
        )
        stored = authority.get_key("jane", key_id).expires_at
        authority.delete("jane", key_id)
        after_delete = ticket()
        wait_until(
            lambda: started_after(after_delete) >= calls, "calls after the delete"
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=PATIENCE)
    assert not any(thread.is_alive() for thread in threads)
    return Race(
        calls=list(made),
        before_expire=before_expire,
        after_expire=after_expire,
        after_delete=after_delete,
        expire_returned_at=expire_returned_at,
        stored_after_expire=stored,
    )


@pytest.mark.parametrize("kind", ["session", "token"])
def test_no_authentication_that_starts_after_an_expire_or_delete_succeeds(
    authority: tokenward.Authority, kind: str
) -> None:
    for _ in range(ROUNDS):
        if kind == "session":
            token, key = authority.create_session(
                "jane"
            )  # a password key: it may slide
        else:
            token, key = authority.create_token("jane")
        race = race_revocation(authority, token, key.id)
        assert race.violations() == []
        # The race ran: successes before, and only refusals after. (A call that drew its
        # ticket before the expire may still run after it, or even after the delete.)
        assert "ok" in {c.outcome for c in race.calls if c.ticket < race.before_expire}
        after = [c.outcome for c in race.calls if c.ticket > race.after_expire]
        assert "Expired" in after and "UnknownKey" in after


class NoOpRevocation:
    """An Authority whose expire and delete do nothing: what the race must catch."""

    def __init__(self, inner: tokenward.Authority) -> None:
        self.inner = inner

    def authenticate(self, token: str, remote_addr: str = "") -> tokenward.Verified:
        return self.inner.authenticate(token, remote_addr)

    def get_key(self, actor: str, id: str) -> tokenward.ApiKey:
        return self.inner.get_key(actor, id)

    def expire(self, actor: str, id: str) -> None:
        pass

    def delete(self, actor: str, id: str) -> None:
        pass


def test_the_revocation_race_catches_an_expire_that_does_nothing(
    authority: tokenward.Authority,
) -> None:
    token, key = authority.create_session("jane")
    race = race_revocation(
        NoOpRevocation(authority), token, key.id, hammers=2, calls=10
    )
    found = race.violations()
    assert any("after the expire: ok" in v for v in found), found
    assert any("after the delete: ok" in v for v in found), found


def test_closing_while_threads_authenticate_is_final_and_safe(
    authority: tokenward.Authority,
) -> None:
    token, _ = authority.create_session("jane")
    lock = threading.Lock()
    counter = itertools.count()
    made: list[Call] = []
    stop = threading.Event()

    def ticket() -> int:
        with lock:
            return next(counter)

    def hammer() -> None:
        while not stop.is_set():
            drawn = ticket()
            try:
                authority.authenticate(token)
                outcome = "ok"
            except Exception as e:  # noqa: BLE001 (every outcome is recorded)
                outcome = type(e).__name__
            made.append(Call(drawn, outcome))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(made) >= 100, "calls before the close")
        authority.close()
        closed = ticket()
        wait_until(
            lambda: sum(1 for c in list(made) if c.ticket > closed) >= 100,
            "calls after the close",
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=PATIENCE)
    assert {c.outcome for c in made} <= {"ok", "StoreIo"}
    assert "ok" in {c.outcome for c in made if c.ticket < closed}
    assert all(c.outcome == "StoreIo" for c in made if c.ticket > closed)


CLOSE_RACE = """
import sys, threading
import tokenward

sys.setswitchinterval(1e-6)  # switch threads as often as CPython allows
authority = tokenward.Authority.open(":memory:")
authority.close()
stop = threading.Event()
refused = [0]


def call_the_closed_authority() -> None:
    while not stop.is_set():
        try:
            authority.now()
        except tokenward.StoreIo:
            refused[0] += 1


def close_again() -> None:
    while not stop.is_set():
        authority.close()


threads = [threading.Thread(target=call_the_closed_authority) for _ in range(3)]
threads.append(threading.Thread(target=close_again))
for thread in threads:
    thread.start()
threading.Event().wait(1.5)
stop.set()
for thread in threads:
    thread.join()
assert refused[0] > 0
print("done")
"""


def test_closing_again_while_threads_hit_the_closed_authority_never_deadlocks(
    tmp_path: Path,
) -> None:
    # Before the fix, building the StoreIo exception under the lock's read guard let a thread
    # lose the GIL to close(), which then waited for the guard holding the GIL: a hang. Run in
    # a child process, so a regression fails here instead of hanging the suite.
    script = tmp_path / "close_race.py"
    script.write_text(CLOSE_RACE, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "done"), result.stderr
