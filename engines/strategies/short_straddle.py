"""Short straddle with a stop loss and a time exit: at `entry_time` sell the at-the-money call and put of
each index (nearest expiry), protect each leg with an SL-M buy order `stop_loss_pct` above the premium it
was sold at, and buy back what is still open at `exit_time`. The short legs block SPAN + exposure margin;
an account without it sees the sells rejected, with both figures in the reason."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Annotated

from pydantic import Field, model_validator

from engines.fields import ClockTime
from engines.market.instruments import Kind
from engines.money import rupees_to_paise
from engines.strategies.api import Bar, OrderStatus, OrderType, OrderUpdate, Side, Strategy, StrategyParams


class ShortStraddle(Strategy):
    class Params(StrategyParams):
        entry_time: ClockTime = time(9, 30)
        exit_time: ClockTime = time(15, 10)
        lots: Annotated[int, Field(gt=0)] = 1
        stop_loss_pct: Annotated[Decimal, Field(gt=0, le=500)] = Decimal(30)  # above each leg's premium

        @model_validator(mode="after")
        def _entry_before_exit(self) -> ShortStraddle.Params:
            if self.entry_time >= self.exit_time:
                raise ValueError(
                    f"entry_time ({self.entry_time:%H:%M}) must be before exit_time ({self.exit_time:%H:%M})"
                )
            return self

    params: ShortStraddle.Params

    def on_bar(self, bar: Bar) -> None:
        index = bar.instrument
        if index.kind is not Kind.INDEX or not index.underlying:
            return
        day = self.state.setdefault(index.underlying, {"entered": False, "exited": False, "stops": {}})
        now = self.ctx.now.time()
        if not day["entered"] and self.params.entry_time <= now < self.params.exit_time:
            day["entered"] = True
            self._enter(index.underlying, bar)
        elif day["entered"] and not day["exited"] and now >= self.params.exit_time:
            day["exited"] = True
            self._exit(index.underlying, day["stops"])

    def _enter(self, underlying: str, bar: Bar) -> None:
        chain = self.ctx.chain(underlying)
        strike = chain.nearest_strike(rupees_to_paise(Decimal(str(bar.close))))
        for kind in (Kind.CE, Kind.PE):
            leg = chain.option(strike, kind)
            if leg is not None:
                when = f"{self.params.entry_time:%H:%M}"
                reason = f"short straddle at {when}: sell ATM {kind} (strike {strike // 100})"
                self.ctx.sell(leg, self.params.lots * leg.lot_size, reason)

    def _exit(self, underlying: str, stops: dict[str, str]) -> None:
        for order_id in list(stops.values()):
            self.ctx.cancel(order_id, "time exit")
        stops.clear()
        for position in self.ctx.positions():
            if position.instrument.underlying == underlying and position.quantity < 0:
                self.ctx.target(position.instrument, 0, f"time exit at {self.params.exit_time:%H:%M}")

    def on_fill(self, update: OrderUpdate) -> None:
        order = update.order
        underlying = order.instrument.underlying
        if (
            underlying is None
            or order.strategy != self.ctx.strategy
            or update.status is not OrderStatus.COMPLETE
        ):
            return
        stops: dict[str, str] = self.state.setdefault(underlying, {"stops": {}}).setdefault("stops", {})
        if order.side is Side.SELL and order.order_type is OrderType.MARKET:  # a leg sold: protect it
            premium = update.average_price / 100
            trigger = premium * (1 + float(self.params.stop_loss_pct) / 100)
            reason = f"stop loss {self.params.stop_loss_pct}% above the premium {premium:.2f}"
            stops[order.instrument.symbol] = self.ctx.buy(
                order.instrument, order.quantity, reason, order_type=OrderType.SL_M, trigger_price=trigger
            )
        elif order.side is Side.BUY and order.order_type is OrderType.SL_M:  # a stop fired: the leg is closed
            stops.pop(order.instrument.symbol, None)
