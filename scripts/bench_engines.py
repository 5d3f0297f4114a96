"""Benchmark of the engine's hot path: tick -> bars -> strategy -> risk -> paper fill -> artifacts.

    .venv/bin/python scripts/bench_engines.py [--date 2026-11-27] [--instruments 50] [--repeat 3]

On one core (this process is pinned to CPU 0) it prints:
1. the simulator's own generation rate: one day of N stocks at one tick per second each;
2. the engine replaying that recorded day through the full engine (the equity engine's EMA crossover,
   risk, paper fills, journal, CSVs and checkpoints, in a temporary artifacts directory): ticks per second,
   best of --repeat runs;
3. a bare pure-Python loop computing the same EMA crossover (1-minute closes, fast/slow EMAs, crossings)
   over the same ticks, and engine / loop;
3b. the same engine run with the market recording on (its writer thread on the other core, then on the
   engine's own core): the hot path's overhead; and the replay rate of that Parquet recording;
4. the whole default day of each engine as its own process (`python -m engines.<name> --speed max`, the
   simulator included), with the engine's final JSON line.
Each section ends with one JSON line. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.artifacts.layout import ArtifactPaths  # noqa: E402
from engines.assembly import assemble  # noqa: E402
from engines.config import EngineName, load_config  # noqa: E402
from engines.market.calendar import MINUTE_MS  # noqa: E402
from engines.market.recording import read_recording  # noqa: E402
from engines.market.sim import MarketSimulator, SimFeed, SimSession  # noqa: E402
from engines.market.source import RecordedMarket  # noqa: E402
from engines.market.ticks import TickBatch  # noqa: E402


def record_day(
    config_path: str, day: str, instruments: int
) -> tuple[MarketSimulator, TickBatch, list[str], float]:
    config = load_config(config_path, {"market_data.sim.date": day})
    sim, session = config.market_data.sim, config.session
    market = MarketSimulator(
        SimSession(sim.seed, config.trading_date(), session.market_open_ist, session.market_close_ist, 1)
    )
    symbols = market.master.equities()[:instruments]
    feed = SimFeed(market)
    feed.subscribe([market.master.equity(s) for s in symbols])  # type: ignore[misc]
    feed.open(market.session.start_ms - 1)
    started = time.perf_counter()
    ticks = feed.read(market.session.end_ms, threading.Event())
    return market, ticks, symbols, time.perf_counter() - started


def run_engine(
    config_path: str,
    day: str,
    market: MarketSimulator,
    streams: list[TickBatch],
    symbols: list[str],
    record: bool,
    writer_cores: set[int],
    keep: Path | None = None,
) -> dict[str, float]:
    """The equity engine over `streams`. Its thread runs on CPU 0; the market recorder's writer thread on
    `writer_cores` ({0}: sharing the engine's core; {1}: the other one). `keep` keeps the artifacts."""
    with tempfile.TemporaryDirectory() as scratch:
        artifacts = keep or Path(scratch)
        config = load_config(
            config_path,
            {
                "market_data.sim.date": day,
                "market_data.record": record,
                "artifacts_dir": str(artifacts),
                "trading.equity_universe": symbols,
            },
        )
        source = RecordedMarket(market.master, streams, market.session.start_ms, float("inf"))
        os.sched_setaffinity(0, writer_cores)  # threads started now (the recorder's writer) inherit this
        engine = assemble(EngineName.EQUITY, config, source, logging.getLogger("bench"))
        os.sched_setaffinity(0, {0})
        assert engine is not None
        started = time.perf_counter()
        engine.run(threading.Event())
        hot = time.perf_counter() - started
        engine.close()  # the recorder's last part and the writer's join
        return {
            "ticks": engine.ticks,
            "wall_s": hot,
            "with_close_s": time.perf_counter() - started,
            "orders": engine.orders,
        }


def best_of(repeat: int, **kw: Any) -> dict[str, float]:
    return min((run_engine(**kw) for _ in range(repeat)), key=lambda r: r["wall_s"])


def bare_loop(ticks: TickBatch, fast: int, slow: int) -> tuple[float, int]:
    """The same EMA crossover in plain Python: 1-minute closes per token, EMAs on each close, crossings."""
    stamps, tokens, prices = ticks.ts.tolist(), ticks.token.tolist(), ticks.last_price.tolist()
    started = time.perf_counter()
    alpha_fast, alpha_slow = 2.0 / (fast + 1), 2.0 / (slow + 1)
    close: dict[int, float] = {}
    state: dict[int, list[float]] = {}  # token -> [fast, slow, bars, side]
    minute = stamps[0] // MINUTE_MS
    crossings = 0
    for ts, token, price in zip(stamps, tokens, prices, strict=True):
        if ts // MINUTE_MS != minute:
            minute = ts // MINUTE_MS
            for t, c in close.items():
                s = state.get(t)
                if s is None:
                    state[t] = [c, c, 1.0, 0.0]
                    continue
                s[0] += (c - s[0]) * alpha_fast
                s[1] += (c - s[1]) * alpha_slow
                s[2] += 1
                if s[2] >= slow and s[0] != s[1]:
                    side = 1.0 if s[0] > s[1] else -1.0
                    if s[3] and side != s[3]:
                        crossings += 1
                    s[3] = side
        close[token] = price / 100
    return time.perf_counter() - started, crossings


def whole_day(engine: EngineName, config: str, day: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as artifacts:
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                f"engines.{engine.value}",
                "--config",
                config,
                "--date",
                day,
                "--artifacts",
                artifacts,
                "--speed",
                "max",
                "--log-level",
                "WARNING",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            preexec_fn=lambda: os.sched_setaffinity(0, {0}),
        )
        wall = time.perf_counter() - started
    summary: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return {**summary, "process_wall_s": round(wall, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="configs/dev.yaml")
    parser.add_argument("--date", default="2026-11-27")
    parser.add_argument("--instruments", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.sched_setaffinity(0, {0})
    logging.basicConfig(level=logging.WARNING)

    market, ticks, symbols, sim_s = record_day(args.config, args.date, args.instruments)
    print(
        f"simulator: {len(ticks):,} ticks of {len(symbols)} stocks in {sim_s:.2f} s "
        f"= {len(ticks) / sim_s:,.0f} ticks/s"
    )
    print(
        json.dumps(
            {
                "bench": "simulator",
                "ticks": len(ticks),
                "wall_s": round(sim_s, 3),
                "ticks_per_s": round(len(ticks) / sim_s),
            }
        )
    )

    common = {"config_path": args.config, "day": args.date, "market": market, "symbols": symbols}
    runs = [run_engine(**common, streams=[ticks], record=False, writer_cores={0}) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["wall_s"])
    rate = best["ticks"] / best["wall_s"]
    print(
        f"engine (replay from memory, full hot path, recording off): {best['ticks']:,.0f} ticks, "
        f"{best['orders']:.0f} orders, best of {args.repeat}: {best['wall_s']:.3f} s = {rate:,.0f} ticks/s "
        f"(runs: {', '.join(format(r['wall_s'], '.3f') for r in runs)} s)"
    )
    loop_s, crossings = bare_loop(ticks, 9, 21)
    print(
        f"bare Python EMA-crossover loop: {loop_s:.3f} s = {len(ticks) / loop_s:,.0f} ticks/s, "
        f"{crossings} crossings"
    )
    print(f"engine / loop: {best['wall_s'] / loop_s:.2f} (time ratio; below 1 the engine is faster)")
    print(
        json.dumps(
            {
                "engine": "replay-equity",
                "ticks": int(best["ticks"]),
                "wall_s": round(best["wall_s"], 3),
                "ticks_per_s": round(rate),
                "bare_loop_s": round(loop_s, 3),
                "engine_over_loop": round(best["wall_s"] / loop_s, 3),
            }
        )
    )

    # Recording: the writer on the other core (how an engine container runs, with two CPUs), and sharing
    # the engine's core (the worst case). The hot path is engine.run; "with close" adds the last part.
    with tempfile.TemporaryDirectory() as recorded:
        other = best_of(args.repeat, **common, streams=[ticks], record=True, writer_cores={1}, keep=None)
        shared = best_of(args.repeat, **common, streams=[ticks], record=True, writer_cores={0}, keep=None)
        run_engine(**common, streams=[ticks], record=True, writer_cores={1}, keep=Path(recorded))
        for label, r in (("writer on the other core", other), ("writer on the engine's core", shared)):
            print(
                f"recording on, {label}: hot path {r['wall_s']:.3f} s "
                f"(+{100 * (r['wall_s'] / best['wall_s'] - 1):.1f}%), with the last part written "
                f"{r['with_close_s']:.3f} s (+{100 * (r['with_close_s'] / best['wall_s'] - 1):.1f}%)"
            )
        print(
            json.dumps(
                {
                    "bench": "recording",
                    "hot_path_overhead_pct_other_core": round(
                        100 * (other["wall_s"] / best["wall_s"] - 1), 1
                    ),
                    "hot_path_overhead_pct_same_core": round(
                        100 * (shared["wall_s"] / best["wall_s"] - 1), 1
                    ),
                }
            )
        )
        started = time.perf_counter()
        streams = read_recording(ArtifactPaths(Path(recorded)).market(date.fromisoformat(args.date)))
        load_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(recorded).rglob("*.parquet"))
        replay = best_of(args.repeat, **common, streams=streams, record=False, writer_cores={0})
        print(
            f"replay of the Parquet recording ({size / 1e6:.1f} MB): loaded in {load_s:.2f} s, engine "
            f"{replay['wall_s']:.3f} s = {replay['ticks'] / replay['wall_s']:,.0f} ticks/s; load and replay "
            f"{(replay['ticks']) / (load_s + replay['wall_s']):,.0f} ticks/s"
        )
        print(
            json.dumps(
                {
                    "bench": "replay",
                    "ticks": int(replay["ticks"]),
                    "load_s": round(load_s, 3),
                    "wall_s": round(replay["wall_s"], 3),
                    "ticks_per_s": round(replay["ticks"] / replay["wall_s"]),
                    "recording_mb": round(size / 1e6, 1),
                }
            )
        )

    for name in EngineName:
        print(json.dumps(whole_day(name, args.config, args.date)))


if __name__ == "__main__":
    main()
