"""The engine on hand-made market data: time-driven bars, fills at the deciding moment's quotes, loss limits
acting on the order's own effect, square-off, and the journal written before the book changes."""

from __future__ import annotations

import csv
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from engines.artifacts.checkpoints import StateStore
from engines.artifacts.files import ArtifactWriteError
from engines.artifacts.journal import Journal
from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.recorder import Recorder
from engines.assembly import index_levels
from engines.broker import PaperBroker
from engines.clock import SimClock, WallClock
from engines.desk import Desk, OrderUpdate
from engines.engine import Engine, Status, StopReason, TradingHours
from engines.margins import MarginModel
from engines.market.calendar import IST, iso, ms
from engines.market.instruments import Instrument, InstrumentMaster
from engines.market.replay import ReplayFeed
from engines.market.ticks import TickBatch
from engines.portfolio import Book
from engines.quotes import Bar, Quotes
from engines.risk import RiskLimits, RiskManager
from engines.strategies.api import Strategy
from engines.strategies.context import Context, StrategyError
from engines.universe import FixedUniverse
from tests.factories import DAY, FUT, STOCK, ticks

OPEN = ms(datetime(2026, 11, 27, 9, 15, tzinfo=IST))
SQUARE_OFF = ms(datetime(2026, 11, 27, 15, 20, tzinfo=IST))
CLOSE = ms(datetime(2026, 11, 27, 15, 30, tzinfo=IST))
MINUTE = 60_000
DAILY_25K = RiskLimits(2_500_000, 10**10, 10)  # the daily limit only


def at(hh: int, mm: int, ss: int = 0) -> int:
    return ms(datetime(2026, 11, 27, hh, mm, ss, tzinfo=IST))


class Scripted(Strategy):
    """A strategy that records the bars it is given and moves to the targets scripted per minute."""

    def __init__(self, script: dict[int, list[tuple[Instrument, int]]]) -> None:
        self.script = (
            script  # bar start ms -> (instrument, target) pairs, issued on the first bar of that minute
        )
        self.bars: list[Bar] = []
        self.updates: list[OrderUpdate] = []
        self.state = {}

    def on_bar(self, bar: Bar) -> None:
        self.bars.append(bar)
        if self.state.get(str(bar.start_ms)) or bar.start_ms not in self.script:
            return
        self.state[str(bar.start_ms)] = True
        for instrument, quantity in self.script[bar.start_ms]:
            self.ctx.target(instrument, quantity, "scripted")

    def on_fill(self, update: OrderUpdate) -> None:
        self.updates.append(update)

    def on_order_update(self, update: OrderUpdate) -> None:
        self.updates.append(update)


def build(
    tmp_path: Path,
    market: TickBatch,
    strategy: Strategy,
    limits: RiskLimits = DAILY_25K,
    instruments: tuple[Instrument, ...] = (FUT, STOCK),
    latency_ms: int = 0,
    capital: int = 10**10,
) -> Engine:
    paths = ArtifactPaths(tmp_path)
    log = logging.getLogger("test")
    book, quotes = Book(capital), Quotes()
    recorder = Recorder("t", DAY, paths, Journal(paths.journal(DAY, "t")), [])
    broker = PaperBroker(quotes, book, DAY)
    master = InstrumentMaster(DAY, instruments)
    risk = RiskManager(limits, DAY, margins=MarginModel(DAY, spot=index_levels(quotes, master)))
    desk = Desk("t", DAY, book, quotes, broker, risk, recorder, log, latency_ms)
    strategy.ctx = Context("t", "scripted", desk, quotes, master, recorder, log)
    return Engine(
        "t",
        TradingHours(DAY, OPEN, SQUARE_OFF, CLOSE),
        SimClock(OPEN, float("inf")),
        ReplayFeed([market]),
        FixedUniverse(instruments),
        strategy,
        strategy.ctx,
        desk,
        quotes,
        recorder,
        StateStore(paths.checkpoint("t"), paths.heartbeat("t"), log),
        log,
    )


def orders(tmp_path: Path) -> list[dict[str, str]]:
    with (tmp_path / "orders.csv").open() as handle:
        return list(csv.DictReader(handle))


def events(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ArtifactPaths(tmp_path).journal(DAY, "t").read_text().splitlines()]


def flat(instrument: Instrument, price: float, seconds: range, spread: float = 0.1) -> list[tuple[Any, ...]]:
    return [(OPEN + s * 1000, instrument, price, price - spread / 2, price + spread / 2) for s in seconds]


def test_a_quiet_instruments_bar_closes_at_the_minute_without_a_later_tick(tmp_path: Path) -> None:
    strategy = Scripted({})
    market = ticks([(at(10, 0, 5), STOCK, 1500.0, 1499.95, 1500.05)])  # one tick all day, nothing after it
    engine = build(tmp_path, market, strategy)
    assert engine.run(threading.Event()) is StopReason.CLOSE
    first = strategy.bars[0]
    assert (first.instrument, first.start_ms, first.close) == (STOCK, at(10, 0), 1500.0)
    closes = [b.start_ms for b in strategy.bars]
    # A flat bar every minute; strategies stop at square-off, so the last is the one closing at 15:19.
    assert closes == list(range(at(10, 0), SQUARE_OFF - MINUTE, MINUTE))


