"""The market simulator: deterministic per (seed, date, instrument), Kite-shaped, and realistic enough."""

from __future__ import annotations

import itertools
import math
import threading
from datetime import date, time

import numpy as np
import pytest

from engines.instruments import Instrument, Kind, Underlying
from engines.market.sim import CARRY_RATE, MarketSimulator, SimSession
from engines.money import price_to_paise

DAY = date(2026, 11, 27)
# The keys kiteconnect 5.2.2's parser puts in a full-mode tick (KITE_AND_NSE.md §2.3).
KITE_TICK_KEYS = {
    "tradable",
    "mode",
    "instrument_token",
    "last_price",
    "last_traded_quantity",
    "average_traded_price",
    "volume_traded",
    "total_buy_quantity",
    "total_sell_quantity",
    "ohlc",
    "change",
    "last_trade_time",
    "oi",
    "oi_day_high",
    "oi_day_low",
    "exchange_timestamp",
    "depth",
}


def market(seed: int = 7) -> MarketSimulator:
    return MarketSimulator(SimSession(seed, DAY, time(9, 15), time(15, 30)))


def first_batches(m: MarketSimulator, instruments: list[Instrument], n: int) -> list[tuple]:  # type: ignore[type-arg]
    return list(itertools.islice(m.feed(instruments).batches(threading.Event()), n))


def test_same_seed_same_market_in_separate_simulators() -> None:
    a, b = market(), market()
    instruments_a = [a.future(Underlying.NIFTY), *a.option_chain(Underlying.NIFTY, 2), a.stock("TCS")]
    instruments_b = [b.future(Underlying.NIFTY), *b.option_chain(Underlying.NIFTY, 2), b.stock("TCS")]
    assert first_batches(a, instruments_a, 700) == first_batches(b, instruments_b, 700)
    assert not np.array_equal(market(8).index_path(Underlying.NIFTY), a.index_path(Underlying.NIFTY))


def test_an_instrument_prices_the_same_whatever_else_is_subscribed() -> None:
    m = market()
    wide = m.option_chain(Underlying.NIFTY, 10)
    narrow = m.option_chain(Underlying.NIFTY, 1)
    tokens = {i.token for i in narrow}
    for (_, wide_ticks), (_, narrow_ticks) in zip(
        first_batches(m, wide, 400), first_batches(market(), narrow, 400), strict=True
    ):
        assert [t for t in wide_ticks if t["instrument_token"] in tokens] == list(narrow_ticks)


def test_ticks_use_kite_field_names_and_sane_quotes() -> None:
    m = market()
    instruments = [
        m.index(Underlying.BANKNIFTY),
        m.future(Underlying.BANKNIFTY),
        *m.option_chain(Underlying.BANKNIFTY, 3),
        m.stock("TATASTEEL"),
        m.stock("MARUTI"),
    ]
    by_token = {i.token: i for i in instruments}
    for moment, ticks in first_batches(m, instruments, 1200):
        assert len(ticks) == len(instruments)
        for tick in ticks:
            assert set(tick) <= KITE_TICK_KEYS
            assert tick["exchange_timestamp"] == moment and moment.utcoffset().total_seconds() == 19800
            instrument = by_token[tick["instrument_token"]]
            if instrument.kind is Kind.INDEX:
                assert tick["tradable"] is False and "depth" not in tick
                continue
            bid, ask = tick["depth"]["buy"][0]["price"], tick["depth"]["sell"][0]["price"]
            for price in (bid, ask, tick["last_price"]):
                assert price_to_paise(price, 1) % instrument.tick == 0, (instrument.symbol, price)
            assert 0 < bid < ask and tick["last_price"] in (bid, ask)
            assert tick["last_traded_quantity"] % max(instrument.lot_size, 1) == 0


