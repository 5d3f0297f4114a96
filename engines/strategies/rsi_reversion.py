"""Mean reversion on RSI: buy a symbol whose RSI falls below `oversold`, sell short one above
`overbought`, and close the position when RSI comes back to `exit_at` (50: the middle). Each symbol keeps
its own RSI (Wilder's, on 1-minute closes). Sizes: `lots` whole lots of F&O, `order_value` rupees of stock."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from engines.strategies.api import Bar, Instrument, Strategy, StrategyParams
from engines.strategies.indicators import rsi
from engines.strategies.sizing import entry_size


class RsiReversion(Strategy):
    class Params(StrategyParams):
        period: Annotated[int, Field(ge=2, le=100)] = 14
        oversold: Annotated[float, Field(gt=0, lt=50)] = 25.0
        overbought: Annotated[float, Field(gt=50, lt=100)] = 75.0
        exit_at: Annotated[float, Field(gt=0, lt=100)] = 50.0
        lots: Annotated[int, Field(gt=0)] = 1
        order_value: Annotated[Decimal, Field(gt=0)] = Decimal(100_000)

        @model_validator(mode="after")
        def _exit_between(self) -> RsiReversion.Params:
            if not self.oversold < self.exit_at < self.overbought:
                raise ValueError(
                    f"exit_at ({self.exit_at}) must lie between oversold ({self.oversold}) and "
                    f"overbought ({self.overbought})"
                )
            return self

    params: RsiReversion.Params

    def warmup(self, instrument: Instrument) -> int:
        return 3 * self.params.period + 1 if instrument.tradable else 0  # Wilder's smoothing settles

    def on_bar(self, bar: Bar) -> None:
        instrument, p = bar.instrument, self.params
        if not instrument.tradable:
            return
        value = rsi(self.state.setdefault(instrument.symbol, {}), bar.close, p.period)
        if value is None or self.ctx.warming_up:
            return
        held = self.ctx.position(instrument)
        size = entry_size(instrument, bar.close, p.lots, p.order_value)
        why = f"rsi{p.period} {value:.1f}"
        if not held and value < p.oversold and size:
            self.ctx.target(instrument, size, f"{why} below {p.oversold:g}: oversold", at=bar.close)
        elif not held and value > p.overbought and size:
            self.ctx.target(instrument, -size, f"{why} above {p.overbought:g}: overbought", at=bar.close)
        elif (held > 0 and value >= p.exit_at) or (held < 0 and value <= p.exit_at):
            self.ctx.target(instrument, 0, f"{why} back to {p.exit_at:g}: reverted", at=bar.close)
