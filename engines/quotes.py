"""What the engine knows of the market: each subscribed instrument's latest quote and current 1-minute bar.

State is flat numpy arrays indexed by slot (one slot per instrument ever subscribed today), and a batch
of ticks is folded in with a handful of vectorised operations: the engine's per-tick cost. Bars close on
the clock (`close_bars` at every minute boundary), whether or not a tick came after the minute: an
instrument that did not trade in the minute gets a flat bar at its last price and no volume.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from engines.market.instruments import Instrument
from engines.market.ticks import DEPTH, I64, TickBatch
from engines.money import Paise

_GROW = 64


@dataclass(frozen=True, slots=True)
class Bar:
    """One instrument's closed minute. Prices in rupees (floats are for indicators, never the ledger)."""

    instrument: Instrument
    start_ms: int  # the minute the bar covers, epoch ms
    open: float
    high: float
    low: float
    close: float
    volume: int  # units traded in the minute (0 for indices)


F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class MinuteBars:
    """Every instrument's bar of one minute, as columns in token order: what a strategy with many
    instruments decides on in a few vectorised steps. Iterating yields each row as a Bar."""

    start_ms: int
    instruments: list[Instrument]
    tokens: I64
    open: F64  # rupees
    high: F64
    low: F64
    close: F64
    volume: I64

    @classmethod
    def of(cls, start_ms: int, bars: Sequence[Bar]) -> MinuteBars:
        """Bars of one minute (any order) as columns."""
        rows = sorted(bars, key=lambda bar: bar.instrument.token)

        def column(values: list[float]) -> F64:
            return np.array(values, dtype=np.float64)

        return cls(
            start_ms,
            [b.instrument for b in rows],
            np.array([b.instrument.token for b in rows], dtype=np.int64),
            column([b.open for b in rows]),
            column([b.high for b in rows]),
            column([b.low for b in rows]),
            column([b.close for b in rows]),
            np.array([b.volume for b in rows], dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.instruments)

    def bar(self, row: int) -> Bar:
        return Bar(
            self.instruments[row],
            self.start_ms,
            float(self.open[row]),
            float(self.high[row]),
            float(self.low[row]),
            float(self.close[row]),
            int(self.volume[row]),
        )

    def __iter__(self) -> Iterator[Bar]:
        return (self.bar(row) for row in range(len(self.instruments)))

    def where(self, keep: Callable[[Instrument], bool]) -> Iterator[Bar]:
        """The bars of the instruments `keep` accepts (a strategy that watches a few of many)."""
        return (self.bar(row) for row, instrument in enumerate(self.instruments) if keep(instrument))


class Quotes:
    def __init__(self) -> None:
        self.instruments: list[Instrument] = []
        self._slot: dict[int, int] = {}
        self._lookup_tokens = np.zeros(0, dtype=np.int64)
        self._lookup_slots = np.zeros(0, dtype=np.int64)
        n = 0
        self.seen = np.zeros(n, dtype=bool)
        self.last_price = np.zeros(n, dtype=np.int64)
        self.volume = np.zeros(n, dtype=np.int64)
        self.last_quantity = np.zeros(n, dtype=np.int64)
        self.oi = np.zeros(n, dtype=np.int64)
        self.ts = np.zeros(n, dtype=np.int64)
        self.bid_price = np.zeros((n, DEPTH), dtype=np.int64)
        self.bid_quantity = np.zeros((n, DEPTH), dtype=np.int64)
        self.ask_price = np.zeros((n, DEPTH), dtype=np.int64)
        self.ask_quantity = np.zeros((n, DEPTH), dtype=np.int64)
        self.in_bar = np.zeros(n, dtype=bool)
        self.bar_open = np.zeros(n, dtype=np.int64)
        self.bar_high = np.zeros(n, dtype=np.int64)
        self.bar_low = np.zeros(n, dtype=np.int64)
        self.bar_start_volume = np.zeros(n, dtype=np.int64)

    # --- slots -------------------------------------------------------------------------------------

    def add(self, instruments: Sequence[Instrument]) -> None:
        new = [i for i in instruments if i.token not in self._slot]
        if not new:
            return
        for instrument in new:
            self._slot[instrument.token] = len(self.instruments)
            self.instruments.append(instrument)
        size = len(self.instruments)
        if size > len(self.seen):
            self._grow(size + _GROW)
        order = np.argsort([i.token for i in self.instruments])
        self._lookup_tokens = np.array([self.instruments[k].token for k in order], dtype=np.int64)
        self._lookup_slots = order.astype(np.int64)

    def _grow(self, capacity: int) -> None:
        for name in _ARRAYS:
            old = getattr(self, name)
            grown = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            grown[: len(old)] = old
            setattr(self, name, grown)

    def drop(self, instruments: Sequence[Instrument]) -> None:
        """Stop closing bars for instruments no longer subscribed (their slots stay for a later return)."""
        for instrument in instruments:
            slot = self._slot.get(instrument.token)
            if slot is not None:
                self.seen[slot] = self.in_bar[slot] = False

    def slot(self, token: int) -> int | None:
        return self._slot.get(token)

    def slots_of(self, tokens: I64) -> I64:
        """Slot of each token, -1 for tokens not subscribed (a late tick after an unsubscribe)."""
        if not len(self._lookup_tokens):
            return np.full(len(tokens), -1, dtype=np.int64)
        at = np.searchsorted(self._lookup_tokens, tokens)
        at = np.minimum(at, len(self._lookup_tokens) - 1)
        found = self._lookup_tokens[at] == tokens
        slots: I64 = np.where(found, self._lookup_slots[at], -1)
        return slots

    # --- the hot path --------------------------------------------------------------------------

    def apply(self, ticks: TickBatch, slots: I64) -> None:
        """Fold ticks (in time order, all of known slots) into the quotes and the current bars."""
        n = len(slots)
        if not n:
            return
        order = np.argsort(slots, kind="stable")  # groups each slot's ticks, keeping their time order
        grouped = slots[order]
        starts = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))
        ends = np.append(starts[1:], n) - 1
        uniq, first, last = grouped[starts], order[starts], order[ends]
        prices = ticks.last_price[order]
        high = np.maximum.reduceat(prices, starts)
        low = np.minimum.reduceat(prices, starts)
        fresh = ~self.in_bar[uniq]
        fresh_slots = uniq[fresh]
        self.bar_open[fresh_slots] = ticks.last_price[first[fresh]]
        # The bar's volume counts from the last volume seen before it (the first tick's own, for a new slot).
        self.bar_start_volume[fresh_slots] = np.where(
            self.seen[fresh_slots], self.volume[fresh_slots], ticks.volume[first[fresh]]
        )
        self.bar_high[uniq] = np.where(fresh, high, np.maximum(self.bar_high[uniq], high))
        self.bar_low[uniq] = np.where(fresh, low, np.minimum(self.bar_low[uniq], low))
        self.in_bar[uniq] = True
        self.seen[uniq] = True
        self.last_price[uniq] = ticks.last_price[last]
        self.volume[uniq] = ticks.volume[last]
        self.last_quantity[uniq] = ticks.last_quantity[last]
        self.oi[uniq] = ticks.oi[last]
        self.ts[uniq] = ticks.ts[last]
        self.bid_price[uniq] = ticks.bid_price[last]
        self.bid_quantity[uniq] = ticks.bid_quantity[last]
        self.ask_price[uniq] = ticks.ask_price[last]
        self.ask_quantity[uniq] = ticks.ask_quantity[last]

    def close_bars(self, start_ms: int) -> MinuteBars:
        """Close the minute starting at `start_ms` for every instrument seen today, in token order."""
        seen = self.seen[self._lookup_slots]  # the lookup is in token order
        slots, tokens = self._lookup_slots[seen], self._lookup_tokens[seen]
        traded = self.in_bar[slots]
        close = self.last_price[slots]
        self.in_bar[: len(self.instruments)] = False
        instruments = self.instruments
        return MinuteBars(
            start_ms,
            [instruments[s] for s in slots.tolist()],
            tokens,
            np.where(traded, self.bar_open[slots], close) / 100,
            np.where(traded, self.bar_high[slots], close) / 100,
            np.where(traded, self.bar_low[slots], close) / 100,
            close / 100,
            np.where(traded, self.volume[slots] - self.bar_start_volume[slots], 0),
        )

    # --- what fills see ------------------------------------------------------------------------

    def touch(self, slot: int, buying: bool) -> Paise | None:
        """The best offer (buying) or bid (selling), or None when that side is empty."""
        price = int(self.ask_price[slot, 0] if buying else self.bid_price[slot, 0])
        return price if price > 0 else None

    # --- checkpoint ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Each array's rows as base64 of its little-endian bytes: a JSON list of the 90,000 numbers of
        3,000 instruments costs some 10 ms to encode every second, this about one."""
        size = len(self.instruments)
        return {
            "tokens": [i.token for i in self.instruments],
            **{name: _encode(getattr(self, name)[:size]) for name in _ARRAYS},
        }

    def restore(self, data: dict[str, Any], instruments: Sequence[Instrument]) -> None:
        """Load a snapshot; `instruments` are the snapshot's tokens, resolved, in the same order."""
        self.add(instruments)
        size = len(instruments)
        for name in _ARRAYS:
            array = getattr(self, name)
            array[:size] = _decode(data[name], array.dtype).reshape((size, *array.shape[1:]))


_ARRAYS = (
    "seen",
    "last_price",
    "volume",
    "last_quantity",
    "oi",
    "ts",
    "bid_price",
    "bid_quantity",
    "ask_price",
    "ask_quantity",
    "in_bar",
    "bar_open",
    "bar_high",
    "bar_low",
    "bar_start_volume",
)


def _encode(rows: NDArray[Any]) -> str:
    return base64.b64encode(rows.astype(rows.dtype.newbyteorder("<")).tobytes()).decode("ascii")


def _decode(text: str, dtype: np.dtype[Any]) -> NDArray[Any]:
    return np.frombuffer(base64.b64decode(text), dtype=dtype.newbyteorder("<")).astype(dtype)
