"""EMA crossover on 1-minute bars (FnO futures and Equity): long when the fast EMA crosses above the
slow one, short when it crosses below; each symbol keeps its own state."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engines.market.instruments import Instrument
from engines.orders import Signal, SignalAction
from engines.quotes import Bar
from engines.strategies.ema import CrossStates

QuantityRule = Callable[[Instrument, float], int]


class EmaCross:
    def __init__(
        self, instruments: Sequence[Instrument], fast: int, slow: int, quantity: QuantityRule
    ) -> None:
        self._tokens = {i.token for i in instruments}
        self._states = CrossStates((i.symbol for i in instruments), fast, slow)
        self._quantity = quantity

    def on_bar(self, bar: Bar) -> list[Signal]:
        instrument = bar.instrument
        if instrument.token not in self._tokens:
            return []
        state = self._states[instrument.symbol]
        crossed = state.update(bar.close)
        if not crossed:
            return []
        quantity = self._quantity(instrument, bar.close)
        if quantity <= 0:
            return []
        action = SignalAction.LONG if crossed > 0 else SignalAction.SHORT
        direction = "above" if crossed > 0 else "below"
        reason = f"ema{state.fast_period} crossed {direction} ema{state.slow_period} ({state.describe()})"
        return [Signal(instrument, action, crossed * quantity, bar.close, reason)]

    def snapshot(self) -> dict[str, Any]:
        return self._states.snapshot()

    def restore(self, state: dict[str, Any]) -> None:
        self._states.restore(state)


def whole_lots(lots: int) -> QuantityRule:
    """Derivatives trade in whole lots."""
    return lambda instrument, _price: lots * instrument.lot_size


def by_value(order_value: float) -> QuantityRule:
    """Cash equities: as many shares as `order_value` rupees buys at the bar close."""
    return lambda _instrument, price: int(order_value // price) if price > 0 else 0