def test_an_order_decided_at_a_minute_fills_at_that_moments_quote_never_an_earlier_one(
    tmp_path: Path,
) -> None:
    # FUT's price steps up every second; the strategy decides on the bar closing at 10:05:00.
    rows = [
        (OPEN + s * 1000, FUT, 27_000.0 + s / 10, 26_999.9 + s / 10, 27_000.1 + s / 10) for s in range(3600)
    ]
    strategy = Scripted({at(10, 4): [(FUT, 65)]})
    engine = build(tmp_path, ticks(rows), strategy)
    engine.run(threading.Event())
    (fill,) = [o for o in orders(tmp_path) if o["status"] == "COMPLETE" and o["tag"] == "entry"]
    seconds = (at(10, 5) - OPEN) // 1000  # the tick stamped 10:05:00, the moment of the decision
    assert fill["ts_ist"] == iso(at(10, 5))
    assert (
        fill["average_price"] == f"{27_000.1 + seconds / 10:.4f}"
    )  # its offer: not 10:04:59's, not 10:05:01's


def test_a_flip_whose_exit_breaches_the_daily_limit_does_not_open_its_entry(tmp_path: Path) -> None:
    # Long a NIFTY lot at 27500.05; the price falls 369 points: -23,985 marked, inside the 25,000 limit.
    # The flip's exit realises that loss and pays about 945 of charges (STT 0.05%): the limit is breached
    # by the exit itself, so the entry half must not happen.
    rows = flat(FUT, 27_500.0, range(0, 600)) + flat(FUT, 27_131.0, range(600, 3000))
    strategy = Scripted({at(9, 15): [(FUT, 65)], at(9, 40): [(FUT, -65)]})
    engine = build(tmp_path, ticks(rows), strategy)
    engine.run(threading.Event())
    got = [(o["side"], o["tag"], o["status"]) for o in orders(tmp_path)]
    assert got == [("BUY", "entry", "COMPLETE"), ("SELL", "exit", "COMPLETE"), ("SELL", "entry", "REJECTED")]
    rejected = orders(tmp_path)[2]
    assert rejected["reason"] == "daily loss limit (25000.00) breached today; no new entries"
    halts = [e for e in events(tmp_path) if e["event"] == "risk_halt"]
    assert (
        len(halts) == 1 and halts[0]["ts_ist"] == iso(at(9, 41)) and halts[0]["net_pnl_paise"] <= -2_500_000
    )
    assert engine.book.quantity(FUT.symbol) == 0 and engine.risk.state.halted


def test_a_limit_acts_on_the_tick_that_breaches_it_not_at_the_next_minute(tmp_path: Path) -> None:
    rows = flat(FUT, 27_500.0, range(0, 600)) + flat(FUT, 27_000.0, range(600, 3000))  # -32,500 at 09:25:00
    strategy = Scripted({at(9, 15): [(FUT, 65)]})
    engine = build(tmp_path, ticks(rows), strategy)
    engine.run(threading.Event())
    exits = [o for o in orders(tmp_path) if o["tag"] == "risk_exit"]
    assert [(o["ts_ist"], o["status"]) for o in exits] == [(iso(OPEN + 600_000), "COMPLETE")]


