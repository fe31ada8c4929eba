"""A FastAPI app protected by tokenward: ``GET /whoami`` answers who the token belongs to.

Mint a token with ``mint.py``, then serve the same store (any ASGI server; uvicorn here)::

    TOKENWARD_DB=tokens.db uvicorn app:create_app --factory
    curl -H "Coder-Session-Token: <token>" http://127.0.0.1:8000/whoami

``TokenwardMiddleware`` authenticates every request but ``/healthz`` as Coder does (the
``coder_session_token`` cookie or query parameter, the ``Coder-Session-Token`` header,
``Authorization: Bearer``, the ``access_token`` query parameter) and answers a failure with
Coder's 401 (or 500), byte for byte. The ``authenticated`` dependency hands the route the
verified key. Settings come from the environment (``CODER_SESSION_DURATION``,
``CODER_ACCESS_URL``, ...; see ``tokenward.Settings.from_env``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import tokenward
from fastapi import Depends, FastAPI
from tokenward.asgi import TokenwardMiddleware, authenticated, install

DEFAULT_DB = "tokens.db"
"""The key store when neither ``create_app``'s argument nor ``$TOKENWARD_DB`` names one."""


def create_app(db: str | None = None) -> FastAPI:
    """The app over the key store ``db`` (a SQLite file; default ``$TOKENWARD_DB``, else
    ``tokens.db``), closed when the app shuts down."""
    path = db or os.environ.get("TOKENWARD_DB", DEFAULT_DB)
    authority = tokenward.Authority.open(path, tokenward.Settings.from_env())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        authority.close()

    app = FastAPI(title="tokenward example", lifespan=lifespan)
    app.add_middleware(TokenwardMiddleware, authority=authority, skip={"/healthz"})
    install(app, authority)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Open to all: no token needed."""
        return {"status": "ok"}

    @app.get("/whoami")
    def whoami(
        key: Annotated[tokenward.ApiKey, Depends(authenticated)],
    ) -> dict[str, str]:
        """Who the presented token belongs to."""
        return {
            "user_id": key.user_id,
            "key_id": key.id,
            "token_name": key.token_name,
            "login_type": key.login_type.value,
            "expires_at": key.expires_at.isoformat(),
        }

    return app
