"""The execution model a Zerodha trader would recognise: market orders walk the depth, limit orders rest and
fill partly where the depth is short, IOC remainders are cancelled, stop orders wait for their trigger,
latency moves the fill to a later quote, and short options need their SPAN + exposure margin."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engines.artifacts.layout import ArtifactPaths
from engines.market.instruments import Instrument, Kind
from engines.market.ticks import DEPTH, TickBatch
from engines.orders import OrderType, Validity
from engines.quotes import Bar
from engines.risk import RiskLimits
from engines.strategies.api import Strategy
from engines.strategies.context import Context
from engines.strategies.short_straddle import ShortStraddle
from tests.factories import DAY, FUT, INDEX, option
from tests.test_engine import OPEN, at, build, orders

NO_LIMITS = RiskLimits(10**12, 10**12, 10)
Act = Callable[[Context], None]


class Acting(Strategy):
    """Runs the scripted actions on the first bar of their minute."""

    def __init__(self, script: dict[int, Act]) -> None:
        self.script = script
        self.state = {}

    def on_bar(self, bar: Bar) -> None:
        act = self.script.get(bar.start_ms)
        if act is not None and not self.state.get(str(bar.start_ms)):
            self.state[str(bar.start_ms)] = True
            act(self.ctx)


def book_ticks(
    rows: list[tuple[int, Instrument, float, list[tuple[float, int]], list[tuple[float, int]]]],
    last_quantity: int = 65,
) -> TickBatch:
    """Ticks from (ts, instrument, last, [(bid, units)...], [(ask, units)...]) in rupees."""
    n = len(rows)
    columns: dict[str, Any] = {
        "ts": np.array([r[0] for r in rows], dtype=np.int64),
        "token": np.array([r[1].token for r in rows], dtype=np.int64),
        "last_price": np.array([round(r[2] * 100) for r in rows], dtype=np.int64),
        "last_quantity": np.full(n, last_quantity, dtype=np.int64),
        "volume": np.zeros(n, dtype=np.int64),
        "oi": np.zeros(n, dtype=np.int64),
    }
    for side, column in (("bid", 3), ("ask", 4)):
        prices, units = np.zeros((n, DEPTH), dtype=np.int64), np.zeros((n, DEPTH), dtype=np.int64)
        for i, row in enumerate(rows):
            for level, (price, size) in enumerate(row[column]):
                prices[i, level], units[i, level] = round(price * 100), size
        columns[f"{side}_price"], columns[f"{side}_quantity"] = prices, units
        columns[f"{side}_orders"] = (units > 0).astype(np.int64)
    return TickBatch(**columns)


def steady(seconds: range, last: float = 27_500.0) -> list[Any]:
    bids = [(last - 0.1 * (k + 1), 65) for k in range(DEPTH)]
    asks = [(last + 0.1 * (k + 1), 65 * (k + 1)) for k in range(DEPTH)]
    return [(OPEN + s * 1000, FUT, last, bids, asks) for s in seconds]


def journal(tmp_path: Path) -> list[dict[str, Any]]:
    path = ArtifactPaths(tmp_path).journal(DAY, "t")
    return [json.loads(line) for line in path.read_text().splitlines()]


def run(tmp_path: Path, rows: list[Any], script: dict[int, Act], **kw: Any) -> list[dict[str, str]]:
    """The scripted orders' rows (the square-off of what they opened is left out)."""
    engine = build(tmp_path, book_ticks(rows), Acting(script), NO_LIMITS, **kw)
    engine.run(threading.Event())
    return [row for row in orders(tmp_path) if row["tag"] != "square_off"]


def test_a_market_order_larger_than_the_top_level_walks_the_depth_at_a_worse_average(tmp_path: Path) -> None:
    # Offers: 65 at 27500.10, 130 at 27500.20, 195 at 27500.30 ...; buy 260 units.
    (row,) = run(tmp_path, steady(range(0, 300)), {at(9, 15): lambda ctx: ctx.buy(FUT, 260, "big")})
    assert (row["status"], row["filled_quantity"], row["fills"]) == ("COMPLETE", "260", "1")
    assert row["touch_price"] == "27500.10"
    # 65 x 27500.10 + 130 x 27500.20 + 65 x 27500.30 = 7,150,052.00 over 260 units
    assert row["value"] == "7150052.00" and row["average_price"] == "27500.2000"
    assert float(row["average_price"]) > float(row["touch_price"])


def test_a_resting_limit_fills_only_once_the_market_trades_through_it_partly_where_depth_is_short(
    tmp_path: Path,
) -> None:
    rows = steady(range(0, 120))  # 09:15:00 - 09:16:59: offers from 27500.10 up, far above the limit
    touching = [(27_495.0, 130)]  # 09:17:00: the offer comes down to the limit's price, but only 130 units
    rows.append((OPEN + 120_000, FUT, 27_496.0, [(27_494.0, 65)], touching))
    rows += steady(range(121, 180), last=27_496.0)  # back above: nothing more fills
    rows.append((OPEN + 180_000, FUT, 27_494.5, [(27_494.0, 65)], [(27_496.0, 65)]))  # 09:18: trades through
    rows += steady(range(181, 300), last=27_496.0)
    script = {at(9, 15): lambda ctx: ctx.buy(FUT, 195, "dip", order_type=OrderType.LIMIT, price=27_495.0)}
    (row,) = run(tmp_path, rows, script)
    fills = [e for e in journal(tmp_path) if e["event"] == "fill" and e["order_id"] == row["order_id"]]
    assert [(e["ts_ist"][11:19], e["fill_levels"]) for e in fills] == [
        ("09:17:00", [[130, 2_749_500]]),  # short depth: 130 of 195
        ("09:18:00", [[65, 2_749_500]]),  # the trade through at 27494.50 fills the rest at the limit
    ]
    assert (row["status"], row["filled_quantity"], row["average_price"], row["fills"]) == (
        "COMPLETE",
        "195",
        "27495.0000",
        "2",
    )


