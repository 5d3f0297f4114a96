"""Clocks the engine is given: simulated (paced against wall time, or as fast as possible) or wall."""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime
from typing import Protocol

from engines.nse_calendar import now_ist


class Clock(Protocol):
    def now(self) -> datetime:
        """Current market time, IST-aware."""
        ...

    def advance_to(self, moment: datetime, stop: threading.Event) -> None:
        """Move to `moment`; a paced clock waits for it. Returns early when `stop` is set."""
        ...


class SimClock:
    """Market time moved by the feed; at finite `speed` it keeps pace with speed x wall time."""

    def __init__(self, start: datetime, speed: float) -> None:
        self._start = start
        self._now = start
        self._speed = speed
        self._wall_start = time.monotonic()

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime, stop: threading.Event) -> None:
        if not math.isinf(self._speed):
            due = self._wall_start + (moment - self._start).total_seconds() / self._speed
            delay = due - time.monotonic()
            if delay > 0:
                stop.wait(delay)
        self._now = moment

    def restart_pacing_at(self, moment: datetime) -> None:
        """Resume pacing from `moment` (after a restart skipped the part of the day already traded)."""
        self._start = self._now = moment
        self._wall_start = time.monotonic()


class WallClock:
    """Real IST time, for a live feed: time passes by itself."""

    def now(self) -> datetime:
        return now_ist()

    def advance_to(self, moment: datetime, stop: threading.Event) -> None:
        return None
