"""Quotes and 1-minute bars folded from tick batches; the EMA crossover and option-trend strategies."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from engines.desk import OrderUpdate
from engines.market.instruments import Kind, OptionChain
from engines.orders import Order, OrderStatus, OrderTag, Side
from engines.quotes import Bar, MinuteBars, Quotes
from engines.strategies.api import Strategy
from engines.strategies.atm_option_buyer import AtmOptionBuyer
from engines.strategies.ema_cross import EmaCross
from engines.strategies.indicators import ema_crosses, rsi
from engines.strategies.rsi_reversion import RsiReversion
from engines.strategies.short_straddle import ShortStraddle
from engines.strategies.sizing import entry_size
from tests.factories import FUT, INDEX, STOCK, T0, FakeContext, bar, option, ticks


def test_bars_fold_ohlc_and_volume_and_close_on_the_minute() -> None:
    quotes = Quotes()
    quotes.add([STOCK, FUT])
    rows = [
        (T0 + s * 1000, STOCK, p, p - 0.05, p) for s, p in ((0, 100.0), (20, 103.0), (40, 99.0), (59, 101.0))
    ]
    batch = ticks(rows)
    batch.volume[:] = [1000, 1500, 1800, 2000]
    quotes.apply(batch, quotes.slots_of(batch.token))
    (closed,) = quotes.close_bars(T0)
    assert (closed.instrument, closed.start_ms) == (STOCK, T0)
    assert (closed.open, closed.high, closed.low, closed.close, closed.volume) == (
        100.0,
        103.0,
        99.0,
        101.0,
        1000,
    )
    slot = quotes.slot(STOCK.token)
    assert slot is not None
    assert quotes.touch(slot, buying=True) == 10_100 and quotes.touch(slot, buying=False) == 10_095


def test_a_quiet_instruments_bar_closes_at_the_minute_flat_at_its_last_price() -> None:
    quotes = Quotes()
    quotes.add([STOCK, FUT])
    first = ticks([(T0, STOCK, 100.0, 99.95, 100.0), (T0 + 5_000, FUT, 27_000.0, 26_999.9, 27_000.0)])
    quotes.apply(first, quotes.slots_of(first.token))
    quotes.close_bars(T0)
    later = ticks([(T0 + 61_000, FUT, 27_010.0, 27_009.9, 27_010.0)])  # RELIANCE does not trade this minute
    quotes.apply(later, quotes.slots_of(later.token))
    bars = {b.instrument.symbol: b for b in quotes.close_bars(T0 + 60_000)}
    quiet = bars["RELIANCE"]
    assert (quiet.open, quiet.high, quiet.low, quiet.close, quiet.volume) == (100.0, 100.0, 100.0, 100.0, 0)
    assert bars["NIFTY26DECFUT"].close == 27_010.0


def test_many_ticks_in_one_batch_keep_each_instruments_last_quote() -> None:
    quotes = Quotes()
    quotes.add([STOCK, FUT])
    rows = [(T0 + s * 1000, (STOCK, FUT)[s % 2], 100.0 + s, 99.0 + s, 100.0 + s) for s in range(50)]
    batch = ticks(rows)
    quotes.apply(batch, quotes.slots_of(batch.token))
    stock, fut = quotes.slot(STOCK.token), quotes.slot(FUT.token)
    assert stock is not None and fut is not None
    assert quotes.last_price[stock] == 14_800 and quotes.last_price[fut] == 14_900
    by_symbol = {b.instrument.symbol: b for b in quotes.close_bars(T0)}
    assert (by_symbol["RELIANCE"].high, by_symbol["RELIANCE"].low) == (148.0, 100.0)


def test_unknown_tokens_map_to_no_slot() -> None:
    quotes = Quotes()
    quotes.add([STOCK])
    assert quotes.slots_of(np.array([STOCK.token, 12345], dtype=np.int64)).tolist() == [0, -1]


def test_a_snapshot_restores_quotes_and_the_bar_in_progress() -> None:
    quotes = Quotes()
    quotes.add([STOCK])
    batch = ticks([(T0, STOCK, 100.0, 99.95, 100.0), (T0 + 1000, STOCK, 102.0, 101.95, 102.0)])
    quotes.apply(batch, quotes.slots_of(batch.token))
    again = Quotes()
    again.restore(quotes.snapshot(), [STOCK])
    assert list(again.close_bars(T0)) == list(quotes.close_bars(T0))


def one(state: dict[str, list[float]], close: float, token: int = 1) -> int:
    tokens, closes = np.array([token], dtype=np.int64), np.array([close], dtype=np.float64)
    return int(ema_crosses(state, tokens, closes, 2, 3).crossed[0])


def test_ema_cross_needs_warm_up_then_reports_each_cross_once() -> None:
    state: dict[str, list[float]] = {}
    assert [one(state, p) for p in (10, 10, 9, 8)] == [0, 0, 0, 0]  # warm-up, then fast below
    assert [one(state, p) for p in (12, 13, 13)] == [1, 0, 0]
    assert one(state, 5) == -1


def test_ema_crosses_fold_many_instruments_as_each_would_alone() -> None:
    """Columns of many tokens, newcomers arriving mid-way, give what each token's own fold gives."""
    rng = np.random.default_rng(3)
    closes = 100 + rng.standard_normal((40, 6)).cumsum(axis=0)
    together: dict[str, list[float]] = {}
    alone: list[dict[str, list[float]]] = [{} for _ in range(6)]
    tokens = np.array([60, 50, 40, 30, 20, 10], dtype=np.int64)
    for minute, row in enumerate(closes):
        live = tokens[: 3 + minute // 10]  # more instruments join as the day goes on
        folded = ema_crosses(together, live, row[: len(live)], 2, 5)
        for k, token in enumerate(live.tolist()):
            single = ema_crosses(alone[k], np.array([token]), row[k : k + 1], 2, 5)
            assert folded.crossed[k] == single.crossed[0] and folded.fast[k] == single.fast[0]
    assert together["token"] == sorted(tokens.tolist())  # JSON columns, in token order
    assert json.loads(json.dumps(together)) == together


def test_rsi_is_wilders() -> None:
    state: dict[str, float] = {}
    values = [rsi(state, close, 3) for close in (10, 11, 12, 11, 13, 13)]
    assert values[:3] == [None, None, None]
    # First average: gains (1 + 1 + 0)/3, losses 1/3 -> RS 2 -> 66.67; then Wilder smoothing.
    assert round(values[3] or 0, 2) == 66.67
    assert round(values[4] or 0, 2) == round(100 - 100 / (1 + ((2 / 3 * 2 + 2) / 3) / ((1 / 3 * 2) / 3)), 2)


def feed(strategy: Strategy, *bars: Bar) -> None:
    """One minute's bars, as the engine hands them over."""
    strategy.on_bars(MinuteBars.of(bars[0].start_ms, bars))


def ema(fast: int = 2, slow: int = 3, **params: object) -> tuple[EmaCross, FakeContext]:
    ctx = FakeContext()
    return EmaCross(EmaCross.Params(fast_ema=fast, slow_ema=slow, **params), ctx), ctx  # type: ignore[arg-type]


def test_ema_cross_strategy_goes_long_then_short_in_whole_lots() -> None:
    strategy, ctx = ema(lots=2)
    for close in (100, 100, 99, 98, 105, 90):
        feed(strategy, bar(FUT, close))
    assert [(symbol, quantity) for symbol, quantity, _ in ctx.targets] == [
        ("NIFTY26DECFUT", 130),
        ("NIFTY26DECFUT", -130),
    ]
    assert "ema2 crossed above ema3" in ctx.targets[0][2]


def test_strategy_state_survives_a_checkpoint_round_trip() -> None:
    first, _ = ema()
    for close in (100, 100, 99, 98):
        feed(first, bar(FUT, close))
    second, ctx = ema()
    second.state = json.loads(json.dumps(first.state))  # what a checkpoint does to it
    feed(second, bar(FUT, 105))
    assert [quantity for _, quantity, _ in ctx.targets] == [65]


def test_equity_entries_are_order_value_over_price() -> None:
    assert entry_size(STOCK, 1510.0, 1, Decimal(100_000)) == 66
    assert entry_size(STOCK, 0.0, 1, Decimal(100_000)) == 0
    assert entry_size(FUT, 27_000.0, 3, Decimal(100_000)) == 195


def test_rsi_reversion_buys_oversold_and_exits_at_the_middle() -> None:
    ctx = FakeContext()
    strategy = RsiReversion(RsiReversion.Params(period=3, lots=1), ctx)  # type: ignore[arg-type]
    for close in (100, 99, 98, 97):
        feed(strategy, bar(FUT, close))
    assert ctx.targets[-1][:2] == ("NIFTY26DECFUT", 65) and "oversold" in ctx.targets[-1][2]
    ctx.book.position(FUT).apply(Side.BUY, 65, 9_700, 0)
    for close in (99, 101):
        feed(strategy, bar(FUT, close))
    assert ctx.targets[-1][:2] == ("NIFTY26DECFUT", 0) and "reverted" in ctx.targets[-1][2]


def chain() -> OptionChain:
    strikes = (27_400, 27_450, 27_500, 27_550)
    calls = {s * 100: option(s, Kind.CE) for s in strikes}
    puts = {s * 100: option(s, Kind.PE) for s in strikes}
    return OptionChain("NIFTY", date(2026, 12, 1), tuple(calls), calls, puts)


def test_option_chain_nearest_strike_and_window() -> None:
    c = chain()
    assert c.nearest_strike(2_752_900) == 2_755_000
    assert c.nearest_strike(2_747_500) == 2_745_000  # a tie goes to the lower strike
    assert c.nearest_strike(1_000_000) == 2_740_000
    assert [o.symbol for o in c.window(2_745_000, 1)] == [
        "NIFTY26D0127400CE",
        "NIFTY26D0127400PE",
        "NIFTY26D0127450CE",
        "NIFTY26D0127450PE",
        "NIFTY26D0127500CE",
        "NIFTY26D0127500PE",
    ]


def buyer(ctx: FakeContext) -> AtmOptionBuyer:
    return AtmOptionBuyer(AtmOptionBuyer.Params(fast_ema=2, slow_ema=3), ctx)  # type: ignore[arg-type]


def test_atm_option_buyer_buys_the_atm_call_then_swaps_to_the_put() -> None:
    ctx = FakeContext({"NIFTY": chain()})
    strategy = buyer(ctx)
    for close in (27500, 27500, 27490, 27480, 27530):
        feed(strategy, bar(INDEX, close))
    assert [(s, q) for s, q, _ in ctx.targets] == [("NIFTY26D0127550CE", 65)]  # 27530 is nearest 27550
    ctx.book.position(option(27_550, Kind.CE)).apply(Side.BUY, 65, 10_000, 0)
    feed(strategy, bar(INDEX, 27460))
    assert [(s, q) for s, q, _ in ctx.targets[1:]] == [("NIFTY26D0127550CE", 0), ("NIFTY26D0127450PE", 65)]


def test_atm_option_buyer_stop_loss_exits_a_held_option() -> None:
    ctx = FakeContext({"NIFTY": chain()})
    held = option(27_400, Kind.CE)
    ctx.book.position(held).apply(Side.BUY, 65, 10_000, 0)  # bought at 100.00
    strategy = buyer(ctx)
    feed(strategy, bar(held, 71.0))
    assert ctx.targets == []
    feed(strategy, bar(held, 69.9))
    assert ctx.targets[0][:2] == (held.symbol, 0)
    assert ctx.targets[0][2].startswith("stop loss: 69.90 is 30.1% below entry 100.00")
    feed(strategy, bar(option(27_400, Kind.PE), 1.0))  # not held: ignored
    assert len(ctx.targets) == 1


def test_short_straddle_sells_atm_at_entry_time_protects_each_leg_and_exits_on_time() -> None:
    ctx = FakeContext({"NIFTY": chain()})
    strategy = ShortStraddle(ShortStraddle.Params(entry_time="10:01", exit_time="15:00", lots=1), ctx)  # type: ignore[arg-type]
    feed(strategy, bar(INDEX, 27_490))  # 10:00: not yet
    assert ctx.orders == []
    ctx.now_ms = T0 + 60_000  # 10:01
    feed(strategy, bar(INDEX, 27_490))
    assert [(side, symbol, qty) for side, symbol, qty, _, _ in ctx.orders] == [
        ("SELL", "NIFTY26D0127500CE", 65),
        ("SELL", "NIFTY26D0127500PE", 65),
    ]
    sold = Order("o-1", T0, option(27_500, Kind.CE), Side.SELL, 65, OrderTag.ENTRY, strategy="test")
    strategy.on_fill(OrderUpdate(sold, OrderStatus.COMPLETE, 65, 65, 12_000, ""))
    assert ctx.orders[-1][:3] == ("BUY", "NIFTY26D0127500CE", 65)
    assert ctx.orders[-1][4] == pytest.approx(156.0)  # SL-M trigger 30% above the 120.00 premium
    ctx.book.position(option(27_500, Kind.PE)).apply(Side.SELL, 65, 11_000, 0)
    ctx.now_ms = T0 + (5 * 60) * 60_000  # 15:00
    feed(strategy, bar(INDEX, 27_600))
    assert ctx.orders[-1][0] == "CANCEL"  # the call's stop
    assert ctx.targets[-1][:2] == ("NIFTY26D0127500PE", 0)  # the put bought back
