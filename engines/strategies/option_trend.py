"""Index options on the underlying's trend: when the index's fast EMA crosses above the slow one, buy the
at-the-money call of the nearest expiry (and drop any put); when it crosses below, buy the ATM put (and drop
any call). ATM is the listed strike nearest to the index at the decision, from the day's instrument master.
A held option is also exited when it loses stop_loss_pct of its premium; the next entry waits for the next
crossover."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from engines.market.instruments import Instrument, Kind, OptionChain
from engines.money import rupees_to_paise
from engines.orders import Signal, SignalAction
from engines.quotes import Bar
from engines.strategies.base import BookView
from engines.strategies.ema import CrossStates


class OptionTrend:
    def __init__(
        self,
        indices: Sequence[Instrument],
        chains: Mapping[str, OptionChain],
        book: BookView,
        fast: int,
        slow: int,
        lots: int,
        stop_loss_pct: Decimal,
    ) -> None:
        self._indices = {i.token: i for i in indices}
        self._chains = chains
        self._states = CrossStates((i.symbol for i in indices), fast, slow)
        self._book = book
        self._lots = lots
        self._keep = 1 - float(stop_loss_pct) / 100  # fraction of the premium below which we exit

    def on_bar(self, bar: Bar) -> list[Signal]:
        instrument = bar.instrument
        if instrument.token in self._indices:
            return self._on_index_bar(instrument, bar)
        if instrument.is_option and self._book.quantity(instrument.symbol) > 0:
            return self._stop_loss(instrument, bar)
        return []

    def _on_index_bar(self, index: Instrument, bar: Bar) -> list[Signal]:
        state = self._states[index.symbol]
        crossed = state.update(bar.close)
        if not crossed or index.underlying is None:
            return []
        wanted = Kind.CE if crossed > 0 else Kind.PE
        trend = "up" if crossed > 0 else "down"
        reason = f"{index.symbol} trend turned {trend} ({state.describe()})"
        signals = [
            Signal(p.instrument, SignalAction.EXIT, 0, bar.close, reason)
            for p in self._book.open_positions()
            if p.instrument.underlying == index.underlying and p.instrument.kind is not wanted
        ]
        chain = self._chains[index.underlying]
        strike = chain.nearest_strike(rupees_to_paise(Decimal(str(bar.close))))
        option = chain.option(strike, wanted)
        if option is not None and self._book.quantity(option.symbol) == 0:
            signals.append(
                Signal(
                    option,
                    SignalAction.LONG,
                    self._lots * option.lot_size,
                    bar.close,
                    f"{reason}; buy ATM {wanted} (strike {strike // 100})",
                )
            )
        return signals

    def _stop_loss(self, option: Instrument, bar: Bar) -> list[Signal]:
        position = next(p for p in self._book.open_positions() if p.instrument.symbol == option.symbol)
        entry = position.average_price / 100
        if bar.close > entry * self._keep:
            return []
        reason = f"stop loss: {bar.close:.2f} is {100 * (1 - bar.close / entry):.1f}% below entry {entry:.2f}"
        return [Signal(option, SignalAction.EXIT, 0, bar.close, reason)]

    def snapshot(self) -> dict[str, Any]:
        return self._states.snapshot()

    def restore(self, state: dict[str, Any]) -> None:
        self._states.restore(state)
