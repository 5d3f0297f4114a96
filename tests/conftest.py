"""Shared fixtures (helpers live in tests/helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import SMALL, write_config


@pytest.fixture
def small_config(tmp_path: Path) -> Path:
    """A config for a small market (few instruments): whole days in about a second per engine."""
    return write_config(tmp_path / "cfg", SMALL)
