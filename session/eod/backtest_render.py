"""The Markdown of the report's `backtest` key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def backtest_lines(backtest: Mapping[str, Any] | None) -> list[str]:
    if backtest is None:
        return ["Not run."]
    return [str(backtest)]
