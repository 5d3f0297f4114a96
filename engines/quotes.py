"""What the engine knows of the market: each subscribed instrument's latest quote and current 1-minute bar.

State is flat numpy arrays indexed by slot (one slot per instrument ever subscribed today), and a batch
of ticks is folded in with a handful of vectorised operations: the engine's per-tick cost. Bars close on
the clock (`close_bars` at every minute boundary), whether or not a tick came after the minute: an
instrument that did not trade in the minute gets a flat bar at its last price and no volume.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

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

    def close_bars(self, start_ms: int) -> list[Bar]:
        """Close the minute starting at `start_ms` for every instrument seen today, in token order."""
        size = len(self.instruments)
        seen = np.flatnonzero(self.seen[:size])
        if not len(seen):
            return []
        traded = self.in_bar[seen]
        close = self.last_price[seen]
        opens = np.where(traded, self.bar_open[seen], close).tolist()
        highs = np.where(traded, self.bar_high[seen], close).tolist()
        lows = np.where(traded, self.bar_low[seen], close).tolist()
        volumes = np.where(traded, self.volume[seen] - self.bar_start_volume[seen], 0).tolist()
        closes = close.tolist()
        self.in_bar[:size] = False
        instruments = self.instruments
        bars = [
            Bar(instruments[s], start_ms, o / 100, h / 100, lo / 100, c / 100, v)
            for s, o, h, lo, c, v in zip(seen.tolist(), opens, highs, lows, closes, volumes, strict=True)
        ]
        bars.sort(key=lambda bar: bar.instrument.token)
        return bars

    # --- what fills see ------------------------------------------------------------------------

    def touch(self, slot: int, buying: bool) -> Paise | None:
        """The best offer (buying) or bid (selling), or None when that side is empty."""
        price = int(self.ask_price[slot, 0] if buying else self.bid_price[slot, 0])
        return price if price > 0 else None

    # --- checkpoint ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        size = len(self.instruments)
        return {
            "tokens": [i.token for i in self.instruments],
            **{name: getattr(self, name)[:size].tolist() for name in _ARRAYS},
        }

    def restore(self, data: dict[str, Any], instruments: Sequence[Instrument]) -> None:
        """Load a snapshot; `instruments` are the snapshot's tokens, resolved, in the same order."""
        self.add(instruments)
        size = len(instruments)
        for name in _ARRAYS:
            getattr(self, name)[:size] = np.array(data[name], dtype=getattr(self, name).dtype).reshape(
                (size, *getattr(self, name).shape[1:])
            )


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
