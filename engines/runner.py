"""Runs engines: one per process, or several in one process with one thread each (layout single).

Signals: SIGTERM and SIGINT set one stop event that every engine checks between batches, so each
writes its stop event and checkpoint and the process exits 0 within a few seconds. If one engine
fails, the others are stopped and the process exits 1. When an engine ends, one JSON line on stdout
sums it up (engine, status, ticks, orders, wall_s, ticks_per_s); the logs go to stderr.
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
from engines.assembly import assemble
from engines.config import Config, EngineName
from engines.engine import Engine
from engines.errors import EngineFailure, ExitCode
from engines.market.source import open_market

log = logging.getLogger("engines")


def run_engines(names: tuple[EngineName, ...], config: Config) -> ExitCode:
    """Assemble every engine first (config problems surface before anything trades), then run them."""
    engines: list[Engine] = []
    market = open_market(config, ArtifactPaths(config.artifacts_dir))
    for name in names:
        engine = assemble(name, config, market, logging.getLogger(name.value))
        if engine is not None:
            engines.append(engine)
    stop = threading.Event()
    _install_stop_handlers(stop)
    failures: dict[str, str] = {}
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
    return ExitCode.FAILURE if failures else ExitCode.OK


def _run_one(engine: Engine, stop: threading.Event, failures: dict[str, str]) -> None:
    started = time.perf_counter()
    try:
        engine.run(stop)
    except EngineFailure as exc:
        engine.log.error("failed: %s", exc)
        failures[engine.name] = str(exc)
    except Exception as exc:  # a bug: keep the traceback, and still stop the others
        engine.log.exception("failed unexpectedly")
        failures[engine.name] = f"{type(exc).__name__}: {exc}"
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
