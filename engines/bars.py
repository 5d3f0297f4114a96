"""One-minute bars built from ticks, per instrument."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from engines.market.feed import Tick


@dataclass(frozen=True, slots=True)
class Bar:
    token: int
    start: datetime  # IST, the minute the bar covers
    open: float
    high: float
    low: float
    close: float
    volume: int  # units traded in the minute (0 for indices)


class _Building:
    __slots__ = ("close", "high", "low", "open", "start_volume", "volume")

    def __init__(self, price: float, volume: int) -> None:
        self.open = self.high = self.low = self.close = price
        self.start_volume = self.volume = volume


class BarBuilder:
    """Accumulates ticks into the current minute's bars (`roll` closes them when the minute changes)
    and keeps the latest tick of each instrument."""

    def __init__(self) -> None:
        self._minute: datetime | None = None
        self._bars: dict[int, _Building] = {}
        self._last_volume: dict[int, int] = {}
        self.latest: dict[int, Tick] = {}  # the most recent tick of each instrument (quotes for fills)

    def add(self, ticks: Sequence[Tick]) -> None:
        """Fold one batch of ticks into the current bars (the engine's per-tick hot path)."""
        bars, latest = self._bars, self.latest
        for tick in ticks:
            token = tick["instrument_token"]
            latest[token] = tick
            price = tick["last_price"]
            bar = bars.get(token)
            if bar is None:
                bar = bars[token] = _Building(
                    price, self._last_volume.get(token, tick.get("volume_traded", 0))
                )
            elif price > bar.high:
                bar.high = price
            elif price < bar.low:
                bar.low = price
            bar.close = price
            bar.volume = tick.get("volume_traded", 0)

    def roll(self, now: datetime) -> list[Bar]:
        """Close and return the bars of the minute before `now`'s minute, if that minute has ended."""
        minute = now.replace(second=0, microsecond=0)
        if self._minute is None:
            self._minute = minute
            return []
        if minute == self._minute:
            return []
        closed = [
            Bar(token, self._minute, b.open, b.high, b.low, b.close, b.volume - b.start_volume)
            for token, b in self._bars.items()
        ]
        self._last_volume = {token: b.volume for token, b in self._bars.items()}
        self._bars = {}
        self._minute = minute
        return closed
