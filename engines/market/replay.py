"""A recorded day played back as a pull feed: the ticks of the subscribed instruments, in time order.

The recording is one or more time-ordered streams of ticks (one per engine that recorded the day, or one
made in memory by a benchmark); reading up to a moment slices each stream and merges the slices, keeping a
tick that two streams hold once. So a replay runs as fast as the engine's clock allows, or paced like the
day, and never sorts the whole day.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from engines.market.instruments import Instrument
from engines.market.ticks import TickBatch


class ReplayFeed:
    def __init__(self, streams: list[TickBatch]) -> None:
        self._streams = [stream.sorted_by_time() for stream in streams]
        self._positions = [0] * len(self._streams)
        self._subscribed: set[int] = set()
        self._tokens = np.zeros(0, dtype=np.int64)

    def subscribe(self, instruments: Sequence[Instrument]) -> None:
        self._subscribed |= {i.token for i in instruments}
        self._tokens = np.array(sorted(self._subscribed), dtype=np.int64)

    def unsubscribe(self, instruments: Sequence[Instrument]) -> None:
        self._subscribed -= {i.token for i in instruments}
        self._tokens = np.array(sorted(self._subscribed), dtype=np.int64)

    def open(self, after: int) -> None:
        self._positions = [int(np.searchsorted(s.ts, after, side="right")) for s in self._streams]

    def read(self, through: int, stop: threading.Event) -> TickBatch:
        slices = []
        for k, stream in enumerate(self._streams):
            end = int(np.searchsorted(stream.ts, through, side="right"))
            if end > self._positions[k]:
                part = stream.take(slice(self._positions[k], end))
                wanted = np.isin(part.token, self._tokens)
                slices.append(part if wanted.all() else part.take(np.flatnonzero(wanted)))
                self._positions[k] = end
        if len(slices) < 2:
            return slices[0] if slices else TickBatch.empty()
        merged = TickBatch.concat(slices)
        # One key per (time, instrument): its sorted unique values give the merged order without repeats.
        _, dense = np.unique(merged.token, return_inverse=True)
        _, first = np.unique((merged.ts << 20) | dense.astype(np.int64), return_index=True)
        return merged.take(first)

    def close(self) -> None:
        return None
