"""1-minute bars, and the strategies' decisions on hand-made bar series."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from engines.bars import BarBuilder
from engines.charges import Side
from engines.instruments import Kind
from engines.orders import SignalAction
from engines.portfolio import Book
from engines.strategies.ema import CrossState
from engines.strategies.ema_cross import EmaCross, by_value, whole_lots
from engines.strategies.option_trend import OptionTrend
from tests.factories import FUT, INDEX, MOMENT, STOCK, bar, option, quote


def test_bars_roll_on_the_minute_with_ohlc_and_volume() -> None:
    builder = BarBuilder()
    for second, price, volume in ((0, 100.0, 1000), (20, 103.0, 1500), (40, 99.0, 1800), (59, 101.0, 2000)):
        moment = MOMENT + timedelta(seconds=second)
        assert builder.roll(moment) == []
        tick = quote(STOCK, price - 0.05, price, price)
        tick["volume_traded"] = volume
        builder.add([tick])
    closed = builder.roll(MOMENT + timedelta(minutes=1))
    assert len(closed) == 1
    b = closed[0]
    assert (b.start, b.open, b.high, b.low, b.close, b.volume) == (MOMENT, 100.0, 103.0, 99.0, 101.0, 1000)
    assert builder.latest[STOCK.token]["last_price"] == 101.0
    assert builder.roll(MOMENT + timedelta(minutes=1, seconds=30)) == []  # same minute: nothing to close


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


def chain() -> list:  # type: ignore[type-arg]
    return [
        option(strike, kind, 3000 + i)
        for i, (strike, kind) in enumerate(
            (s, k) for s in (27400, 27450, 27500, 27550) for k in (Kind.CE, Kind.PE)
        )
    ]


def test_option_trend_buys_the_atm_call_then_swaps_to_the_put() -> None:
    book = Book(100_000_000)
    options = chain()
    strategy = OptionTrend([INDEX], options, book, 2, 3, 1, Decimal(30))
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
    options = chain()
    held = options[0]
    book.position(held).apply(Side.BUY, 65, 10_000, 0)  # bought at 100.00
    strategy = OptionTrend([INDEX], options, book, 2, 3, 1, Decimal(30))
    assert strategy.on_bar(bar(held, 71.0)) == []
    stop = strategy.on_bar(bar(held, 69.9))
    assert [(s.action, s.target_quantity) for s in stop] == [(SignalAction.EXIT, 0)]
    assert stop[0].reason.startswith("stop loss: 69.90 is 30.1% below entry 100.00")
    assert strategy.on_bar(bar(options[1], 1.0)) == []  # not held: ignored
