"""Benchmark: each engine over one whole simulated day at max speed, one engine at a time on one core.

    .venv/bin/python scripts/bench_engines.py [--config configs/dev.yaml] [--date 2026-11-27]

For each engine it prints the instruments, ticks processed, wall and CPU seconds and ticks per second
of the full hot path (tick -> bars -> strategy -> risk -> paper fill -> artifacts), each engine in a
fresh process pinned to CPU 0, and the simulator alone (feed generation without the engine) so the
engine's own share is visible. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.assembly import FACTORIES  # noqa: E402
from engines.config import EngineName, load_config  # noqa: E402
from engines.market.sim import MarketSimulator, SimSession  # noqa: E402
from engines.portfolio import Book  # noqa: E402


def run_engine(engine: EngineName, config: str, day: str, artifacts: Path) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            f"engines.{engine.value}",
            "--config",
            config,
            "--date",
            day,
            "--artifacts",
            str(artifacts),
            "--speed",
            "max",
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        check=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {0}),
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    beat = json.loads((artifacts / "heartbeat" / f"{engine.value}.json").read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"ticks": beat["ticks"], "wall": wall, "cpu": cpu, "orders": beat["orders"]}


def feed_only(engine: EngineName, config_path: str, day: str) -> tuple[int, int, float]:
    config = load_config(config_path, {"market_data.sim.date": day})
    sim, session = config.market_data.sim, config.session
    market = MarketSimulator(
        SimSession(
            sim.seed,
            sim.trading_date(),
            session.market_open_ist,
            session.market_close_ist,
            sim.tick_interval_s,
        )
    )
    instruments, _ = FACTORIES[engine](config, market, Book(0))
    started, ticks = time.perf_counter(), 0
    for _, batch in market.feed(instruments).batches(threading.Event()):
        ticks += len(batch)
    return len(instruments), ticks, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/dev.yaml")
    parser.add_argument("--date", default="2026-11-27")
    args = parser.parse_args()
    os.sched_setaffinity(0, {0})
    print(f"one simulated day ({args.date}), speed max, each engine alone on CPU 0; config {args.config}")
    print(
        f"{'engine':<8} {'instr':>5} {'ticks':>10} {'wall s':>7} {'cpu s':>6} {'ticks/s':>9} {'orders':>6}"
        f" | {'sim-only s':>10} {'sim ticks/s':>11} {'engine share':>12}"
    )
    for engine in EngineName:
        instruments, ticks, sim_seconds = feed_only(engine, args.config, args.date)
        with tempfile.TemporaryDirectory() as artifacts:
            figures = run_engine(engine, args.config, args.date, Path(artifacts))
        share = 1 - sim_seconds / figures["wall"]
        print(
            f"{engine.value:<8} {instruments:>5} {figures['ticks']:>10,} {figures['wall']:>7.2f} "
            f"{figures['cpu']:>6.2f} {figures['ticks'] / figures['wall']:>9,.0f} {figures['orders']:>6.0f}"
            f" | {sim_seconds:>10.2f} {ticks / sim_seconds:>11,.0f} {share:>12.0%}"
        )


if __name__ == "__main__":
    main()
