"""What every strategy is to the engine: a lifecycle component fed closed 1-minute bars.

A strategy reads positions through a read-only view and answers each closed bar with signals (target
positions). It never places orders itself: the engine turns signals into orders, the risk manager may
refuse them and the broker fills them. `snapshot`/`restore` carry its per-symbol state through a
checkpoint, so a restarted engine continues where it stopped.
"""

from __future__ import annotations

from typing import Any, Protocol

from engines.orders import Signal
from engines.portfolio import Position
from engines.quotes import Bar


class BookView(Protocol):
    def quantity(self, symbol: str) -> int: ...

    def open_positions(self) -> list[Position]: ...


class Strategy(Protocol):
    def on_bar(self, bar: Bar) -> list[Signal]:
        """React to one closed 1-minute bar of a subscribed instrument."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready state for the checkpoint."""
        ...

    def restore(self, state: dict[str, Any]) -> None: ...
