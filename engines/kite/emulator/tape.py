"""The emulator's market: every instrument of the day's master, advanced one simulator step at a time, with
the day state Kite reports beside each tick (open, high, low, close, average price, OI range, book totals).

Why every instrument and not only the subscribed ones: Kite's quote carries the day's high and low, which
an instrument subscribed at 14:00 needs from 09:15 on. Stepping the whole master keeps that exact and the
same for REST and the ticker, and costs about a millisecond per step (3,454 instruments). The simulator's
noise is counter-based per instrument, so a tick here equals the one a SimFeed of that instrument alone
makes at the same step.

Time: step = start step + wall seconds since start x speed / tick interval. At the close the tape wraps
to the open of a new *cycle* (a fresh day: volumes and OHLC restart), so the emulator streams at any hour.
`close` is the day's first price: the simulator plays one day and has no previous close.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engines.market.instruments import Instrument
from engines.market.sim import MarketSimulator, SimFeed
from engines.market.sim.market import SimSession
from engines.market.ticks import DEPTH, TickBatch

I64 = NDArray[np.int64]
FOLD_CHUNK = 10  # steps per SimFeed read when catching up without emitting (fastest, measured)
_NEVER = threading.Event()  # SimFeed.read's stop flag: a pull feed returns at once, nothing to stop


@dataclass(frozen=True, slots=True)
class MarketClock:
    """Wall time (time.monotonic) to (cycle, step)."""

    session: SimSession
    speed: float
    start_step: int
    started: float

    def position(self, now: float) -> tuple[int, int]:
        elapsed = max(0.0, now - self.started) * self.speed / self.session.tick_interval_s
        cycle, step = divmod(self.start_step + int(elapsed), self.session.steps)
        return cycle, step

    def wall_time(self, cycle: int, step: int) -> float:
        """When (monotonic) the tape reaches `step` of `cycle`."""
        absolute = cycle * self.session.steps + step - self.start_step
        return self.started + absolute * self.session.tick_interval_s / self.speed


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every instrument at one step, one row per master row (master order); prices in paise.

    Arrays are never modified after construction: the next step makes new ones."""

    cycle: int
    step: int
    last_price: I64
    last_quantity: I64
    average_price: I64
    volume: I64
    buy_quantity: I64
    sell_quantity: I64
    open: I64
    high: I64
    low: I64
    close: I64
    oi: I64
    oi_day_high: I64
    oi_day_low: I64
    bid_price: I64  # n x DEPTH
    bid_quantity: I64
    bid_orders: I64
    ask_price: I64
    ask_quantity: I64
    ask_orders: I64