def test_chain_has_ce_and_pe_around_the_money_at_the_strike_step() -> None:
    m = market()
    chain = m.option_chain(Underlying.BANKNIFTY, 10)
    strikes = sorted({i.strike for i in chain if i.strike is not None})
    assert len(chain) == 42 and len(strikes) == 21
    assert {b - a for a, b in itertools.pairwise(strikes)} == {100 * 100}
    spot = float(m.index_path(Underlying.BANKNIFTY)[0])
    assert abs(strikes[10] / 100 - spot) <= 50
    assert {i.expiry for i in chain} == {date(2026, 12, 29)}  # BANKNIFTY: monthly only
    assert {i.expiry for i in m.option_chain(Underlying.NIFTY, 1)} == {date(2026, 12, 1)}  # NIFTY weekly


def test_futures_carry_above_spot_with_a_small_basis() -> None:
    m = market()
    fut = m.future(Underlying.NIFTY)
    spot = m.index_path(Underlying.NIFTY)
    for step, (_, ticks) in enumerate(first_batches(m, [fut], 3000)):
        premium = ticks[0]["last_price"] / spot[step] - 1
        assert 0.0 < premium < 0.012  # about 32 days of 6.5% carry = 0.57%


def test_options_respect_put_call_parity_within_the_spread() -> None:
    m = market()
    chain = m.option_chain(Underlying.NIFTY, 3)
    spot = m.index_path(Underlying.NIFTY)
    years = (date(2026, 12, 1) - DAY).days / 365 + (15.5 - 9.25) / 24 / 365
    for step, (_, ticks) in enumerate(first_batches(m, chain, 5)):
        mids = {
            t["instrument_token"]: (t["depth"]["buy"][0]["price"] + t["depth"]["sell"][0]["price"]) / 2
            for t in ticks
        }
        forward = spot[step] * math.exp(CARRY_RATE * years)
        for call, put in zip(chain[::2], chain[1::2], strict=True):
            assert call.kind is Kind.CE and put.kind is Kind.PE and call.strike == put.strike
            parity = (forward - call.strike / 100) * math.exp(-CARRY_RATE * years)
            assert mids[call.token] - mids[put.token] == pytest.approx(parity, abs=3.0)


def test_volatility_is_higher_near_the_open_and_close_than_at_midday() -> None:
    path = np.log(market().index_path(Underlying.NIFTY))
    returns = np.diff(path)
    open_vol, midday_vol, close_vol = (returns[a : a + 1200].std() for a in (0, 10_000, len(returns) - 1200))
    assert open_vol > 1.5 * midday_vol
    assert close_vol > 1.2 * midday_vol
    daily = returns.std() * math.sqrt(len(returns))
    assert 0.004 < daily < 0.02  # NIFTY's intraday range: a fraction of a percent to about 2%


def test_stocks_move_with_the_index() -> None:
    m = market()
    nifty = m.index_path(Underlying.NIFTY)[::60]
    closes = [
        ticks[0]["last_price"]
        for step, (_, ticks) in enumerate(m.feed([m.stock("SBIN")]).batches(threading.Event()))
        if step % 60 == 0
    ]
    correlation = np.corrcoef(np.diff(np.log(nifty)), np.diff(np.log(closes)))[0, 1]
    assert correlation > 0.5


def test_a_day_has_one_batch_per_second_from_open_to_close() -> None:
    m = MarketSimulator(SimSession(1, DAY, time(9, 15), time(9, 25), tick_interval_s=2))
    moments = [moment for moment, _ in m.feed([m.stock("ITC")]).batches(threading.Event())]
    assert len(moments) == 300 and moments[0].time() == time(9, 15) and moments[-1].time() == time(9, 24, 58)


def test_batches_can_resume_after_a_moment() -> None:
    m = market()
    feed = m.feed([m.stock("ITC")])
    everything = list(itertools.islice(feed.batches(threading.Event()), 800))
    resumed = list(
        itertools.islice(
            market().feed([m.stock("ITC")]).batches(threading.Event(), after=everything[449][0]), 350
        )
    )
    assert resumed == everything[450:]
