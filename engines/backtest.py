"""Backtests: the day's engines run again, in-process and as fast as they go, into a directory of their own.

The same strategies, risk checks and execution model as the paper day, over a recorded day
(`recording`: an artifacts directory holding market/<date>/) or over the simulator. A backtest writes only
under `out_dir` (its own orders.csv, signals.csv, journal and checkpoints); it never appends to the paper
day's CSVs and never reads or writes its checkpoints. The end-of-day job and `session backtest` use it.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from engines.artifacts.layout import ArtifactPaths
from engines.assembly import assemble
from engines.config import Config, EngineName, FeedKind
from engines.errors import ConfigError
from engines.market.source import MarketSource, RecordedMarket, SimMarket

MARKER = ".paperfleet-backtest"  # a directory with it is a backtest's, and may be cleared for the next run


@dataclass(frozen=True, slots=True)
class BacktestResult:
    day: date
    out_dir: Path
    engines: dict[str, dict[str, Any]]  # per engine: status, ticks, orders, wall_s


def backtest_day(
    config: Config,
    day: date,
    out_dir: Path,
    *,
    engines: Sequence[EngineName] | None = None,
    recording: Path | None = None,
) -> BacktestResult:
    """Run `day` again with `config`'s engines (or `engines`) into `out_dir`, over `recording` or the
    simulator. `out_dir` is cleared first when it holds an earlier backtest; any other non-empty directory
    is refused, so a backtest can never overwrite a paper day."""
    _prepare(out_dir, config)
    feed = FeedKind.REPLAY if recording is not None else FeedKind.SIM
    market_data = config.market_data.model_copy(
        update={
            "feed": feed,
            "record": False,
            "sim": config.market_data.sim.model_copy(update={"date": day, "speed": float("inf")}),
            "replay": config.market_data.replay.model_copy(update={"recording": recording}),
        }
    )
    run = config.model_copy(update={"artifacts_dir": out_dir, "market_data": market_data, "faults": None})
    paths = ArtifactPaths(out_dir)
    market: MarketSource = (
        RecordedMarket.from_artifacts(recording, run) if recording else SimMarket(run, paths)
    )
    if recording is not None:
        market.master.write(paths.instruments(day))
    results: dict[str, dict[str, Any]] = {}
    for name in engines or run.engines.enabled():
        engine = assemble(name, run, market, logging.getLogger(f"backtest.{name.value}"))
        if engine is None:
            continue
        started = time.perf_counter()
        try:
            engine.run(threading.Event())
        finally:
            engine.close()
        results[name.value] = {
            "status": engine.status.value,
            "ticks": engine.ticks,
            "orders": engine.orders,
            "wall_s": round(time.perf_counter() - started, 3),
        }
    return BacktestResult(day, out_dir, results)


def _prepare(out_dir: Path, config: Config) -> None:
    if out_dir.resolve() == config.artifacts_dir.resolve():
        raise ConfigError(f"backtest output {out_dir} is the paper day's artifacts directory; pick another")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).exists():
            raise ConfigError(
                f"backtest output {out_dir} is not empty and is not an earlier backtest's; "
                f"pick an empty directory"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).write_text("written by engines/backtest.py: cleared at the next backtest into it\n")
