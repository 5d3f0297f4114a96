"""The shared Kite rate limiter: several processes hammer one limit file and the measured rate never
exceeds the limit (as three engine containers share the artifacts bind mount)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engines.artifacts.layout import ArtifactPaths
from engines.kite.ratelimit import (
    KITE_LIMITS,
    MARGIN_S,
    FileRateLimiter,
    KiteLimits,
    LimiterStopped,
    RateLimit,
    Route,
)
from tests.helpers import ROOT

CHILD = """
import sys, time
from pathlib import Path
from engines.kite.ratelimit import FileRateLimiter, RateLimit
path, requests, per_s, count, start = sys.argv[1:]
limiter = FileRateLimiter(Path(path), RateLimit(int(requests), float(per_s)))
time.sleep(max(0.0, float(start) - time.monotonic()))  # every process starts hammering at once
for _ in range(int(count)):
    slot = limiter.acquire()
    print(slot, time.monotonic(), flush=True)  # the slot, and when the caller would send its request
"""


def hammer(path: Path, limit: RateLimit, processes: int, each: int) -> tuple[list[float], list[float], float]:
    """Run `processes` processes taking `each` slots as fast as they can: every slot time, every moment a
    request would go out (both sorted), and the wall time from the common start to the last slot."""
    start = time.monotonic() + 1.0  # time for the interpreters to start
    args = [str(path), str(limit.requests), str(limit.per_s), str(each), str(start)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    lines = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        lines += [tuple(map(float, line.split())) for line in out.splitlines()]
    assert len(lines) == processes * each
    slots = sorted(slot for slot, _ in lines)
    sends = sorted(send for _, send in lines)
    return slots, sends, slots[-1] - start


def tightest_window(moments: list[float], requests: int) -> float:
    """The shortest time spanned by requests + 1 consecutive moments: above the window, no window of
    that length ever held more than `requests`."""
    return min(b - a for a, b in zip(moments, moments[requests:], strict=False))


def test_processes_hammering_one_limit_never_exceed_it(tmp_path: Path) -> None:
    limit = RateLimit(3, 0.15)  # Kite's historical limit, seven times faster: the test stays quick
    slots, sends, elapsed = hammer(tmp_path / "ratelimit" / "historical", limit, processes=4, each=4)
    assert tightest_window(slots, limit.requests) >= limit.per_s + MARGIN_S - 1e-6
    assert tightest_window(sends, limit.requests) >= limit.per_s  # the margin absorbs the jitter
    # ... and the limit is used, not just respected: 16 slots, 3 per window, are done 5 windows on.
    assert elapsed < 5 * (limit.per_s + MARGIN_S) + 0.5


def test_threads_of_one_process_share_the_limit_too(tmp_path: Path) -> None:
    limiter = FileRateLimiter(tmp_path / "quote", RateLimit(2, 0.1))
    slots: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(3):
            slot = limiter.acquire()
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(slots) == 12 and tightest_window(sorted(slots), 2) >= 0.1 + MARGIN_S - 1e-6


def test_a_stop_ends_the_wait_without_taking_a_slot(tmp_path: Path) -> None:
    limiter = FileRateLimiter(tmp_path / "quote", RateLimit(1, 30.0))
    limiter.acquire()
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    began = time.monotonic()
    with pytest.raises(LimiterStopped, match="stopped while waiting for a Kite rate-limit slot"):
        limiter.acquire(stop)
    assert time.monotonic() - began < 5
    assert len((tmp_path / "quote").read_text().splitlines()) == 1


def test_times_left_by_a_previous_boot_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "quote"
    path.write_text(f"{time.monotonic() + 10_000:.6f}\n")  # from the future: another boot's clock
    began = time.monotonic()
    FileRateLimiter(path, RateLimit(1, 30.0)).acquire()
    assert time.monotonic() - began < 1


def test_kites_limits_live_under_the_artifacts(tmp_path: Path) -> None:
    limits = KiteLimits(ArtifactPaths(tmp_path))
    assert limits[Route.QUOTE].path == tmp_path / "kite" / "ratelimit" / "quote"
    assert {route: limits[route].limit for route in Route} == {
        Route.QUOTE: RateLimit(1, 1.0),
        Route.HISTORICAL: RateLimit(3, 1.0),
        Route.OTHER: RateLimit(10, 1.0),
    }


@pytest.mark.slow
@pytest.mark.parametrize(("route", "processes", "each"), [(Route.QUOTE, 3, 2), (Route.HISTORICAL, 4, 5)])
def test_kites_own_limits_hold_across_processes(
    tmp_path: Path, route: Route, processes: int, each: int
) -> None:
    limit = KITE_LIMITS[route]
    slots, sends, _ = hammer(ArtifactPaths(tmp_path).kite_ratelimit(route.value), limit, processes, each)
    assert tightest_window(slots, limit.requests) >= limit.per_s + MARGIN_S - 1e-6
    assert tightest_window(sends, limit.requests) >= limit.per_s
