"""Benchmark of the end-of-day job over a day of at least 50,000 orders (prints figures, asserts nothing).

    .venv/bin/python scripts/bench_eod.py [--orders 52000] [--keep DIR]

It writes a synthetic day that follows docs/artifacts.md (three engines; each order a signal, an order
and a fill or reject event in the journal, its orders.csv row made by the engines' own `order_row`; round
trips on 50 symbols per engine; a fifth of the orders rejected; finished checkpoints), then times
`python -m session.eod --no-backtest` end to end in a fresh process, and each stage in this one. The
daily backtest is left out: it replays the simulator's day, not this synthetic one (its cost is that of
running the engines: scripts/bench_engines.py).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.artifacts.layout import ArtifactPaths  # noqa: E402
from engines.artifacts.recorder import ORDER_COLUMNS, order_row  # noqa: E402
from engines.market.calendar import iso  # noqa: E402

DAY = date(2026, 11, 27)
OPEN_MS = 1795760100000  # 2026-11-27 09:15:00 IST
SESSION_MS = (6 * 60 + 5) * 60_000  # to 15:20
SHARES = {"fno": 0.1, "equity": 0.75, "options": 0.15}


def charges(value_paise: int, sell: bool) -> dict[str, int]:
    items = {
        "brokerage": min(2000, value_paise * 3 // 10_000),
        "stt": value_paise * 25 // 100_000 if sell else 0,
        "exchange": value_paise * 297 // 10_000_000,
        "sebi": value_paise // 1_000_000,
        "stamp": 0 if sell else value_paise * 3 // 100_000,
        "igst": 0,
        "cgst": 0,
        "sgst": 0,
        "dp": 0,
    }
    items["igst"] = (items["brokerage"] + items["exchange"] + items["sebi"]) * 18 // 100
    return {**items, "gst": items["igst"], "total": sum(items.values())}


def engine_day(engine: str, orders: int, rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One engine's journal events and its final checkpoint."""
    symbols = [f"{engine.upper()}{i:02d}" for i in range(50)]
    price = {s: rng.randint(10_000, 500_000) for s in symbols}
    held = {s: 0 for s in symbols}
    cost = {s: 0 for s in symbols}
    events: list[dict[str, Any]] = []
    realised_total = charges_total = 0
    seq = 0

    def add(kind: str, ts_ms: int, **fields: Any) -> dict[str, Any]:
        nonlocal seq
        seq += 1
        event = {"seq": seq, "ts_ist": iso(ts_ms), "engine": engine, "event": kind, **fields,
                 "wall_time": "2026-11-29T01:00:00.000+05:30"}  # fmt: skip
        events.append(event)
        return event

    add("start", OPEN_MS, day=DAY.isoformat(), instruments=50, from_ist=None, replaying_events=0)
    for n in range(1, orders + 1):
        ts = OPEN_MS + SESSION_MS * n // (orders + 1)
        symbol = rng.choice(symbols)
        price[symbol] = max(100, price[symbol] + rng.randint(-50, 50) * 5)
        quantity = rng.randint(1, 20) * 5
        side = "SELL" if held[symbol] > 0 else "BUY" if held[symbol] < 0 else rng.choice(["BUY", "SELL"])
        if held[symbol]:
            quantity = abs(held[symbol])  # close the round trip
        touch = price[symbol]
        order = {"order_id": f"{engine}-20261127-{n:06d}", "placed_ist": iso(ts), "strategy": "ema_cross",
                 "symbol": symbol, "exchange": "NSE", "instrument_type": "EQ", "product": "MIS",
                 "order_type": "MARKET", "validity": "DAY", "side": side, "quantity": quantity, "lot_size": 1,
                 "price_paise": 0, "trigger_price_paise": 0, "touch_paise": touch,
                 "tag": "exit" if held[symbol] else "entry"}  # fmt: skip
        empty = {"filled_quantity": 0, "value_paise": 0, "charges_paise": charges(0, False),
                 "realised_paise": 0, "fills": 0}  # fmt: skip
        add("signal", ts, strategy="ema_cross", symbol=symbol, action=side, target_quantity=0,
            price=touch / 100, reason="bench")  # fmt: skip
        add("order", ts, **order, status="OPEN", **empty)
        if not held[symbol] and rng.random() < 0.2:
            add("reject", ts, **order, status="REJECTED", **empty, reason="insufficient margin: bench")
            continue
        fill_price = touch + (5 if side == "BUY" else -5) * rng.randint(0, 1)
        value = fill_price * quantity
        fee = charges(value, side == "SELL")
        signed = quantity if side == "BUY" else -quantity
        realised = 0
        if held[symbol]:  # closing: realised against the average cost
            realised = (cost[symbol] - value) if side == "BUY" else (value - cost[symbol])
            held[symbol], cost[symbol] = 0, 0
        else:
            held[symbol], cost[symbol] = signed, value
        realised_total += realised
        charges_total += fee["total"]
        add("fill", ts, **order, status="COMPLETE", filled_quantity=quantity, value_paise=value,
            charges_paise=fee, realised_paise=realised, fills=1, fill_levels=[[quantity, fill_price]],
            fill_charges_paise=fee, fill_realised_paise=realised)  # fmt: skip
    positions = [
        {"symbol": s, "token": i, "quantity": held[s], "cost_paise": cost[s] if held[s] > 0 else -cost[s],
         "last_price_paise": price[s], "product": "MIS"}
        for i, s in enumerate(symbols)
    ]  # fmt: skip
    add(
        "stop",
        OPEN_MS + SESSION_MS,
        reason="close",
        net_pnl_paise=0,
        open_positions=sum(1 for s in held if held[s]),
    )
    checkpoint = {
        "schema": 3, "engine": engine, "date": DAY.isoformat(), "status": "finished",
        "as_of_ist": iso(OPEN_MS + SESSION_MS), "last_seq": seq, "orders": orders,
        "realised_paise": realised_total, "charges_paise": charges_total,
        "unrealised_paise": sum(p["quantity"] * p["last_price_paise"] - p["cost_paise"] for p in positions),
        "positions": positions, "desk": {"orders": orders, "rejections": 0, "working": []},
    }  # fmt: skip
    return events, checkpoint


