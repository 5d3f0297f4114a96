"""Clocks the engine is given: simulated (paced against wall time, or as fast as possible) or wall.

The engine keeps market time itself (epoch ms: the moment it is processing); a clock only says how far
ahead it may read and makes it wait for wall time where the clock is paced.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

from engines.market.calendar import ms, now_ist

PACED_SPAN_MS = 1_000  # a paced clock reads a second of market at a time, so progress stays smooth
MAX_WAIT_S = 1.0  # the longest a clock waits in one call
LIVE_SPAN_MS = 10  # a live engine takes what arrived every 10 ms: a frame's quotes are current within that


class Clock(Protocol):
    def horizon(self, done: int, event: int) -> int:
        """How far to read next: up to `event` (the next scheduled moment), from `done`."""
        ...

    def wait_until(self, moment: int, stop: threading.Event) -> bool:
        """Wait until `moment` may be processed (at once for an unpaced clock), `stop` is set, or at most
        MAX_WAIT_S have passed (a live engine waiting for the open keeps its heartbeat going); True when
        `moment` was reached."""
        ...

    def restart_pacing_at(self, moment: int) -> None:
        """Pace from `moment` on as if the clock had just started there (after a resume or a catch-up)."""
        ...


class SimClock:
    """Market time as fast as the engine can go (`speed` inf), or `speed` times wall time."""

    def __init__(self, start: int, speed: float) -> None:
        self._speed = speed
        self._start = start
        self._wall_start = time.monotonic()

    @property
    def paced(self) -> bool:
        return not math.isinf(self._speed)

    def horizon(self, done: int, event: int) -> int:
        return min(event, done + PACED_SPAN_MS) if self.paced else event

    def wait_until(self, moment: int, stop: threading.Event) -> bool:
        if not self.paced:
            return True
        delay = self._wall_start + (moment - self._start) / 1000 / self._speed - time.monotonic()
        return _wait(delay, stop)

    def restart_pacing_at(self, moment: int) -> None:
        self._start = moment
        self._wall_start = time.monotonic()


class WallClock:
    """Real IST time, for a live feed: moments come when the wall clock reaches them."""

    def horizon(self, done: int, event: int) -> int:
        return min(event, max(done, ms(now_ist())) + LIVE_SPAN_MS)

    def wait_until(self, moment: int, stop: threading.Event) -> bool:
        return _wait((moment - ms(now_ist())) / 1000, stop)

    def restart_pacing_at(self, moment: int) -> None:
        return None


def _wait(delay_s: float, stop: threading.Event) -> bool:
    if delay_s > 0:
        stop.wait(min(delay_s, MAX_WAIT_S))
    return delay_s <= MAX_WAIT_S
