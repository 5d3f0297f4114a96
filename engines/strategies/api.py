"""The strategy API: what a trader writes to run a strategy of their own in every Paperfleet engine.

A strategy is a class with a parameter model and lifecycle hooks:

    from engines.strategies.api import Bar, Strategy, StrategyParams

    class Breakout(Strategy):
        class Params(StrategyParams):  # validated from the config: a bad value is a config error
            lookback: int = 20
            lots: int = 1

        def on_bar(self, bar: Bar) -> None:           # every closed 1-minute bar of the engine's instruments
            highs = self.state.setdefault(bar.instrument.symbol, {"highs": []})["highs"]
            ...
            self.ctx.target(bar.instrument, self.params.lots * bar.instrument.lot_size, reason="breakout")

Hooks, all optional: `on_start()`, `on_bar(bar)` (or `on_bars(bars)`: a minute's bars as numpy columns),
`on_tick(quote)` (only when the class sets `wants_ticks = True`: every tick costs a Python call),
`on_fill(update)`, `on_order_update(update)`, `on_stop()`. `warmup(instrument)` says how many minute bars of
the sessions before the day to feed `on_bar` at the open, with `self.ctx.warming_up` set and orders refused:
the Kite feed has them from Kite's history, a replay from the day's cache, the simulator none. `self.state`
is a dict of JSON values (per symbol, by convention) saved in every checkpoint and restored when a stopped
day resumes. `self.ctx` (a `Context`) reads the market and the book and places orders: `target(...)` moves a
position to a size with market orders; `buy(...)`/`sell(...)` place any order (MARKET, LIMIT, SL, SL-M; DAY
or IOC; MIS, NRML or CNC); `cancel(...)`, `modify(...)`. Every request is journalled and written to
signals.csv with its reason; the engine's risk checks and the paper broker decide what fills. Times are IST,
prices in rupees (rounded to the instrument's tick when orders are placed).

Select a strategy per engine in the config (`engines.<name>.strategy` and `.params`): a built-in name
(engines/strategies/__init__.py), `module:Class` from an installed package or from `strategies_dir`, or
`file.py:Class` inside `strategies_dir`. docs/strategies.md is the tutorial.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from engines.desk import OrderUpdate
from engines.market.instruments import Instrument, Kind, OptionChain
from engines.orders import OrderStatus, OrderType, Product, Side, Validity
from engines.portfolio import Position
from engines.quotes import Bar, MinuteBars

if TYPE_CHECKING:
    from engines.strategies.context import Context

__all__ = [
    "Bar",
    "Context",
    "Instrument",
    "Kind",
    "MinuteBars",
    "OptionChain",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "Position",
    "Product",
    "Quote",
    "Side",
    "Strategy",
    "StrategyParams",
    "Validity",
]


class StrategyParams(BaseModel):
    """Base of every strategy's parameter model: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class Quote:
    """An instrument's latest quote, in rupees (floats: for decisions, never for the ledger)."""

    instrument: Instrument
    time: datetime
    last: float
    bid: float | None
    ask: float | None
    volume: int
    oi: int


class Strategy:
    """Subclass, declare a nested `Params` model, override the hooks you need."""

    Params: ClassVar[type[StrategyParams]] = StrategyParams
    wants_ticks: ClassVar[bool] = False  # on_tick costs a call per tick: ask for it only when needed

    def __init__(self, params: StrategyParams, ctx: Context) -> None:
        self.params = params
        self.ctx = ctx
        self.state: dict[str, Any] = {}  # JSON values, saved in checkpoints and restored on resume

    def on_start(self) -> None:
        """Once, before the first tick of a day (and again, after a restore, when a day resumes)."""

    def warmup(self, instrument: Instrument) -> int:
        """How many minute bars of `instrument` from before the day to feed `on_bar` at the open (after
        `on_start`, with `self.ctx.warming_up` True: indicators only, no orders). 0: none."""
        return 0

    def on_bars(self, bars: MinuteBars) -> None:
        """Every instrument's closed bar of a minute at once, as numpy columns in token order. This default
        calls `on_bar` for each; override it to decide on many instruments in a few vectorised steps
        (engines/strategies/ema_cross.py does). Fills and order updates come after it returns."""
        for bar in bars:
            self.on_bar(bar)

    def on_bar(self, bar: Bar) -> None:
        """A closed 1-minute bar of one of the engine's instruments (at the minute, in token order)."""

    def on_tick(self, quote: Quote) -> None:
        """A tick of one of the engine's instruments (only when `wants_ticks` is True)."""

    def on_fill(self, update: OrderUpdate) -> None:
        """One of this strategy's orders filled, in part (`update.fill_quantity`) or in full."""

    def on_order_update(self, update: OrderUpdate) -> None:
        """One of this strategy's orders was placed, rejected or cancelled (fills go to `on_fill`)."""

    def on_stop(self) -> None:
        """Once, when the day ends or the engine stops."""


def rupees(value: float | Decimal | int) -> Decimal:
    return Decimal(str(value))