def write_day(root: Path, total: int) -> int:
    paths = ArtifactPaths(root)
    rng = random.Random(7)
    rows = []
    for engine, share in SHARES.items():
        events, checkpoint = engine_day(engine, int(total * share), rng)
        journal = paths.journal(DAY, engine)
        journal.parent.mkdir(parents=True, exist_ok=True)
        journal.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events))
        paths.checkpoint(engine).parent.mkdir(parents=True, exist_ok=True)
        paths.checkpoint(engine).write_text(json.dumps(checkpoint))
        rows += [order_row(e) for e in events if e["event"] in ("fill", "reject")]
    rng.shuffle(rows)  # engines append concurrently: rows interleave
    with paths.orders.open("w") as handle:
        handle.write(",".join(ORDER_COLUMNS) + "\n")
        for row in rows:
            handle.write(",".join(str(row[c]).replace(",", ";") for c in ORDER_COLUMNS) + "\n")
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=52_000)
    parser.add_argument("--keep", type=Path, help="write the day here (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = args.keep or Path(temp)
        began = time.perf_counter()
        rows = write_day(root, args.orders)
        journal_lines = sum(1 for p in (root / "journal").rglob("*.jsonl") for _ in p.open())
        size = (root / "orders.csv").stat().st_size / 1e6
        made = time.perf_counter() - began
        print(f"synthetic day: {rows:,} orders, {journal_lines:,} journal events, orders.csv {size:.1f} MB "
              f"(made in {made:.1f} s)")  # fmt: skip

        command = [sys.executable, "-m", "session.eod", "--date", DAY.isoformat(), "--artifacts", str(root),
                   "--no-backtest", "--log-level", "WARNING"]  # fmt: skip
        walls = []
        for _ in range(3):
            began = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
            walls.append(time.perf_counter() - began)
        print(
            f"python -m session.eod (a fresh process, imports included): best {min(walls):.2f} s, "
            f"runs {', '.join(f'{w:.2f}' for w in walls)} s (target: under 5 s)"
        )

        from session.eod.charts import write_charts
        from session.eod.inputs import load_inputs
        from session.eod.render import render_markdown
        from session.eod.report import analyse

        paths = ArtifactPaths(root)
        stages = {}
        t = time.perf_counter()
        inputs = load_inputs(paths, DAY)
        stages["read and validate"] = time.perf_counter() - t
        t = time.perf_counter()
        analysis = analyse(DAY, inputs)
        stages["analytics"] = time.perf_counter() - t
        t = time.perf_counter()
        analysis.report["charts"] = write_charts(Path(temp) / "charts", DAY.isoformat(), analysis.curves,
                                                 analysis.report["by_symbol"])  # fmt: skip
        stages["charts"] = time.perf_counter() - t
        t = time.perf_counter()
        render_markdown(analysis.report)
        json.dumps(analysis.report)
        stages["Markdown and JSON"] = time.perf_counter() - t
        print("stages in one process: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))
        total = analysis.report["total"]
        results = [e["consistency"]["result"] for e in analysis.report["engines"].values()]
        print(f"report: {total['orders_placed']:,} orders, {total['trades']:,} trades, net "
              f"{total['net_pnl_rupees']}, consistency {results}")  # fmt: skip


if __name__ == "__main__":
    main()
