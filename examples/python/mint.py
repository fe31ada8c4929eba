"""Mints a named API token in a tokenward key store and prints it, once.

    python mint.py --db tokens.db --user jane --name laptop --lifetime 720h

Standard output gets the token alone (only its hash is stored: it cannot be shown again);
standard error says which key was made. A refusal (a lifetime over the maximum, a name the
user already has, ...) prints Coder's message and exits with status 1. Settings come from the
environment (``CODER_MAX_TOKEN_LIFETIME``, ...; see ``tokenward.Settings.from_env``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import tokenward


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line ``argv`` (``sys.argv[1:]`` when None); returns the exit status."""
    parser = argparse.ArgumentParser(description="Mint a Coder-compatible API token.")
    parser.add_argument(
        "--db",
        default=os.environ.get("TOKENWARD_DB", "tokens.db"),
        help="the SQLite key store, created when missing (default: $TOKENWARD_DB or tokens.db)",
    )
    parser.add_argument("--user", required=True, help="the user the token is for")
    parser.add_argument(
        "--name", default="", help="the token's name (default: a generated one)"
    )
    parser.add_argument(
        "--lifetime",
        default=None,
        help='a Go duration such as "720h" or "30d" (default: the deployment\'s, 168h)',
    )
    args = parser.parse_args(argv)
    try:
        with tokenward.Authority.open(
            args.db, tokenward.Settings.from_env()
        ) as authority:
            token, key = authority.create_token(
                args.user, token_name=args.name, lifetime=args.lifetime
            )
    except tokenward.TokenwardError as error:
        print(f"mint: {error}", file=sys.stderr)
        return 1
    print(token)
    print(
        f"minted {key.token_name!r} (key {key.id}) for {key.user_id}, "
        f"expires {key.expires_at.isoformat()}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
