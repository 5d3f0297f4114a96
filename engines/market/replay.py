"""A recorded day played back as a pull feed: the ticks of the subscribed instruments, in time order.

The recording is one TickBatch (from the day's market record, or made in memory by a benchmark); reading
up to a moment slices it, so a replay runs as fast as the engine's clock allows, or paced like the day.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from engines.market.instruments import Instrument
from engines.market.ticks import TickBatch


class ReplayFeed:
    def __init__(self, recording: TickBatch) -> None:
        self._ticks = recording.sorted_by_time()
        self._subscribed: set[int] = set()
        self._tokens = np.zeros(0, dtype=np.int64)
        self._position = 0

    def subscribe(self, instruments: Sequence[Instrument]) -> None:
        self._subscribed |= {i.token for i in instruments}
        self._tokens = np.array(sorted(self._subscribed), dtype=np.int64)

    def unsubscribe(self, instruments: Sequence[Instrument]) -> None:
        self._subscribed -= {i.token for i in instruments}
        self._tokens = np.array(sorted(self._subscribed), dtype=np.int64)

    def open(self, after: int) -> None:
        self._position = int(np.searchsorted(self._ticks.ts, after, side="right"))

    def read(self, through: int, stop: threading.Event) -> TickBatch:
        end = int(np.searchsorted(self._ticks.ts, through, side="right"))
        if end <= self._position:
            return TickBatch.empty()
        rows = slice(self._position, end)
        self._position = end
        wanted = np.isin(self._ticks.token[rows], self._tokens, assume_unique=False)
        if wanted.all():
            return self._ticks.take(rows)
        return self._ticks.take(np.flatnonzero(wanted) + rows.start)

    def close(self) -> None:
        return None
