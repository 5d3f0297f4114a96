"""Benchmark of the live Kite path: the emulator's socket -> KiteTicker (the official client's connection) ->
our frame parser -> the engine's feed -> quotes, bars -> the strategy -> risk -> paper fill -> artifacts.

    .venv/bin/python scripts/bench_kite.py [--instruments 3000] [--live-s 150] [--speed 200] [--burst-s 30]

The Kite emulator runs as its own process on loopback (`python -m engines.kite.emulator`), the engine (the
fno engine's assembly with the config's EMA crossover, its universe replaced by the first --instruments of
the day's dump: futures, options and stocks, all subscribed in full mode on one connection) in this one.
It prints, each with a JSON line:

1. live, the emulator at market speed (every instrument ticks once a second), for --live-s seconds:
   - frame -> quotes: from a frame's arrival on the socket (the hub's callback, before our parser) to the
     engine having folded its ticks into its quotes and bars, per frame: median, p99, max;
   - minute -> decision: from each minute boundary (wall clock) to the strategy's on_bars for that
     minute having decided (its return, less the time its order calls took to risk-check, paper-fill and
     journal the orders; that total is printed too): every sample (one a minute);
2. the same decision time over many minutes: the engine on the simulator at full speed with the same
   instruments (one tick a second each), the time from a minute's moment starting to the decision, and
   to the orders executed: median, p99, max over --sim-minutes minutes (the square-off minute, where
   strategies no longer decide, has no sample);
3. throughput: the emulator at --speed market seconds per second for --burst-s seconds: ticks per second
   the hub received from the socket and the engine took into its strategy's quotes and bars.
It prints figures; it asserts nothing. Warm-up bars are off (3,000 instruments would take 1,000 s of
Kite's 3 requests/s history limit).
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
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

from engines.artifacts.layout import ArtifactPaths  # noqa: E402
from engines.assembly import assemble  # noqa: E402
from engines.config import EngineName, load_config  # noqa: E402
from engines.engine import Engine  # noqa: E402
from engines.kite.market import KiteMarket  # noqa: E402
from engines.kite.secrets import KiteSecrets, write_kite_secrets  # noqa: E402
from engines.market.calendar import MINUTE_MS, now_ist  # noqa: E402
from engines.market.instruments import Instrument  # noqa: E402
from engines.market.source import SimMarket  # noqa: E402
from engines.market.ticks import TickBatch  # noqa: E402
from engines.quotes import MinuteBars  # noqa: E402
from engines.universe import FixedUniverse  # noqa: E402

API_KEY, API_SECRET, TOKEN = "benchkey", "bench-secret-0123456789", "bench-access-token-0123456789abcdef"


def start_emulator(scratch: Path, speed: float) -> tuple[subprocess.Popen[str], int]:
    credentials = scratch / f"credentials-{speed:g}.yaml"
    credentials.write_text(
        yaml.safe_dump({"api_key": API_KEY, "api_secret": API_SECRET, "access_token": TOKEN})
    )
    credentials.chmod(0o600)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engines.kite.emulator",
            "--credentials",
            str(credentials),
            "--speed",
            str(speed),
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = int(json.loads(process.stdout.readline())["port"])
    return process, port


def write_config(scratch: Path, port: int, minutes: int) -> Path:
    now = now_ist()
    start = now.replace(second=0, microsecond=0)
    close = start + timedelta(minutes=minutes)
    secrets = scratch / "secrets"
    secrets.mkdir(exist_ok=True)
    write_kite_secrets(
        secrets / "kite.yaml",
        KiteSecrets(SecretStr(API_KEY), SecretStr(API_SECRET), SecretStr(TOKEN), now, SecretStr(API_KEY)),
    )
    raw = yaml.safe_load((ROOT / "configs" / "dev.yaml").read_text())
    raw["artifacts_dir"] = str(scratch / f"artifacts-{port}")
    raw["secrets_dir"] = str(secrets)
    raw["session"] = {
        "market_open_ist": f"{start:%H:%M}",
        "square_off_ist": f"{close - timedelta(minutes=1):%H:%M}",
        "market_close_ist": f"{close:%H:%M}",
    }
    raw["market_data"] = {
        "feed": "kite",
        "record": False,
        "kite": {
            "api_root": f"http://127.0.0.1:{port}",
            "ws_root": f"ws://127.0.0.1:{port}",
            "emulator": True,
        },
    }
    raw["trading"]["equity_universe"] = ["RELIANCE"]
    path = scratch / f"config-{port}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def pick(instruments: list[Instrument], count: int) -> list[Instrument]:
    """Futures first, then stocks, then options: `count` of the dump's instruments."""
    order = {"FUT": 0, "EQ": 1}
    return sorted(instruments, key=lambda i: (order.get(i.kind.value, 2), i.token))[:count]