def test_an_ioc_remainder_is_cancelled(tmp_path: Path) -> None:
    # The five offer levels hold 65 + 130 + 195 + 260 + 325 = 975 units; ask for 1,300.
    script = {at(9, 15): lambda ctx: ctx.buy(FUT, 1_300, "ioc", validity=Validity.IOC)}
    (row,) = run(tmp_path, steady(range(0, 300)), script)
    assert (row["status"], row["quantity"], row["filled_quantity"]) == ("CANCELLED", "1300", "975")
    assert row["reason"] == "IOC: the rest could not fill at once"


def test_an_sl_order_waits_for_its_trigger_then_works_as_a_limit(tmp_path: Path) -> None:
    rows = steady(range(0, 200))
    rows += steady(range(200, 260), last=27_519.0)  # just below the trigger
    rows += steady(range(260, 400), last=27_520.5)  # 09:19:20: the last price reaches the trigger
    script = {
        at(9, 15): lambda ctx: ctx.buy(
            FUT, 65, "breakout", order_type=OrderType.SL, price=27_521.0, trigger_price=27_520.0
        )
    }
    (row,) = run(tmp_path, rows, script)
    events = {e["event"]: e for e in journal(tmp_path) if e.get("order_id") == row["order_id"]}
    assert events["order"]["status"] == "TRIGGER PENDING"
    assert events["triggered"]["ts_ist"][11:19] == "09:19:20"
    assert events["fill"]["ts_ist"][11:19] == "09:19:20"
    assert events["fill"]["fill_levels"] == [[65, 2_752_060]]  # the best offer, 27520.60, within the limit
    assert row["status"] == "COMPLETE" and row["order_type"] == "SL"


def test_latency_moves_the_fill_to_a_later_quote(tmp_path: Path) -> None:
    # The offer rises by 0.10 every second; an order decided at 09:16:00 with 1.5 s of latency reaches the
    # market at 09:16:01.5 and takes the first quote after that: the one stamped 09:16:02.
    rows = [
        (OPEN + s * 1000, FUT, 27_500.0 + s / 10, [(27_499.9 + s / 10, 650)], [(27_500.1 + s / 10, 650)])
        for s in range(0, 300)
    ]
    script = {at(9, 15): lambda ctx: ctx.buy(FUT, 65, "late")}
    (now,) = run(tmp_path / "now", rows, script)
    (late,) = run(tmp_path / "late", rows, script, latency_ms=1_500)
    assert now["average_price"] == f"{27_500.1 + 60 / 10:.4f}"  # the 09:16:00 offer
    assert late["average_price"] == f"{27_500.1 + 62 / 10:.4f}"  # the 09:16:02 offer
    assert late["placed_ist"][11:19] == "09:16:00" and late["ts_ist"][11:19] == "09:16:02"


def chain_ticks(seconds: range) -> list[Any]:
    ce, pe = option(27_500, Kind.CE), option(27_500, Kind.PE)
    rows: list[Any] = []
    for s in seconds:
        ts = OPEN + s * 1000
        rows.append((ts, INDEX, 27_490.0, [], []))
        for leg, premium in ((ce, 120.0), (pe, 110.0)):
            rows.append((ts, leg, premium, [(premium - 0.05, 6_500)], [(premium + 0.05, 6_500)]))
    return rows


def straddle(tmp_path: Path, capital: int) -> list[dict[str, str]]:
    strategy = ShortStraddle(ShortStraddle.Params(entry_time="09:20", exit_time="15:00"), None)  # type: ignore[arg-type]
    instruments = (INDEX, option(27_500, Kind.CE), option(27_500, Kind.PE))
    engine = build(
        tmp_path, book_ticks(chain_ticks(range(0, 600))), strategy, NO_LIMITS, instruments, capital=capital
    )
    engine.run(threading.Event())
    return orders(tmp_path)


def test_a_short_straddle_is_rejected_when_its_margin_exceeds_the_accounts_with_both_figures(
    tmp_path: Path,
) -> None:
    rows = straddle(tmp_path, capital=150_000_00)  # 1.5 lakh
    sells = [r for r in rows if r["side"] == "SELL"]
    # The call, 10 points out of the money: SPAN 10% of 65 x 27,490 less 65 x 10, plus exposure 2% of
    # 65 x 27,490: 1,78,685 - 650 + 35,737 = 2,13,772.00.
    assert [(r["symbol"], r["status"]) for r in sells] == [
        ("NIFTY26D0127500CE", "REJECTED"),
        ("NIFTY26D0127500PE", "REJECTED"),
    ]
    assert sells[0]["reason"] == (
        "Insufficient funds. Required margin is 213772.00 but available margin is 150000.00"
    )
    rows = straddle(tmp_path / "rich", capital=500_000_00)
    assert {(r["symbol"], r["side"], r["status"]) for r in rows if r["tag"] == "entry"} == {
        ("NIFTY26D0127500CE", "SELL", "COMPLETE"),
        ("NIFTY26D0127500PE", "SELL", "COMPLETE"),
    }
