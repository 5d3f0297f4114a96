"""Quotes and 1-minute bars folded from tick batches; the EMA crossover and option-trend strategies."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from engines.charges import Side
from engines.market.instruments import Kind, OptionChain
from engines.orders import SignalAction
from engines.portfolio import Book
from engines.quotes import Quotes
from engines.strategies.ema import CrossState
from engines.strategies.ema_cross import EmaCross, by_value, whole_lots
from engines.strategies.option_trend import OptionTrend
from tests.factories import FUT, INDEX, STOCK, T0, bar, option, ticks


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
    assert again.close_bars(T0) == quotes.close_bars(T0)


def test_ema_cross_needs_warm_up_then_reports_each_cross_once() -> None:
    state = CrossState(2, 3)
    assert [state.update(p) for p in (10, 10, 9, 8)] == [0, 0, 0, 0]  # warm-up, then fast below slow
    assert [state.update(p) for p in (12, 13, 13)] == [1, 0, 0]
    assert state.update(5) == -1


def test_ema_cross_strategy_goes_long_then_short_in_whole_lots() -> None:
    strategy = EmaCross([FUT], 2, 3, whole_lots(2))
    signals = [s for close in (100, 100, 99, 98, 105, 90) for s in strategy.on_bar(bar(FUT, close))]
    assert [(s.action, s.target_quantity) for s in signals] == [
        (SignalAction.LONG, 130),
        (SignalAction.SHORT, -130),
    ]
    assert "ema2 crossed above ema3" in signals[0].reason


def test_strategy_state_survives_a_checkpoint_round_trip() -> None:
    first = EmaCross([FUT], 2, 3, whole_lots(1))
    for close in (100, 100, 99, 98):
        first.on_bar(bar(FUT, close))
    second = EmaCross([FUT], 2, 3, whole_lots(1))
    second.restore(first.snapshot())
    assert [s.action for s in second.on_bar(bar(FUT, 105))] == [SignalAction.LONG]


def test_equity_quantity_is_order_value_over_price() -> None:
    assert by_value(100_000.0)(STOCK, 1510.0) == 66
    assert by_value(100_000.0)(STOCK, 0.0) == 0


def chain() -> OptionChain:
    strikes = (27_400, 27_450, 27_500, 27_550)
    calls = {s * 100: option(s, Kind.CE) for s in strikes}
    puts = {s * 100: option(s, Kind.PE) for s in strikes}
    return OptionChain("NIFTY", option(27_500, Kind.CE).expiry or FUT.expiry, tuple(calls), calls, puts)  # type: ignore[arg-type]


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


def test_option_trend_buys_the_atm_call_then_swaps_to_the_put() -> None:
    book = Book(100_000_000)
    strategy = OptionTrend([INDEX], {"NIFTY": chain()}, book, 2, 3, 1, Decimal(30))
    signals = [s for close in (27500, 27500, 27490, 27480, 27530) for s in strategy.on_bar(bar(INDEX, close))]
    assert [(s.action, s.instrument.symbol, s.target_quantity) for s in signals] == [
        (SignalAction.LONG, "NIFTY26D0127550CE", 65)
    ]  # 27530 is nearest the 27550 strike
    book.position(signals[0].instrument).apply(Side.BUY, 65, 10_000, 0)
    swap = strategy.on_bar(bar(INDEX, 27460))
    assert [(s.action, s.instrument.symbol, s.target_quantity) for s in swap] == [
        (SignalAction.EXIT, "NIFTY26D0127550CE", 0),
        (SignalAction.LONG, "NIFTY26D0127450PE", 65),
    ]


def test_option_trend_stop_loss_exits_a_held_option() -> None:
    book = Book(100_000_000)
    held = option(27_400, Kind.CE)
    book.position(held).apply(Side.BUY, 65, 10_000, 0)  # bought at 100.00
    strategy = OptionTrend([INDEX], {"NIFTY": chain()}, book, 2, 3, 1, Decimal(30))
    assert strategy.on_bar(bar(held, 71.0)) == []
    stop = strategy.on_bar(bar(held, 69.9))
    assert [(s.action, s.target_quantity) for s in stop] == [(SignalAction.EXIT, 0)]
    assert stop[0].reason.startswith("stop loss: 69.90 is 30.1% below entry 100.00")
    assert strategy.on_bar(bar(option(27_400, Kind.PE), 1.0)) == []  # not held: ignored
