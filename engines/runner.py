"""Runs engines: one per process, or several in one process with one thread each (layout single).

Signals: SIGTERM and SIGINT set one stop event that every engine checks between batches, so each writes its
stop event and checkpoint and the process exits 0 within a few seconds. If one engine fails, the others are
stopped and the process exits with its code (1, or 4 for a failed live feed). When an engine ends, one JSON
line on stdout sums it up (engine, status, ticks, orders, wall_s, ticks_per_s); the logs go to stderr.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from types import FrameType

from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.lock import ArtifactsLock
from engines.assembly import assemble
from engines.config import Config, EngineName
from engines.engine import Engine
from engines.errors import EngineFailure, ExitCode, StopRequested
from engines.market.source import open_market

log = logging.getLogger("engines")


def run_engines(names: tuple[EngineName, ...], config: Config) -> ExitCode:
    """Assemble every engine first (config problems surface before anything trades), then run them.
    Exit code: OK, or the first failure's (FEED when the live feed failed, else FAILURE)."""
    stop = threading.Event()
    _install_stop_handlers(stop)
    config.artifacts_dir.mkdir(parents=True, exist_ok=True)
    # Before anything is read or written: a controller's day or another run of these engines refuses us.
    lock = ArtifactsLock.for_engines(config.artifacts_dir, tuple(n.value for n in names))
    try:
        return _run_all(names, config, stop)
    finally:
        lock.release()


def _run_all(names: tuple[EngineName, ...], config: Config, stop: threading.Event) -> ExitCode:
    engines: list[Engine] = []
    try:
        market = open_market(config, ArtifactPaths(config.artifacts_dir), stop)
    except StopRequested:
        log.info("stopped before the day started: nothing traded")
        return ExitCode.OK
    for name in names:
        engine = assemble(name, config, market, logging.getLogger(name.value))
        if engine is not None:
            engines.append(engine)
    failures: dict[str, ExitCode] = {}
    threads = [
        threading.Thread(target=_run_one, args=(engine, stop, failures), name=engine.name, daemon=True)
        for engine in engines
    ]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        for thread in threads:
            thread.join(timeout=0.2)
        if failures and not stop.is_set():
            log.error("stopping the other engines because %s failed", ", ".join(failures))
            stop.set()
    return next(iter(failures.values()), ExitCode.OK)


def _run_one(engine: Engine, stop: threading.Event, failures: dict[str, ExitCode]) -> None:
    started = time.perf_counter()
    try:
        engine.run(stop)
    except StopRequested:
        engine.log.info("stopped before the open: nothing traded")
    except EngineFailure as exc:
        engine.log.error("failed: %s", exc)
        failures[engine.name] = exc.exit_code
    except Exception:  # a bug: keep the traceback, and still stop the others
        engine.log.exception("failed unexpectedly")
        failures[engine.name] = ExitCode.FAILURE
    finally:
        engine.close()
        wall = time.perf_counter() - started
        summary = {
            "engine": engine.name,
            "status": engine.status.value,
            "ticks": engine.ticks,
            "orders": engine.orders,
            "wall_s": round(wall, 3),
            "ticks_per_s": round(engine.ticks / wall) if wall > 0 else None,
        }
        sys.stdout.write(json.dumps(summary) + "\n")  # one write: lines of several threads never mix
        sys.stdout.flush()


def _install_stop_handlers(stop: threading.Event) -> None:
    def request_stop(signum: int, _frame: FrameType | None) -> None:
        if not stop.is_set():
            log.info("%s received: stopping engines cleanly", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