def test_no_entry_fills_at_or_after_the_square_off_time(tmp_path: Path) -> None:
    rows = [(OPEN + s * 1000, FUT, 27_000.0, 26_999.9, 27_000.1) for s in range(0, (CLOSE - OPEN) // 1000)]
    script = {
        at(15, 18): [(FUT, 65)],
        at(15, 19): [(FUT, -65)],
        at(15, 20): [(FUT, 65)],
        at(15, 25): [(FUT, -65)],
    }
    engine = build(tmp_path, ticks(rows), Scripted(script))
    engine.run(threading.Event())
    got = [(o["ts_ist"][11:19], o["side"], o["tag"], o["status"]) for o in orders(tmp_path)]
    # The bar closing at 15:19 opens a position; at 15:20 the square-off closes it before any strategy runs,
    # and the signals of 15:20 and later are never turned into entries.
    assert got == [("15:19:00", "BUY", "entry", "COMPLETE"), ("15:20:00", "SELL", "square_off", "COMPLETE")]
    assert all(o["ts_ist"] < iso(SQUARE_OFF) for o in orders(tmp_path) if o["tag"] == "entry")
    assert engine.book.quantity(FUT.symbol) == 0


def test_an_exit_above_the_freeze_quantity_is_sliced_into_orders_of_whole_lots(tmp_path: Path) -> None:
    rows = flat(FUT, 27_000.0, range(0, 900))
    strategy = Scripted({at(9, 15): [(FUT, 65 * 27)], at(9, 16): [(FUT, 65 * 54)], at(9, 17): [(FUT, 0)]})
    engine = build(tmp_path, ticks(rows), strategy, RiskLimits(10**10, 10**10, 10))
    engine.run(threading.Event())
    got = [(o["side"], int(o["quantity"]), o["tag"], o["status"]) for o in orders(tmp_path)]
    assert got == [
        ("BUY", 1755, "entry", "COMPLETE"),  # 27 lots: the most one order may carry (freeze 1800)
        ("BUY", 1755, "entry", "COMPLETE"),  # growing to 54 lots takes another 27
        ("SELL", 1755, "exit", "COMPLETE"),  # the exit of 54 lots goes out as two slices
        ("SELL", 1755, "exit", "COMPLETE"),
    ]
    assert len({o["order_id"] for o in orders(tmp_path)}) == 4


def test_the_journal_is_written_before_the_book_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = flat(FUT, 27_000.0, range(0, 900))
    engine = build(tmp_path, ticks(rows), Scripted({at(9, 15): [(FUT, 65)]}))
    real_append: Callable[..., None] = engine.recorder.journal.append

    def full_disk_on_fill(event: dict[str, Any]) -> None:
        if event["event"] == "fill":
            raise ArtifactWriteError(engine.recorder.journal.path, "No space left on device")
        real_append(event)

    monkeypatch.setattr(engine.recorder.journal, "append", full_disk_on_fill)
    with pytest.raises(ArtifactWriteError, match="No space left on device"):
        engine.run(threading.Event())
    assert engine.book.quantity(FUT.symbol) == 0  # the fill never reached the book
    assert engine.status is Status.FAILED
    assert not (tmp_path / "orders.csv").read_text().strip().count("\n")  # header only: no row for it


class WarmedEma(Strategy):
    """Asks for 30 bars of the future before the day; counts what it saw and tries to trade on each."""

    def __init__(self, trade_in_warmup: bool) -> None:
        self.trade_in_warmup = trade_in_warmup
        self.seen: list[tuple[int, bool]] = []
        self.state = {}

    def warmup(self, instrument: Instrument) -> int:
        return 30 if instrument is FUT else 0

    def on_bar(self, bar: Bar) -> None:
        self.seen.append((bar.start_ms, self.ctx.warming_up))
        if self.ctx.warming_up and self.trade_in_warmup:
            self.ctx.target(bar.instrument, FUT.lot_size, "history says buy")


def history(asked: list[tuple[str, int]]) -> Callable[[Instrument, int], list[Bar]]:
    def bars(instrument: Instrument, count: int) -> list[Bar]:
        asked.append((instrument.symbol, count))
        start = OPEN - 18 * 3600_000 - count * MINUTE  # the evening before, minute by minute
        return [Bar(instrument, start + k * MINUTE, 100.0, 100.0, 100.0, 100.0, 1) for k in range(count)]

    return bars


def test_the_strategy_is_warmed_up_on_the_bars_before_the_day_with_orders_refused(tmp_path: Path) -> None:
    strategy = WarmedEma(trade_in_warmup=False)
    engine = build(tmp_path, ticks([(at(9, 15, 5), FUT, 24000.0, 23999.9, 24000.1)]), strategy)
    asked: list[tuple[str, int]] = []
    engine.history = history(asked)
    engine.run(threading.Event())
    assert asked == [(FUT.symbol, 30)]  # only what the strategy asked for
    warm = [start for start, warming in strategy.seen if warming]
    assert len(warm) == 30 and warm == sorted(warm) and warm[-1] < OPEN
    assert strategy.seen[30] == (at(9, 15), False)  # then the day, live
    assert not strategy.ctx.warming_up and engine.orders == 0


def test_an_order_during_the_warm_up_is_a_strategy_error_that_names_the_fix(tmp_path: Path) -> None:
    strategy = WarmedEma(trade_in_warmup=True)
    engine = build(tmp_path, ticks([(at(9, 15, 5), FUT, 24000.0, 23999.9, 24000.1)]), strategy)
    engine.history = history([])
    with pytest.raises(StrategyError, match=r"no orders during the warm-up .*check self.ctx.warming_up"):
        engine.run(threading.Event())
    assert engine.status is Status.FAILED and engine.orders == 0


def test_a_wall_clock_waits_at_most_a_second_at_a_time() -> None:
    """An engine waiting for a distant open comes back every second to beat its heartbeat."""
    clock, stop = WallClock(), threading.Event()
    started = time.monotonic()
    assert clock.wait_until(ms(datetime.now(IST)) + 5_000, stop) is False
    assert 0.9 < time.monotonic() - started < 1.5
    assert clock.wait_until(ms(datetime.now(IST)) + 200, stop) is True
    assert SimClock(OPEN, float("inf")).wait_until(CLOSE, stop) is True  # unpaced: never waits
