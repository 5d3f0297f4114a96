"""EMA crossover on 1-minute bars: long when the fast EMA crosses above the slow one, short when it crosses
below; each symbol keeps its own EMAs (all folded at once, each minute). Sizes: `lots` whole lots of F&O,
`order_value` rupees of stock."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from engines.strategies.api import Instrument, MinuteBars, Strategy, StrategyParams
from engines.strategies.indicators import ema_crosses
from engines.strategies.sizing import entry_size


class EmaCross(Strategy):
    class Params(StrategyParams):
        fast_ema: Annotated[int, Field(ge=2)] = 9  # periods of 1-minute bars
        slow_ema: Annotated[int, Field(ge=3)] = 21
        lots: Annotated[int, Field(gt=0)] = 1  # per entry, for futures and options
        order_value: Annotated[Decimal, Field(gt=0)] = Decimal(100_000)  # rupees per entry, for stocks

        @model_validator(mode="after")
        def _fast_below_slow(self) -> EmaCross.Params:
            if self.fast_ema >= self.slow_ema:
                raise ValueError(
                    f"fast_ema ({self.fast_ema}) must be smaller than slow_ema ({self.slow_ema})"
                )
            return self

    params: EmaCross.Params

    def warmup(self, instrument: Instrument) -> int:
        return 3 * self.params.slow_ema if instrument.tradable else 0  # an EMA settles in ~3 periods

    def on_bars(self, bars: MinuteBars) -> None:
        # Every instrument's EMAs move in one numpy step: thousands of instruments cost about a millisecond.
        p = self.params
        rows = np.flatnonzero([i.tradable for i in bars.instruments])
        folded = ema_crosses(
            self.state.setdefault("emas", {}), bars.tokens[rows], bars.close[rows], p.fast_ema, p.slow_ema
        )
        if self.ctx.warming_up:
            return
        for k in np.flatnonzero(folded.crossed).tolist():
            instrument, close = bars.instruments[rows[k]], float(bars.close[rows[k]])
            size = entry_size(instrument, close, p.lots, p.order_value)
            if size <= 0:
                continue
            crossed = int(folded.crossed[k])
            direction = "above" if crossed > 0 else "below"
            reason = (
                f"ema{p.fast_ema} crossed {direction} ema{p.slow_ema} "
                f"({folded.describe(k, p.fast_ema, p.slow_ema)})"
            )
            self.ctx.target(instrument, crossed * size, reason, at=close)