class Probe:
    """Wraps the hub's frame callback, the engine's clock wait and the strategy's on_bars (instance
    attributes, so the engine's code is untouched).

    A frame's latency runs from its arrival (the hub's callback, before our parser) to the end of the
    engine's fold of the read that took it into its quotes and bars (Engine._ingest)."""

    def __init__(self, engine: Engine, market: KiteMarket) -> None:
        self.lock = threading.Lock()
        self.arrived: list[float] = []  # perf_counter of each frame, not yet taken by a read
        self.taken: list[float] = []  # the frames the engine's last read drained
        self.frame_latency_ms: list[float] = []
        self.received = 0
        self.decisions_ms: list[float] = []  # wall time of on_bars' return - the minute boundary
        hub: Any = market._hub
        feed: Any = engine.feed
        frame, read, deliver, ingest = hub.frame, feed.read, feed.deliver, engine._ingest

        def on_deliver(ticks: TickBatch) -> None:
            self.received += len(ticks)
            deliver(ticks)

        def on_frame(payload: bytes) -> None:
            arrival = time.perf_counter()
            frame(payload)
            with self.lock:
                self.arrived.append(arrival)

        def on_read(through: int, stop: threading.Event) -> TickBatch:
            with self.lock:
                self.taken, self.arrived = self.arrived, []
            batch: TickBatch = read(through, stop)
            return batch

        def on_ingest(ticks: TickBatch) -> None:
            ingest(ticks)
            if len(ticks):
                now = time.perf_counter()
                self.frame_latency_ms += [(now - t) * 1000 for t in self.taken]
                self.taken = []

        hub.frame, feed.read, feed.deliver = on_frame, on_read, on_deliver
        engine._ingest = on_ingest  # type: ignore[method-assign]
        on_bars = engine.strategy.on_bars
        self.orders = OrderTimer(engine)

        def timed(bars: MinuteBars) -> None:
            self.orders.spent = 0.0
            on_bars(bars)
            done = time.time() * 1000 - (bars.start_ms + MINUTE_MS)
            self.decisions_ms.append(done - self.orders.spent)
            self.executed_ms.append(done)

        self.executed_ms: list[float] = []  # ... with its orders placed, risk-checked and paper-filled
        engine.strategy.on_bars = timed  # type: ignore[method-assign]


