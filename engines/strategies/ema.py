"""Exponential moving averages and the fast/slow crossover state kept per symbol."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class CrossState:
    """Fast and slow EMAs of bar closes; reports a crossover once both have warmed up."""

    fast_period: int
    slow_period: int
    fast: float = 0.0
    slow: float = 0.0
    bars: int = 0
    side: int = 0  # +1 fast above slow, -1 below, 0 not yet known

    def update(self, close: float) -> int:
        """Fold in one close; returns +1 on a cross up, -1 on a cross down, 0 otherwise."""
        if self.bars == 0:
            self.fast = self.slow = close
        else:
            self.fast += (close - self.fast) * 2.0 / (self.fast_period + 1)
            self.slow += (close - self.slow) * 2.0 / (self.slow_period + 1)
        self.bars += 1
        if self.bars < self.slow_period or self.fast == self.slow:
            return 0
        side = 1 if self.fast > self.slow else -1
        crossed = side if self.side and side != self.side else 0
        self.side = side
        return crossed

    def describe(self) -> str:
        return f"ema{self.fast_period} {self.fast:.2f} vs ema{self.slow_period} {self.slow:.2f}"

    def to_json(self) -> dict[str, Any]:
        return {"fast": self.fast, "slow": self.slow, "bars": self.bars, "side": self.side}

    def load(self, data: dict[str, Any]) -> None:
        self.fast, self.slow, self.bars, self.side = data["fast"], data["slow"], data["bars"], data["side"]


class CrossStates(dict[str, CrossState]):
    """One CrossState per symbol, with the strategy's snapshot/restore for the checkpoint."""

    def __init__(self, symbols: Iterable[str], fast: int, slow: int) -> None:
        super().__init__((symbol, CrossState(fast, slow)) for symbol in symbols)

    def snapshot(self) -> dict[str, Any]:
        return {symbol: state.to_json() for symbol, state in self.items()}

    def restore(self, saved: dict[str, Any]) -> None:
        for symbol, data in saved.items():
            if symbol in self:
                self[symbol].load(data)
