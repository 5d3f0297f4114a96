"""EMA crossover on 1-minute bars: long when the fast EMA crosses above the slow one, short when it crosses
below; each symbol keeps its own EMAs. Sizes: `lots` whole lots of F&O, `order_value` rupees of stock."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from engines.strategies.api import Bar, Instrument, Strategy, StrategyParams
from engines.strategies.indicators import describe_ema, ema_cross
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

    def on_bar(self, bar: Bar) -> None:
        instrument, p = bar.instrument, self.params
        if not instrument.tradable:
            return
        emas = self.state.setdefault(instrument.symbol, {})
        crossed = ema_cross(emas, bar.close, p.fast_ema, p.slow_ema)
        size = entry_size(instrument, bar.close, p.lots, p.order_value)
        if not crossed or size <= 0 or self.ctx.warming_up:
            return
        direction = "above" if crossed > 0 else "below"
        emas_now = describe_ema(emas, p.fast_ema, p.slow_ema)
        reason = f"ema{p.fast_ema} crossed {direction} ema{p.slow_ema} ({emas_now})"
        self.ctx.target(instrument, crossed * size, reason, at=bar.close)
