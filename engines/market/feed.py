"""What a market-data feed gives an engine: batches of ticks shaped like the Kite python client's.

KiteTicker calls `on_ticks(ws, ticks)` with a list of dicts; every feed here yields the same shape
(one list per moment), so the simulator, a replay and the live feed are interchangeable. Field names
follow kiteconnect 5.2.2's parser (shared/reference/KITE_AND_NSE.md §2.3). The simulator fills the
subset the engines use: for tradables `tradable, mode, instrument_token, last_price,
last_traded_quantity, volume_traded, last_trade_time, exchange_timestamp` and a one-level `depth`
(the touch); for indices `tradable, mode, instrument_token, last_price, exchange_timestamp`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol, TypedDict

from engines.instruments import Instrument


class DepthLevel(TypedDict):
    quantity: int
    price: float
    orders: int


class Depth(TypedDict):
    buy: list[DepthLevel]
    sell: list[DepthLevel]


class Tick(TypedDict, total=False):
    tradable: bool
    mode: str
    instrument_token: int
    last_price: float
    last_traded_quantity: int
    volume_traded: int
    last_trade_time: datetime
    exchange_timestamp: datetime
    depth: Depth


class Feed(Protocol):
    """A source of tick batches for a fixed set of instruments, in market-time order."""

    @property
    def instruments(self) -> Sequence[Instrument]:
        """The subscribed instruments, in the order their ticks come in each batch."""
        ...

    def batches(
        self, stop: threading.Event, after: datetime | None = None
    ) -> Iterator[tuple[datetime, Sequence[Tick]]]:
        """Yield (market time, ticks at that time) until the session ends or `stop` is set, skipping
        moments at or before `after` (a restart resumes where its checkpoint left off)."""
        ...