class Tape:
    """Advances the whole master through a SimFeed; `snapshot` is the latest step."""

    def __init__(self, market: MarketSimulator) -> None:
        self.session = market.session
        self.master = market.master
        self.instruments: list[Instrument] = list(market.master)
        self.tokens: I64 = np.array([i.token for i in self.instruments], dtype=np.int64)
        self.tradable = np.array([i.tradable for i in self.instruments], dtype=bool)
        self.row_of: dict[int, int] = {token: row for row, token in enumerate(self.tokens.tolist())}
        self.row_of_key: dict[str, int] = {i.key: row for row, i in enumerate(self.instruments)}
        self._feed = SimFeed(market)
        self._feed.subscribe(self.instruments)
        self._feed_order: I64 = np.zeros(0, dtype=np.int64)  # the feed's token order, for _perm
        self._perm: I64 = np.zeros(0, dtype=np.int64)
        self._turnover: I64 = np.zeros(len(self.tokens), dtype=np.int64)
        self.snapshot: Snapshot | None = None
        self._cycle = -1

    @property
    def position(self) -> tuple[int, int]:
        """(cycle, step) of the latest snapshot; step -1 before a cycle's first step."""
        return self._cycle, self.snapshot.step if self.snapshot else -1

    def advance(self, cycle: int, step: int, emit: int) -> list[Snapshot]:
        """Move to (cycle, step); return the snapshots of at most the last `emit` steps passed (a backlog
        older than that, e.g. a start at 14:00, is folded into the day state without snapshots)."""
        self.fold_until(cycle, step - max(emit, 1))
        return list(self.steps_until(cycle, step))

    def fold_until(self, cycle: int, step: int, limit: int = 0) -> bool:
        """Fold the steps through `step` into the day state without snapshots, at most `limit` of them
        (0: no limit); True once there (a caller on an event loop yields between calls)."""
        if not self._enter(cycle):
            return True
        first = self.position[1] + 1
        last_wanted = step if limit <= 0 else min(step, first + limit - 1)
        while first <= last_wanted:
            last = min(last_wanted, first + FOLD_CHUNK - 1)
            self.snapshot = self._fold(cycle, first, last)
            first = last + 1
        return self.position[1] >= step

    def steps_until(self, cycle: int, step: int) -> Iterator[Snapshot]:
        """The snapshot of every step after the current one through `step`, made one at a time."""
        if not self._enter(cycle):
            return
        for k in range(self.position[1] + 1, step + 1):
            self.snapshot = self._fold(cycle, k, k)
            yield self.snapshot

    def _enter(self, cycle: int) -> bool:
        """Make `cycle` current: a newer one restarts the day at the open. False for a past cycle."""
        if cycle < self._cycle:
            return False
        if cycle > self._cycle:
            self._feed.open(self.session.start_ms - 1)  # a fresh day: volumes and OHLC start over
            self._turnover = np.zeros(len(self.tokens), dtype=np.int64)
            self.snapshot = None
            self._cycle = cycle
        return True

    def _fold(self, cycle: int, first: int, last: int) -> Snapshot:
        """Read steps first..last from the feed and fold them into the day state."""
        batch = self._feed.read(self.session.step_ms(last), _NEVER)
        n, steps = len(self.tokens), last - first + 1
        if len(batch) != n * steps:
            raise RuntimeError(f"SimFeed gave {len(batch)} ticks for {steps} steps of {n} instruments")
        perm = self._master_order(batch)

        def flat(column: I64) -> I64:
            result: I64 = column.reshape(steps, n)[:, perm]
            return result

        def deep(column: I64) -> I64:
            result: I64 = column.reshape(steps, n, DEPTH)[-1, perm]
            return result

        price, quantity, oi = flat(batch.last_price), flat(batch.last_quantity), flat(batch.oi)
        before = self.snapshot
        if before is None:  # the day's first step: the open, and (see above) the close
            opening, high, low = price[0], price.max(axis=0), price.min(axis=0)
            oi_high, oi_low = oi.max(axis=0), oi.min(axis=0)
        else:
            opening = before.open
            high, low = np.maximum(before.high, price.max(axis=0)), np.minimum(before.low, price.min(axis=0))
            oi_high, oi_low = (
                np.maximum(before.oi_day_high, oi.max(axis=0)),
                np.minimum(before.oi_day_low, oi.min(axis=0)),
            )
        self._turnover = self._turnover + (price * quantity).sum(axis=0)
        volume = flat(batch.volume)[-1]
        average = np.where(volume > 0, (self._turnover + volume // 2) // np.maximum(volume, 1), 0)
        bid_quantity, ask_quantity = deep(batch.bid_quantity), deep(batch.ask_quantity)
        return Snapshot(
            cycle=cycle,
            step=last,
            last_price=price[-1],
            last_quantity=quantity[-1],
            average_price=average,
            volume=volume,
            buy_quantity=bid_quantity.sum(axis=1),
            sell_quantity=ask_quantity.sum(axis=1),
            open=opening,
            high=high,
            low=low,
            close=opening,
            oi=oi[-1],
            oi_day_high=oi_high,
            oi_day_low=oi_low,
            bid_price=deep(batch.bid_price),
            bid_quantity=bid_quantity,
            bid_orders=deep(batch.bid_orders),
            ask_price=deep(batch.ask_price),
            ask_quantity=ask_quantity,
            ask_orders=deep(batch.ask_orders),
        )

    def _master_order(self, batch: TickBatch) -> I64:
        """Column permutation from the feed's token order (its own grouping) to the master's."""
        order = batch.token[: len(self.tokens)]
        if not np.array_equal(order, self._feed_order):
            column_of = {token: col for col, token in enumerate(order.tolist())}
            self._perm = np.array([column_of[t] for t in self.tokens.tolist()], dtype=np.int64)
            self._feed_order = order.copy()
        return self._perm
