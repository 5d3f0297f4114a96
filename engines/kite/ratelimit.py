"""Kite's REST rate limits, kept across every process and container that share the artifacts directory.

Kite counts requests per API key and per second, whatever the layout: quote 1/s, historical 3/s, every
other endpoint 10/s (KITE_AND_NSE.md §1.4), and answers a breach with HTTP 429. Three engine containers
share the artifacts bind mount, so the limit is kept in a file there, `kite/ratelimit/<route>`: the send
times of the route's last requests, read and rewritten under an exclusive flock. A request may go when
fewer than `requests` of them fall within the last `per_s` seconds plus a margin for the jitter between
taking a slot and the request reaching Kite; otherwise the caller sleeps (without the lock) until the
oldest one leaves the window and tries again. The guarantee is a sliding window, so no fixed second of
Kite's can see more than the limit either.

Times are CLOCK_MONOTONIC, one clock for every process and container on a host (Docker gives containers
no time namespace of their own). Times from the future, left by a previous boot, are dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from engines.artifacts.layout import ArtifactPaths
from engines.errors import EngineFailure, StopRequested

MARGIN_S = 0.05  # added to every window: scheduling and network jitter between the slot and Kite


class Route(StrEnum):
    """The route families Kite limits separately (the file name under kite/ratelimit/)."""

    QUOTE = "quote"  # /quote, /quote/ltp, /quote/ohlc
    HISTORICAL = "historical"  # /instruments/historical/...
    OTHER = "other"  # every other endpoint: /instruments, /user/profile, ...


@dataclass(frozen=True, slots=True)
class RateLimit:
    requests: int  # at most this many ...
    per_s: float  # ... in any window of this many seconds

    def __post_init__(self) -> None:
        if self.requests < 1 or not self.per_s > 0:
            raise ValueError(f"a rate limit needs requests >= 1 and per_s > 0, got {self}")


KITE_LIMITS = {
    Route.QUOTE: RateLimit(1, 1.0),
    Route.HISTORICAL: RateLimit(3, 1.0),
    Route.OTHER: RateLimit(10, 1.0),
}


class LimiterStopped(StopRequested):
    """The stop event was set while waiting for a slot: no request was made."""


class FileRateLimiter:
    """At most `limit.requests` slots in any `limit.per_s + margin_s` seconds, for every process that
    uses the same `path` (threads included: each acquire opens its own descriptor, and flock locks
    belong to the open file)."""

    def __init__(
        self,
        path: Path,
        limit: RateLimit,
        margin_s: float = MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.limit = limit
        self.window_s = limit.per_s + margin_s
        self._clock = clock

    def acquire(self, stop: threading.Event | None = None) -> float:
        """Wait for a slot and take it; returns the slot's time (on `clock`). Raises LimiterStopped when
        `stop` is set while waiting."""
        while True:
            taken, moment = self._try_take()
            if taken:
                return moment
            if stop is None:
                time.sleep(moment)
            elif stop.wait(moment):
                raise LimiterStopped(f"stopped while waiting for a Kite rate-limit slot ({self.path.name})")

    def _try_take(self) -> tuple[bool, float]:
        """(True, the slot's time) when a slot was free and is now taken; else (False, seconds to wait)."""
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = self._clock()
            # Every time was written under this lock, so none is later than now, except a previous boot's.
            recent = [t for t in _read_times(fd) if now - self.window_s < t <= now]
            if len(recent) < self.limit.requests:
                _write_times(fd, [*recent, now][-self.limit.requests :])
                return True, now
            return False, max(0.0, recent[-self.limit.requests] + self.window_s - now)
        finally:
            os.close(fd)  # drops the lock

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o664)
        except OSError as exc:
            raise EngineFailure(
                f"{self.path}: cannot open Kite's shared rate-limit file ({exc.strerror}); every engine "
                f"must be able to write it: give the artifacts directory to the container user "
                f"(session run does, as root)"
            ) from None


def _read_times(fd: int) -> list[float]:
    size = os.fstat(fd).st_size
    times = []
    for line in os.pread(fd, size, 0).decode("ascii", "replace").splitlines():
        with contextlib.suppress(ValueError):
            times.append(float(line))
    return sorted(times)


def _write_times(fd: int, times: list[float]) -> None:
    payload = "".join(f"{t:.6f}\n" for t in times).encode()
    os.pwrite(fd, payload, 0)
    os.ftruncate(fd, len(payload))


class KiteLimits:
    """The limiters of every route family, under one artifacts directory."""

    def __init__(self, paths: ArtifactPaths, limits: dict[Route, RateLimit] | None = None) -> None:
        table = KITE_LIMITS | (limits or {})
        self._limiters = {
            route: FileRateLimiter(paths.kite_ratelimit(route.value), table[route]) for route in Route
        }

    def __getitem__(self, route: Route) -> FileRateLimiter:
        return self._limiters[route]
