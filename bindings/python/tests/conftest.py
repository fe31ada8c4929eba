"""Shared by the binding's tests: where the repository's conformance vectors are."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
VECTORS = REPO / "tests" / "vectors"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """`tests/vectors/` of the repository (the files every language runs unchanged)."""
    return VECTORS
