"""`Authority.open` on a PostgreSQL server: the one of `TOKENWARD_POSTGRES_URL`, which
`scripts/postgres.sh start` sets (scripts/test.sh starts one). Without it the test is skipped,
unless `TOKENWARD_TEST_POSTGRES` is set (as CI sets it): then it fails.

User ids are random UUIDs (Coder's `users.id` is a uuid), so runs in other languages sharing
the database never collide.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit

import pytest
import tokenward
from _support import error_texts


def server_url() -> str:
    url = os.environ.get("TOKENWARD_POSTGRES_URL", "")
    if not url:
        if os.environ.get("TOKENWARD_TEST_POSTGRES") is not None:
            pytest.fail(
                "TOKENWARD_TEST_POSTGRES is set but TOKENWARD_POSTGRES_URL is not: start a "
                'server with eval "$(scripts/postgres.sh start)"'
            )
        pytest.skip(
            "no PostgreSQL server (TOKENWARD_POSTGRES_URL is not set; "
            'eval "$(scripts/postgres.sh start)" starts one)'
        )
    return url


def test_a_postgres_url_opens_a_store_and_never_shows_its_password() -> None:
    url = server_url()
    user = str(uuid.uuid4())
    with tokenward.Authority.open(url) as authority:
        token, key = authority.create_token(user, token_name="ci")
        assert authority.authenticate(token).key.user_id == user
        authority.expire(user, key.id)
        with pytest.raises(tokenward.Expired) as rejected:
            authority.authenticate(token)
        assert rejected.value.code == "expired"
        assert rejected.value.status == 401

    password = urlsplit(url).password
    assert password
    wrong = "wrong-" + uuid.uuid4().hex
    with pytest.raises(tokenward.StoreIo) as refused:
        tokenward.Authority.open(url.replace(f":{password}@", f":{wrong}@", 1))
    assert refused.value.code == "store_io"
    assert refused.value.status == 500
    for text in error_texts(refused.value):
        assert wrong not in text
        assert password not in text
