"""Ticks inside the engine: columnar batches of numpy arrays, one row per tick, in time order.

A dict per tick (Kite's python shape) costs more than the whole engine does with it, so Kite-shaped dicts
exist only at the Kite edge and are converted there once. Prices are int64 paise, times int64 epoch
milliseconds. Columns and the Kite `full`-mode fields they carry:

    ts            exchange_timestamp          token         instrument_token
    last_price    last_price                  last_quantity last_traded_quantity
    volume        volume_traded               oi            oi
    bid_price, bid_quantity, bid_orders       depth.buy[0..4].price|quantity|orders   (shape n x 5)
    ask_price, ask_quantity, ask_orders       depth.sell[0..4]...

Indices carry only `last_price`; their other columns are 0. An empty depth level is 0 on every field.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

DEPTH = 5
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TickBatch:
    ts: I64
    token: I64
    last_price: I64
    last_quantity: I64
    volume: I64
    oi: I64
    bid_price: I64
    bid_quantity: I64
    bid_orders: I64
    ask_price: I64
    ask_quantity: I64
    ask_orders: I64

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, rows: slice | I64) -> TickBatch:
        """The rows selected by a slice or an index array, as a batch."""
        return TickBatch(*(getattr(self, name)[rows] for name in COLUMNS))

    def split_at(self, moment: int) -> tuple[TickBatch, TickBatch, TickBatch]:
        """(ticks before `moment`, ticks at it, ticks after it)."""
        first = int(np.searchsorted(self.ts, moment, side="left"))
        last = int(np.searchsorted(self.ts, moment, side="right"))
        return self.take(slice(0, first)), self.take(slice(first, last)), self.take(slice(last, None))

    @staticmethod
    def empty() -> TickBatch:
        flat = np.zeros(0, dtype=np.int64)
        deep = np.zeros((0, DEPTH), dtype=np.int64)
        return TickBatch(flat, flat, flat, flat, flat, flat, deep, deep, deep, deep, deep, deep)

    @staticmethod
    def concat(batches: list[TickBatch]) -> TickBatch:
        batches = [b for b in batches if len(b)]
        if not batches:
            return TickBatch.empty()
        if len(batches) == 1:
            return batches[0]
        return TickBatch(*(np.concatenate([getattr(b, name) for b in batches]) for name in COLUMNS))

    def sorted_by_time(self) -> TickBatch:
        """The same ticks in time order (stable: ticks of one moment keep their order)."""
        if len(self) < 2 or bool(np.all(self.ts[1:] >= self.ts[:-1])):
            return self
        return self.take(np.argsort(self.ts, kind="stable"))


COLUMNS = tuple(f.name for f in fields(TickBatch))
DEPTH_COLUMNS = ("bid_price", "bid_quantity", "bid_orders", "ask_price", "ask_quantity", "ask_orders")
