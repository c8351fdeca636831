"""Shared fixtures: the local corpora and a tiny synthetic text."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "warpeace_input.txt").exists():
        pytest.skip(f"local corpora not found in {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def tiny_text() -> bytes:
    """A few KB of structured text: quotes, brackets, line ends."""
    line = b'He said "hello (world)" to {everyone} at [once].\r\n'
    return line * 60
