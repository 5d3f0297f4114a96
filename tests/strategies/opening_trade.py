"""A test strategy for live-fed days: buys the first `instruments` tradables it gets a tick for, as soon as it
does, and keeps count of the warm-up and live bars it sees (in its state, so the checkpoint shows them)."""

from __future__ import annotations

from decimal import Decimal

from engines.strategies.api import Bar, Instrument, Quote, Strategy, StrategyParams
from engines.strategies.sizing import entry_size


class OpeningTrade(Strategy):
    wants_ticks = True

    class Params(StrategyParams):
        instruments: int = 2
        warmup_bars: int = 5
        order_value: Decimal = Decimal(50_000)

    params: OpeningTrade.Params

    def warmup(self, instrument: Instrument) -> int:
        return self.params.warmup_bars if instrument.tradable else 0

    def on_bar(self, bar: Bar) -> None:
        key = "warmup_bars" if self.ctx.warming_up else "live_bars"
        self.state[key] = self.state.get(key, 0) + 1

    def on_tick(self, quote: Quote) -> None:
        bought = self.state.setdefault("bought", [])
        if len(bought) >= self.params.instruments or not quote.instrument.tradable:
            return
        if quote.instrument.symbol in bought:
            return
        size = entry_size(quote.instrument, quote.last, 1, self.params.order_value)
        if size > 0:
            bought.append(quote.instrument.symbol)
            self.ctx.target(quote.instrument, size, "the first ticks of a live day")
