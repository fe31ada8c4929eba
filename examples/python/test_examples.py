"""The examples at work: ``mint.py`` mints a token (run as a script, in a temporary
directory) and ``app.py`` answers it. Run with pytest from the repository root or here."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import tokenward
from fastapi.testclient import TestClient

from app import create_app

HERE = Path(__file__).resolve().parent


def mint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs ``mint.py args`` in ``cwd``."""
    return subprocess.run(
        [sys.executable, str(HERE / "mint.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def no_token_answer() -> tokenward.TokenwardError:
    """What the binding raises for a request without a token: Coder's answer to it."""
    authority = tokenward.Authority.open(":memory:", tokenward.Settings.from_env())
    with authority, pytest.raises(tokenward.Missing) as info:
        authority.authenticate("")
    return info.value


def lifetime_refusal(lifetime: str) -> tokenward.TokenwardError:
    """What the binding raises for a token of ``lifetime``."""
    authority = tokenward.Authority.open(":memory:", tokenward.Settings.from_env())
    with authority, pytest.raises(tokenward.InvalidArgument) as info:
        authority.create_token("jane", lifetime=lifetime)
    return info.value


def test_a_minted_token_is_answered_with_its_owner(tmp_path: Path) -> None:
    minted = mint(tmp_path, "--db", "tokens.db", "--user", "jane", "--name", "laptop")
    assert minted.returncode == 0, minted.stderr
    lines = minted.stdout.splitlines()
    assert len(lines) == 1  # the token, once, and nothing else
    token = lines[0]
    key_id = tokenward.parse(token).id
    assert key_id in minted.stderr and token not in minted.stderr

    with TestClient(create_app(str(tmp_path / "tokens.db"))) as client:
        response = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["user_id"] == "jane"
    assert answer["key_id"] == key_id
    assert answer["token_name"] == "laptop"
    assert answer["login_type"] == "token"


def test_the_lifetime_given_sets_the_expiry(tmp_path: Path) -> None:
    db = str(tmp_path / "tokens.db")
    minted = mint(tmp_path, "--db", db, "--user", "joe", "--lifetime", "30d")
    assert minted.returncode == 0, minted.stderr
    key_id = tokenward.parse(minted.stdout.strip()).id
    with tokenward.Authority.open(db) as authority:
        key = authority.get_key("joe", key_id)
    assert key.expires_at - key.created_at == timedelta(days=30)


def test_a_request_without_a_token_gets_coders_401(tmp_path: Path) -> None:
    with TestClient(create_app(str(tmp_path / "tokens.db"))) as client:
        response = client.get("/whoami")
        assert client.get("/healthz").json() == {"status": "ok"}
    missing = no_token_answer()
    assert response.status_code == missing.status == 401
    assert response.content == missing.body.encode()
    assert response.headers["www-authenticate"] == missing.www_authenticate


def test_mint_refuses_a_lifetime_over_the_maximum(tmp_path: Path) -> None:
    minted = mint(tmp_path, "--user", "jane", "--lifetime", "1000000h")
    assert minted.returncode == 1
    assert minted.stdout == ""
    assert minted.stderr == f"mint: {lifetime_refusal('1000000h')}\n"