class OrderTimer:
    """Times the strategy's order calls (the context's target/buy/sell: risk, paper fill, journal, CSVs)."""

    def __init__(self, engine: Engine) -> None:
        self.spent = 0.0  # ms
        context: Any = engine.context
        for name in ("target", "buy", "sell"):
            setattr(context, name, self._timed(getattr(context, name)))

    def _timed(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.spent += (time.perf_counter() - started) * 1000

        return timed


def assemble_kite(config_path: Path, count: int) -> tuple[Engine, KiteMarket, int]:
    config = load_config(config_path)
    paths = ArtifactPaths(config.artifacts_dir)
    market = KiteMarket(config, paths)
    chosen = pick(list(market.master), count)
    engine = assemble(EngineName.FNO, config, market, logging.getLogger("bench"))
    assert engine is not None
    engine.universe = FixedUniverse(chosen)
    engine.history = None  # no warm-up: see the module's docstring
    return engine, market, len(chosen)


def pct(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    a = np.asarray(values)
    return {
        "n": len(values),
        "median": round(float(np.median(a)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
        "max": round(float(a.max()), 2),
    }


def live(scratch: Path, count: int, seconds: float) -> None:
    emulator, port = start_emulator(scratch, 1.0)
    try:
        engine, market, subscribed = assemble_kite(write_config(scratch, port, 30), count)
        probe = Probe(engine, market)
        stop = threading.Event()
        runner = threading.Thread(target=engine.run, args=(stop,), daemon=True)
        runner.start()
        time.sleep(seconds)
        stop.set()
        runner.join(30)
        engine.close()
    finally:
        emulator.terminate()
        emulator.wait(10)
    frames = pct(probe.frame_latency_ms[5:])  # the first frames come as the subscription settles
    decisions = [round(d, 1) for d in probe.decisions_ms]
    executed = [round(d, 1) for d in probe.executed_ms]
    print(
        f"live, {subscribed} instruments in full mode at one tick a second, {seconds:.0f} s: "
        f"frame -> quotes median {frames.get('median')} ms, p99 {frames.get('p99')} ms, "
        f"max {frames.get('max')} ms over {frames['n']} frames; minute -> decision {decisions} ms "
        f"(with its orders executed: {executed} ms); {engine.ticks:,} ticks, {engine.orders} orders"
    )
    print(
        json.dumps(
            {
                "bench": "kite_live",
                "instruments": subscribed,
                "frame_to_quotes_ms": frames,
                "minute_to_decision_ms": decisions,
                "minute_to_orders_executed_ms": executed,
                "ticks": engine.ticks,
                "orders": engine.orders,
            }
        )
    )


def simulated_decisions(scratch: Path, count: int, minutes: int) -> None:
    raw = yaml.safe_load((ROOT / "configs" / "dev.yaml").read_text())
    raw |= {"artifacts_dir": str(scratch / "sim-artifacts")}
    raw["trading"]["equity_universe"] = ["RELIANCE"]
    raw["market_data"] = {"feed": "sim", "record": False, "sim": {"date": "2026-11-27", "speed": "max"}}
    close = (9 * 60 + 15) + minutes
    raw["session"] = {
        "market_open_ist": "09:15",
        "square_off_ist": f"{(close - 1) // 60:02d}:{(close - 1) % 60:02d}",
        "market_close_ist": f"{close // 60:02d}:{close % 60:02d}",
    }
    path = scratch / "sim.yaml"
    path.write_text(yaml.safe_dump(raw))
    config = load_config(path)
    market = SimMarket(config, ArtifactPaths(config.artifacts_dir))
    engine = assemble(EngineName.FNO, config, market, logging.getLogger("bench"))
    assert engine is not None
    chosen = pick(list(market.master), count)
    engine.universe = FixedUniverse(chosen)
    decisions: list[float] = []
    executed: list[float] = []
    orders_per_minute: list[int] = []
    moment, on_bars = engine._moment, engine.strategy.on_bars
    orders = OrderTimer(engine)
    started_at = [0.0]

    def timed_moment(at_ms: int, at: TickBatch) -> None:
        started_at[0] = time.perf_counter()
        moment(at_ms, at)

    def timed_bars(bars: MinuteBars) -> None:
        orders.spent, before = 0.0, engine.orders
        on_bars(bars)
        done = (time.perf_counter() - started_at[0]) * 1000
        decisions.append(done - orders.spent)
        executed.append(done)
        orders_per_minute.append(engine.orders - before)

    engine._moment = timed_moment  # type: ignore[method-assign,assignment]
    engine.strategy.on_bars = timed_bars  # type: ignore[method-assign]
    started = time.perf_counter()
    engine.run(threading.Event())
    wall = time.perf_counter() - started
    engine.close()
    decided, done = pct(decisions), pct(executed)
    print(
        f"simulated, {len(chosen)} instruments, {minutes} minutes: minute -> decision median "
        f"{decided['median']} ms, p99 {decided['p99']} ms, max {decided['max']} ms; with its orders "
        f"executed median {done['median']} ms, p99 {done['p99']} ms ({np.median(orders_per_minute):.0f} "
        f"orders a minute at the median, {max(orders_per_minute)} at most, most of them entries refused at "
        f"max_open_positions); {engine.ticks:,} ticks in {wall:.1f} s ({engine.ticks / wall:,.0f} ticks/s)"
    )
    print(
        json.dumps(
            {
                "bench": "kite_decision_sim",
                "instruments": len(chosen),
                "minute_to_decision_ms": decided,
                "minute_to_orders_executed_ms": done,
                "orders": engine.orders,
            }
        )
    )


def burst(scratch: Path, count: int, speed: float, seconds: float) -> None:
    emulator, port = start_emulator(scratch, speed)
    try:
        engine, market, subscribed = assemble_kite(write_config(scratch, port, 30), count)
        probe = Probe(engine, market)
        stop = threading.Event()
        runner = threading.Thread(target=engine.run, args=(stop,), daemon=True)
        runner.start()
        time.sleep(5)  # connected and subscribed
        received0, ticks0, started = probe.received, engine.ticks, time.perf_counter()
        time.sleep(seconds)
        wall = time.perf_counter() - started
        received, ticks = probe.received - received0, engine.ticks - ticks0
        stop.set()
        runner.join(30)
        engine.close()
    finally:
        emulator.terminate()
        emulator.wait(10)
    print(
        f"throughput, {subscribed} instruments, emulator at {speed:g}x: the hub received "
        f"{received / wall:,.0f} ticks/s, the engine took {ticks / wall:,.0f} ticks/s into quotes, bars "
        f"and the strategy"
    )
    print(
        json.dumps(
            {
                "bench": "kite_throughput",
                "instruments": subscribed,
                "speed": speed,
                "received_per_s": round(received / wall),
                "engine_ticks_per_s": round(ticks / wall),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instruments", type=int, default=3000)
    parser.add_argument("--live-s", type=float, default=150)
    parser.add_argument("--sim-minutes", type=int, default=120)
    parser.add_argument("--speed", type=float, default=200)
    parser.add_argument("--burst-s", type=float, default=30)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        live(scratch, args.instruments, args.live_s)
        simulated_decisions(scratch, args.instruments, args.sim_minutes)
        burst(scratch, args.instruments, args.speed, args.burst_s)
    os._exit(0)  # the ticker's reactor thread does not end on its own


if __name__ == "__main__":
    main()
