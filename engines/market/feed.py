"""What a market-data feed is to an engine: ticks of the subscribed instruments, up to a moment asked for.

Four sources implement it: the simulator, a recorded replay and a backtest are pulled (they make or read
ticks when asked, as fast as the engine's clock allows), and the live Kite feed is pushed (its socket
thread receives ticks whenever they come; `read` hands over what arrived). The engine cannot tell them
apart: it asks for the ticks up to its next moment, processes them, and moves on.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from engines.market.instruments import Instrument
from engines.market.ticks import TickBatch


class Feed(Protocol):
    def subscribe(self, instruments: Sequence[Instrument]) -> None:
        """Start delivering these instruments' ticks (from the next read on)."""
        ...

    def unsubscribe(self, instruments: Sequence[Instrument]) -> None: ...

    def open(self, after: int) -> None:
        """Position the feed so that the first read delivers ticks stamped after `after` (epoch ms):
        the open of the day, or the moment a resumed engine continues from."""
        ...

    def read(self, through: int, stop: threading.Event) -> TickBatch:
        """The ticks stamped after the previous read and at or before `through` (epoch ms), in time order.
        A pull feed returns at once; a push feed waits until its clock has passed `through` or `stop`
        is set."""
        ...

    def events(self) -> list[FeedEvent]:
        """What the feed's connection did since the last call (drops, reconnects, silences), for the
        journal; a pulled feed has none."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """Something a feed's connection did."""

    what: str  # connected, dropped, reconnecting, reconnected, error, malformed, silent, resumed, gave_up
    detail: dict[str, Any] = field(default_factory=dict)
