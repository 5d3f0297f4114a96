"""Index options on the underlying's trend: when the index's fast EMA crosses above the slow one, buy the
at-the-money call of the nearest expiry (and drop any put); when it crosses below, buy the ATM put (and
drop any call). ATM is the listed strike nearest to the index at the decision. A held option is also sold
when it loses `stop_loss_pct` of its premium; the next entry waits for the next crossover."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from engines.market.instruments import Kind
from engines.money import rupees_to_paise
from engines.strategies.api import Bar, Instrument, MinuteBars, Strategy, StrategyParams
from engines.strategies.indicators import ema_crosses


class AtmOptionBuyer(Strategy):
    class Params(StrategyParams):
        fast_ema: Annotated[int, Field(ge=2)] = 9
        slow_ema: Annotated[int, Field(ge=3)] = 21
        lots: Annotated[int, Field(gt=0)] = 1
        stop_loss_pct: Annotated[Decimal, Field(gt=0, lt=100)] = Decimal(30)  # of the premium paid

        @model_validator(mode="after")
        def _fast_below_slow(self) -> AtmOptionBuyer.Params:
            if self.fast_ema >= self.slow_ema:
                raise ValueError(
                    f"fast_ema ({self.fast_ema}) must be smaller than slow_ema ({self.slow_ema})"
                )
            return self

    params: AtmOptionBuyer.Params

    def warmup(self, instrument: Instrument) -> int:
        return 3 * self.params.slow_ema if instrument.kind is Kind.INDEX else 0  # the index's EMAs only

    def on_bars(self, bars: MinuteBars) -> None:
        # Of a chain's many bars only the indices' and the held options' matter: pick them, skip the rest.
        for bar in bars.where(lambda i: i.kind is Kind.INDEX and bool(i.underlying)):
            self._on_index(bar)
        held = {p.instrument.token for p in self.ctx.positions() if p.instrument.is_option and p.quantity > 0}
        if held:
            for bar in bars.where(lambda i: i.token in held):
                self._stop_loss(bar)

    def _on_index(self, bar: Bar) -> None:
        p, index = self.params, bar.instrument
        folded = ema_crosses(
            self.state.setdefault("emas", {}),
            np.array([index.token], dtype=np.int64),
            np.array([bar.close]),
            p.fast_ema,
            p.slow_ema,
        )
        crossed = int(folded.crossed[0])
        if not crossed or self.ctx.warming_up or index.underlying is None:
            return
        underlying = index.underlying
        wanted = Kind.CE if crossed > 0 else Kind.PE
        reason = (
            f"{index.symbol} trend turned {'up' if crossed > 0 else 'down'} "
            f"({folded.describe(0, p.fast_ema, p.slow_ema)})"
        )
        for position in self.ctx.positions():
            held = position.instrument
            if held.underlying == underlying and held.is_option and held.kind is not wanted:
                self.ctx.target(held, 0, reason, at=bar.close)
        chain = self.ctx.chain(underlying)
        strike = chain.nearest_strike(rupees_to_paise(Decimal(str(bar.close))))
        option = chain.option(strike, wanted)
        if option is not None and self.ctx.position(option) == 0:
            reason = f"{reason}; buy ATM {wanted} (strike {strike // 100})"
            self.ctx.target(option, p.lots * option.lot_size, reason, at=bar.close)

    def _stop_loss(self, bar: Bar) -> None:
        entry = self.ctx.average_price(bar.instrument)
        keep = 1 - float(self.params.stop_loss_pct) / 100
        if entry and bar.close <= entry * keep:
            reason = (
                f"stop loss: {bar.close:.2f} is {100 * (1 - bar.close / entry):.1f}% below entry {entry:.2f}"
            )
            self.ctx.target(bar.instrument, 0, reason, at=bar.close)
