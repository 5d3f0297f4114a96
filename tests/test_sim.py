"""The market simulator: deterministic per (seed, date, instrument), Kite-shaped, like a liquid NSE session.

The acceptance figures (spreads, overnight gaps, no conversion or reversal after charges) are measured on
several seeds and dates. Most checks sample the day through a session with a longer tick interval: the
simulator's market runs on NSE's seconds whatever the interval, so a 15-second session sees exactly the
quotes the 1-second one shows at those moments (test_a_longer_interval_samples_the_same_market).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from datetime import date, time, timedelta

import numpy as np
import pytest
from numpy.typing import NDArray

from engines.charges import Side, order_charges
from engines.market.calendar import NseCalendar
from engines.market.instruments import Instrument, Kind
from engines.market.sim import MarketSimulator, SimFeed, SimSession
from engines.market.sim.pricing import RATE
from engines.market.sim.reference import INDEX_PROFILES, STOCKS
from engines.market.ticks import COLUMNS, DEPTH, TickBatch

DAY = date(2026, 11, 27)  # a Friday; NIFTY's weekly expiry is Tuesday 1 Dec, the monthly 29 Dec
# (seed, date) pairs for the acceptance figures: 2025 (Thursday expiries) and 2026 (Tuesday), no expiry day.
CASES = [(7, date(2025, 3, 5)), (11, date(2025, 9, 17)), (3, date(2026, 6, 10)), (7, DAY)]
MORE_CASES = [
    (1, date(2025, 1, 20)),
    (2, date(2025, 6, 2)),
    (5, date(2025, 12, 1)),
    (9, date(2026, 2, 17)),  # a NIFTY weekly expiry
    (13, date(2026, 8, 4)),  # a NIFTY weekly expiry
    (21, date(2026, 10, 12)),
    (99, date(2025, 4, 21)),
    (4, date(2025, 11, 10)),
    (6, date(2026, 1, 2)),
    (8, date(2026, 4, 8)),
]
OPEN, CLOSE = time(9, 15), time(15, 30)
F = NDArray[np.float64]


def market(seed: int = 7, day: date = DAY, interval_s: int = 1) -> MarketSimulator:
    return MarketSimulator(SimSession(seed, day, OPEN, CLOSE, interval_s))


class Day:
    """The ticks of a read, as (steps x instruments) matrices per column."""

    def __init__(
        self, m: MarketSimulator, instruments: Sequence[Instrument], after: int | None = None
    ) -> None:
        feed = SimFeed(m)
        feed.subscribe(list(instruments))
        feed.open(m.session.start_ms - 1 if after is None else after)
        self.ticks = feed.read(m.session.end_ms, threading.Event())
        self.width = len({i.token for i in instruments})
        self.steps = len(self.ticks) // self.width
        first_row = self.ticks.token[: self.width].tolist()
        self._column = {token: k for k, token in enumerate(first_row)}

    def of(self, name: str, instruments: Sequence[Instrument], level: int | None = 0) -> NDArray[np.int64]:
        """Column `name` (depth `level` for depth columns) of `instruments`, steps x instruments."""
        values = getattr(self.ticks, name)
        if values.ndim == 2:
            values = values[:, level]
        matrix = values.reshape(self.steps, self.width)
        result: NDArray[np.int64] = matrix[:, [self._column[i.token] for i in instruments]]
        return result


def atm_pairs(m: MarketSimulator, underlying: str, expiry: date, each_side: int) -> list[Instrument]:
    chain = m.master.chain(underlying, expiry)
    centre = chain.nearest_strike(round(m.levels(underlying).open * 100))
    return chain.window(centre, each_side)


def at_the_money(day: Day, m: MarketSimulator, options: list[Instrument], underlying: str) -> tuple[F, F]:
    """(spread, mid) in rupees of the call and put nearest the index at each step, stacked."""
    spot = m.index_path(underlying)
    strikes = np.array([o.strike / 100 for o in options])
    bid, ask = day.of("bid_price", options) / 100, day.of("ask_price", options) / 100
    nearest = (
        np.abs(strikes[None, :] - spot[:, None])
        == np.abs(strikes[None, :] - spot[:, None]).min(axis=1)[:, None]
    )
    return (ask - bid)[nearest], ((ask + bid) / 2)[nearest]


def nearest_monthly(m: MarketSimulator, underlying: str) -> date:
    """The nearest monthly expiry after the day (on the expiry day premiums fall below a tick's worth)."""
    return next(e for e in m.calendar.monthly_expiries(m.session.day, 2) if e > m.session.day)


# --- determinism -------------------------------------------------------------------------------------


def some_instruments(m: MarketSimulator) -> list[Instrument]:
    master = m.master
    return [
        master.index("NIFTY"),
        master.current_future("NIFTY"),
        *atm_pairs(m, "NIFTY", master.option_expiries("NIFTY")[0], 2),
        *atm_pairs(m, "BANKNIFTY", master.option_expiries("BANKNIFTY")[0], 1),
        master.equity("TCS") or pytest.fail("no TCS"),
        master.equity("TATASTEEL") or pytest.fail("no TATASTEEL"),
    ]


def read_until(
    m: MarketSimulator, instruments: list[Instrument], minutes: int, after: int | None = None
) -> TickBatch:
    feed = SimFeed(m)
    feed.subscribe(instruments)
    feed.open(m.session.start_ms - 1 if after is None else after)
    return feed.read(m.session.start_ms + minutes * 60_000, threading.Event())


def same(a: TickBatch, b: TickBatch) -> bool:
    return len(a) == len(b) and all(np.array_equal(getattr(a, n), getattr(b, n)) for n in COLUMNS)


def test_same_seed_same_market_in_separate_simulators() -> None:
    a, b = market(), market()
    assert same(read_until(a, some_instruments(a), 12), read_until(b, some_instruments(b), 12))
    assert not np.array_equal(market(8).index_path("NIFTY"), a.index_path("NIFTY"))
    assert a.master.to_csv() == b.master.to_csv()


def test_an_instrument_ticks_the_same_whatever_else_is_subscribed() -> None:
    m = market()
    narrow = some_instruments(m)
    wide = [
        *narrow,
        *atm_pairs(m, "NIFTY", m.master.option_expiries("NIFTY")[1], 6),
        m.master.index("BANKNIFTY"),
    ]
    wide += [i for s in ("RELIANCE", "ITC", "MARUTI") if (i := m.master.equity(s))]
    small, big = read_until(market(), narrow, 8), read_until(m, wide[::-1], 8)
    mine = np.isin(big.token, [i.token for i in narrow])
    picked = big.take(np.flatnonzero(mine))
    order = np.lexsort((picked.token, picked.ts))
    reference = small.take(np.lexsort((small.token, small.ts)))
    assert same(picked.take(order), reference)


def test_a_feed_resumed_mid_day_continues_the_same_ticks() -> None:
    m = market()
    instruments = some_instruments(m)
    whole = read_until(m, instruments, 30)
    moment = m.session.start_ms + 17 * 60_000 + 30_000
    resumed = read_until(market(), instruments, 30, after=moment)
    _, _, after = whole.split_at(moment)
    assert len(resumed) and same(resumed, after)
    # Reading in pieces gives the same ticks as one read.
    feed = SimFeed(market())
    feed.subscribe(instruments)
    feed.open(m.session.start_ms - 1)
    pieces = [feed.read(m.session.start_ms + s * 1000, threading.Event()) for s in (1, 2, 700, 701, 1800)]
    assert same(TickBatch.concat(pieces), whole)


def test_a_longer_interval_samples_the_same_market() -> None:
    fine, coarse = market(interval_s=1), market(interval_s=15)
    instruments = some_instruments(fine)
    a, b = read_until(fine, instruments, 10), read_until(coarse, instruments, 10)
    a = a.take(np.flatnonzero(np.isin(a.ts, b.ts)))
    assert len(a) == len(b) == 41 * len(instruments)  # 09:15:00 to 09:25:00, every 15 s
    for name in ("ts", "token", "bid_price", "ask_price", "bid_quantity", "ask_orders"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_a_session_ticks_every_interval_from_its_open_to_its_close() -> None:
    m = MarketSimulator(SimSession(1, DAY, time(9, 15), time(9, 25), tick_interval_s=2))
    day = Day(m, [m.master.equity("ITC") or pytest.fail("no ITC")])
    stamps = np.unique(day.ticks.ts)
    assert len(stamps) == 300 and stamps[0] == m.session.start_ms and stamps[-1] == m.session.end_ms - 2000


# --- shape of the ticks ------------------------------------------------------------------------------


def test_ticks_carry_kite_full_mode_depth_open_interest_and_volume() -> None:
    m = market(interval_s=20)
    master = m.master
    indices = [master.index(u) for u in ("NIFTY", "BANKNIFTY")]
    futures = [master.current_future(u) for u in ("NIFTY", "BANKNIFTY", "FINNIFTY")]
    options = [*atm_pairs(m, "NIFTY", master.option_expiries("NIFTY")[0], 30)]
    options += atm_pairs(m, "BANKNIFTY", nearest_monthly(m, "BANKNIFTY"), 3)
    stocks = [i for s in ("RELIANCE", "MARUTI", "TATASTEEL", "ITC") if (i := master.equity(s))]
    day = Day(m, [*indices, *futures, *options, *stocks])
    # Indices: a last price on the 0.05 tick and nothing else, as Kite's index packets.
    assert (day.of("last_price", indices) > 0).all() and (day.of("last_price", indices) % 5 == 0).all()
    for name in ("last_quantity", "volume", "oi"):
        assert not day.of(name, indices).any(), name
    for name in ("bid_price", "bid_quantity", "bid_orders", "ask_price", "ask_quantity", "ask_orders"):
        assert not any(day.of(name, indices, level).any() for level in range(DEPTH)), name
    tradable = [*futures, *options, *stocks]
    tick = np.array([i.tick for i in tradable])
    lot = np.array([max(i.lot_size, 1) for i in tradable])
    bids = np.stack([day.of("bid_price", tradable, level) for level in range(DEPTH)], axis=-1)
    asks = np.stack([day.of("ask_price", tradable, level) for level in range(DEPTH)], axis=-1)
    bid_lots = np.stack([day.of("bid_quantity", tradable, level) for level in range(DEPTH)], axis=-1)
    ask_lots = np.stack([day.of("ask_quantity", tradable, level) for level in range(DEPTH)], axis=-1)
    bid_orders = np.stack([day.of("bid_orders", tradable, level) for level in range(DEPTH)], axis=-1)
    ask_orders = np.stack([day.of("ask_orders", tradable, level) for level in range(DEPTH)], axis=-1)
    # Five levels a side on the tick: asks rising, bids falling, the best bid under the best ask.
    assert (asks > 0).all() and (np.diff(asks, axis=-1) > 0).all()
    live = bids > 0
    assert (bids[..., 0] > 0).all()  # at least a tick: far out-of-the-money options bid 0.05
    assert (np.diff(bids, axis=-1)[live[..., 1:]] < 0).all() and not (live[..., 1:] & ~live[..., :-1]).any()
    assert (bids[..., 0] < asks[..., 0]).all()
    assert not (bids % tick[None, :, None]).any() and not (asks % tick[None, :, None]).any()
    # Quantities in whole lots with at least one order, at most one order a lot; empty levels all zeros.
    for quantity, orders, side_live in ((bid_lots, bid_orders, live), (ask_lots, ask_orders, asks > 0)):
        assert not (quantity % lot[None, :, None]).any()
        assert ((orders >= 1) & (orders <= quantity // lot[None, :, None]))[side_live].all()
        assert not quantity[~side_live].any() and not orders[~side_live].any()
    # A trade each step at the bid or the ask, in lots; volume its running sum; OI on F&O only.
    last, traded = day.of("last_price", tradable), day.of("last_quantity", tradable)
    assert ((last == bids[..., 0]) | (last == asks[..., 0])).all()
    assert (traded > 0).all() and not (traded % lot).any()
    volume = day.of("volume", tradable)
    assert np.array_equal(np.diff(volume, axis=0), traded[1:])
    oi = day.of("oi", tradable)
    derivative = np.array([i.is_derivative for i in tradable])
    assert (oi[:, derivative] > 0).all() and not oi[:, ~derivative].any()
    assert not (oi % lot).any()


def test_depth_matches_each_instruments_liquidity() -> None:
    m = market(interval_s=30)
    master = m.master
    weekly = atm_pairs(m, "NIFTY", master.option_expiries("NIFTY")[0], 0)
    far = atm_pairs(m, "BANKNIFTY", master.option_expiries("BANKNIFTY")[2], 0)
    near, thin = master.current_future("NIFTY"), master.current_future("FINNIFTY")
    big, small = master.equity("HDFCBANK"), master.equity("NESTLEIND")
    assert big and small
    day = Day(m, [*weekly, *far, near, thin, big, small])

    def rupees_at_best(instruments: list[Instrument]) -> float:
        quantity = day.of("bid_quantity", instruments) + day.of("ask_quantity", instruments)
        price = day.of("bid_price", instruments) + day.of("ask_price", instruments)
        return float(np.median(quantity * price / 400))  # the two sides' mean, in rupees

    assert rupees_at_best(weekly) > 5 * rupees_at_best(far)
    assert rupees_at_best([near]) > 5 * rupees_at_best([thin])
    assert rupees_at_best([big]) > 2 * rupees_at_best([small])
    assert 2e5 < rupees_at_best([big]) < 5e7  # lakhs to a few crore at the touch: a large cap's book
    volume = day.of("volume", [*weekly, *far])[-1]
    assert volume[:2].min() > 3 * volume[2:].max()
    oi = day.of("oi", [near, thin])[0]
    assert 50_000 * near.lot_size < oi[0] < 1_000_000 * near.lot_size and oi[0] > 4 * oi[1]


# --- spreads -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "day"), CASES)
def test_spreads_are_those_of_a_liquid_session(seed: int, day: date) -> None:
    check_spreads(seed, day)


@pytest.mark.slow
def test_spreads_overnight_gaps_and_synthetics_on_more_seeds_and_dates() -> None:
    """The acceptance figures on ten more (seed, date) pairs (two of them NIFTY expiry days), four more
    40-day windows and nine more synthetic checks, each as the fast tests check them (a few seconds)."""
    for seed, day in MORE_CASES:
        check_spreads(seed, day)
    calendar = NseCalendar()
    for seed, start in [
        (1, date(2025, 1, 2)),
        (42, date(2025, 7, 1)),
        (5, date(2026, 9, 1)),
        (8, date(2025, 10, 1)),
    ]:
        check_gaps(seed, calendar.trading_days(start, date(2026, 12, 31))[:41])
    for seed, day in MORE_CASES[:3]:
        for underlying in ("NIFTY", "BANKNIFTY", "FINNIFTY"):
            check_synthetics(seed, day, underlying)


def check_spreads(seed: int, day: date) -> None:
    """Median spreads over the day: NIFTY's weekly at the money at most 2 ticks; BANKNIFTY's and FINNIFTY's
    nearest monthly at the money at most 0.15% of premium; near-month futures 1 to 3 ticks; every
    large-cap stock at most 2 bp (or exactly a tick, where a tick is more at its price)."""
    m = market(seed, day, interval_s=15)
    master = m.master
    weekly = atm_pairs(m, "NIFTY", master.option_expiries("NIFTY")[0], 3)
    monthly = {u: atm_pairs(m, u, nearest_monthly(m, u), 3) for u in ("BANKNIFTY", "FINNIFTY")}
    futures = [master.current_future(u) for u in ("NIFTY", "BANKNIFTY")]
    stocks = [i for s in STOCKS if (i := master.equity(s))]
    ticks = Day(m, [*weekly, *monthly["BANKNIFTY"], *monthly["FINNIFTY"], *futures, *stocks])

    spread, _ = at_the_money(ticks, m, weekly, "NIFTY")
    assert np.median(spread) <= 2 * 0.05 + 1e-9, f"NIFTY weekly ATM median spread {np.median(spread):.2f}"
    for underlying, options in monthly.items():
        spread, mid = at_the_money(ticks, m, options, underlying)
        relative = float(np.median(spread / mid))
        assert relative <= 0.0015, f"{underlying} monthly ATM median spread {relative:.4%} of premium"
    future_ticks = (ticks.of("ask_price", futures) - ticks.of("bid_price", futures)) / np.array(
        [f.tick for f in futures]
    )
    assert (np.median(future_ticks, axis=0) <= 3).all() and (future_ticks >= 1).all()
    bid, ask = ticks.of("bid_price", stocks), ticks.of("ask_price", stocks)
    tick = np.array([s.tick for s in stocks])
    bp = np.median((ask - bid) / ((ask + bid) / 2), axis=0) * 1e4
    one_tick_bp = np.median(tick / ((ask + bid) / 2), axis=0) * 1e4
    # At most 2 bp, unless a single tick is wider than that at the stock's price (then exactly a tick).
    assert ((bp <= 2.0) | np.isclose(bp, one_tick_bp)).all(), dict(
        zip([s.symbol for s in stocks], bp.round(2), strict=True)
    )
    assert float(np.median(bp)) <= 1.6 and ((ask - bid) >= tick).all()


@pytest.mark.parametrize(("seed", "day"), [(7, DAY), (9, date(2026, 2, 17))])  # the second: an expiry day
def test_spreads_are_wider_in_the_first_minutes(seed: int, day: date) -> None:
    m = market(seed, day, interval_s=5)
    master = m.master
    instruments = [master.current_future("NIFTY"), master.current_future("BANKNIFTY")]
    instruments += atm_pairs(m, "NIFTY", master.option_expiries("NIFTY")[0], 1)
    instruments += atm_pairs(m, "BANKNIFTY", master.option_expiries("BANKNIFTY")[0], 0)
    instruments += [i for s in ("RELIANCE", "INFY", "SBIN", "ITC") if (i := master.equity(s))]
    day_ticks = Day(m, instruments)
    ticks = (day_ticks.of("ask_price", instruments) - day_ticks.of("bid_price", instruments)) / np.array(
        [i.tick for i in instruments]
    )  # in ticks: on an expiry day premiums melt, and spreads as a fraction of them grow all morning
    first_minutes = ticks[: 2 * 12].mean(axis=0)  # 09:15-09:17
    later = ticks[25 * 12 : 45 * 12].mean(axis=0)  # 09:40-10:00
    assert (first_minutes > 1.5 * later).all(), (first_minutes / later).round(2)


# --- prices: one forward curve, no conversion or reversal -------------------------------------------------


def test_futures_quote_the_forward_the_options_are_priced_off() -> None:
    m = market(interval_s=10)
    futures = [f for f in m.master if f.kind is Kind.FUT and f.underlying == "NIFTY"]
    day = Day(m, futures)
    mid = (day.of("bid_price", futures) + day.of("ask_price", futures)) / 200
    half = (day.of("ask_price", futures) - day.of("bid_price", futures)) / 200
    spot = m.index_path("NIFTY")
    for k, future in enumerate(futures):
        assert future.expiry
        fair = m.forward_path("NIFTY", future.expiry)
        assert (np.abs(mid[:, k] - fair) <= half[:, k] + 1e-6).all()
        months = (future.expiry - DAY).days / 30.4
        premium = fair / spot - 1  # rate less dividends: about 0.45% a month
        assert (premium > 0.003 * months).all() and (premium < 0.006 * months).all()


def test_options_respect_put_call_parity_within_the_spread() -> None:
    m = market(interval_s=60)
    expiry = m.master.option_expiries("NIFTY")[0]
    options = atm_pairs(m, "NIFTY", expiry, 8)
    day = Day(m, options)
    calls, puts = options[::2], options[1::2]
    assert all(
        c.kind is Kind.CE and p.kind is Kind.PE and c.strike == p.strike
        for c, p in zip(calls, puts, strict=True)
    )
    mid = (day.of("bid_price", options) + day.of("ask_price", options)) / 200
    spread = (day.of("ask_price", options) - day.of("bid_price", options)) / 100
    strikes = np.array([c.strike / 100 for c in calls])
    years = m.years_to(expiry, 0, m.session.steps)[:, None]
    parity = np.exp(-RATE * years) * (m.forward_path("NIFTY", expiry)[:, None] - strikes)
    error = np.abs(mid[:, ::2] - mid[:, 1::2] - parity)
    assert (error <= (spread[:, ::2] + spread[:, 1::2]) / 2 + 1e-6).all(), error.max()


class Synthetics:
    """Every conversion and reversal of one expiry's future against its options, at every step's quotes.

    Conversion: buy the future at its ask, sell the call at its bid, buy the put at its ask; at expiry it
    is worth K - F_ask + (C_bid - P_ask) e^(rT) a unit, the premiums carried to expiry at the simulator's
    rate. Reversal: the other side, F_bid - K + (P_bid - C_ask) e^(rT). A leg with an empty side is out."""

    def __init__(self, m: MarketSimulator, underlying: str, expiry: date) -> None:
        self.m = m
        self.future = next(
            f for f in m.master if f.kind is Kind.FUT and f.underlying == underlying and f.expiry == expiry
        )
        chain = m.master.chain(underlying, expiry)
        self.calls, self.puts = (
            [chain.calls[k] for k in chain.strikes],
            [chain.puts[k] for k in chain.strikes],
        )
        day = Day(m, [self.future, *self.calls, *self.puts])
        self.quotes = {
            (leg, side): day.of(f"{side}_price", instruments)
            for leg, instruments in (("future", [self.future]), ("call", self.calls), ("put", self.puts))
            for side in ("bid", "ask")
        }
        q = {key: value / 100 for key, value in self.quotes.items()}
        strike = np.array(chain.strikes) / 100
        carry = np.exp(RATE * m.years_to(expiry, 0, m.session.steps))[:, None]
        lot = self.future.lot_size
        conversion = (strike - q["future", "ask"] + (q["call", "bid"] - q["put", "ask"]) * carry) * lot
        reversal = (q["future", "bid"] - strike + (q["put", "bid"] - q["call", "ask"]) * carry) * lot
        self.before = {  # profit per lot before charges, steps x strikes
            True: np.where(q["call", "bid"] > 0, conversion, -np.inf),
            False: np.where(q["put", "bid"] > 0, reversal, -np.inf),
        }

    def after_charges(self, is_conversion: bool, step: int, k: int) -> float:
        """Profit per lot less the charges of the three opening orders (closing ones would only add)."""
        buy, sell = Side.BUY, Side.SELL
        legs = (
            [("future", 0, buy, "ask"), ("call", k, sell, "bid"), ("put", k, buy, "ask")]
            if is_conversion
            else [("future", 0, sell, "bid"), ("call", k, buy, "ask"), ("put", k, sell, "bid")]
        )
        instrument = {"future": [self.future], "call": self.calls, "put": self.puts}
        charges = sum(
            order_charges(
                instrument[leg][j],
                side,
                self.future.lot_size,
                int(self.quotes[leg, at][step, j]),
                self.m.session.day,
                self.m.rules,
            ).total
            for leg, j, side, at in legs
        )
        return float(self.before[is_conversion][step, k]) - charges / 100

    def best_after_charges(self, checked: int) -> tuple[float, int]:
        """The best profit after charges among the `checked` best before charges of each side, and
        every combination that is not a loss before charges (charges are never negative: the rest lose).
        Returns (that profit, how many combinations were charged)."""
        best, charged = -math.inf, 0
        for is_conversion, table in self.before.items():
            order = np.argsort(table, axis=None)[::-1]
            count = max(checked, int((table >= 0).sum()))
            for step, k in zip(*np.unravel_index(order[:count], table.shape), strict=True):
                best = max(best, self.after_charges(is_conversion, int(step), int(k)))
                charged += 1
        return best, charged


@pytest.mark.parametrize(("seed", "day"), CASES[::2])
@pytest.mark.parametrize("underlying", ["NIFTY", "BANKNIFTY"])
def test_no_conversion_or_reversal_is_profitable_after_charges(seed: int, day: date, underlying: str) -> None:
    check_synthetics(seed, day, underlying)


def check_synthetics(seed: int, day: date, underlying: str) -> None:
    """At every minute's quotes, no strike of any of the three listed months gives a conversion or a
    reversal that makes money after Zerodha's charges."""
    m = market(seed, day, interval_s=60)  # every minute of the day: 375 quotes per instrument
    for expiry in m.calendar.monthly_expiries(day, 3):  # the months the master lists futures for
        synthetics = Synthetics(m, underlying, expiry)
        best, charged = synthetics.best_after_charges(checked=25)
        assert charged >= 50
        assert best < 0, f"{underlying} {expiry}: a lot makes Rs {best:.2f} after charges"


# --- paths -------------------------------------------------------------------------------------------


def test_consecutive_days_join_up_with_realistic_overnight_gaps() -> None:
    days = NseCalendar().trading_days(date(2026, 3, 2), date(2026, 5, 15))[:41]  # Holi, Good Friday, ...
    assert len(days) == 41
    check_gaps(7, days)


def check_gaps(seed: int, days: list[date]) -> None:
    """Each day opens where the previous one closed times its overnight gap; over the 40 gaps NIFTY's and
    RELIANCE's standard deviations are at most 1.5% (and not zero), NIFTY's close-to-close volatility
    near its profile's 13% a year."""
    opens, closes, stock_opens, stock_closes = [], [], [], []
    for day in days:
        m = MarketSimulator(SimSession(seed, day, OPEN, CLOSE))
        path, stock = m.index_path("NIFTY"), m.stock_path("RELIANCE")
        opens.append(path[0])
        closes.append(path[-1])
        stock_opens.append(stock[0])
        stock_closes.append(stock[-1])
        if day != days[0]:
            assert m.levels("NIFTY").previous_close == pytest.approx(closes[-2], rel=1e-12)
    gaps = np.log(np.array(opens[1:]) / np.array(closes[:-1]))
    stock_gaps = np.log(np.array(stock_opens[1:]) / np.array(stock_closes[:-1]))
    assert 0.001 < gaps.std() <= 0.015, f"NIFTY overnight gaps: standard deviation {gaps.std():.4f}"
    assert 0.001 < stock_gaps.std() <= 0.015, (
        f"RELIANCE overnight gaps: standard deviation {stock_gaps.std():.4f}"
    )
    daily = np.log(np.array(closes[1:]) / np.array(closes[:-1]))
    annual = daily.std() * math.sqrt(252)
    assert 0.5 * 0.13 < annual < 1.6 * 0.13, f"NIFTY close-to-close volatility {annual:.1%} a year"


def test_every_date_stays_near_the_reference_levels() -> None:
    calendar = NseCalendar()
    last = max(d for d in calendar.rules.holidays)
    m = MarketSimulator(SimSession(7, calendar.previous_trading_day(last), OPEN, CLOSE))
    for name in (*INDEX_PROFILES, "RELIANCE", "ADANIENT"):
        reference = INDEX_PROFILES[name].level if name in INDEX_PROFILES else STOCKS[name].price
        closes = m.daily.closes(name)
        assert len(closes) > 450
        assert (np.abs(np.log(closes / reference)) < 0.6).all(), name


def test_volatility_is_higher_near_the_open_and_close_than_at_midday() -> None:
    for seed in (7, 8):
        returns = np.diff(np.log(market(seed).index_path("NIFTY")))
        open_vol, midday_vol, close_vol = (
            returns[a : a + 1200].std() for a in (0, 10_000, len(returns) - 1200)
        )
        assert open_vol > 1.5 * midday_vol
        assert close_vol > 1.2 * midday_vol
        daily = returns.std() * math.sqrt(len(returns))
        assert 0.002 < daily < 0.02  # NIFTY's intraday range: a fraction of a percent to about 2%


def test_stocks_and_indices_move_with_nifty() -> None:
    m = market()
    nifty = np.diff(np.log(m.index_path("NIFTY")[::60]))
    for name, floor in (("BANKNIFTY", 0.8), ("FINNIFTY", 0.8)):
        assert np.corrcoef(nifty, np.diff(np.log(m.index_path(name)[::60])))[0, 1] > floor, name
    stocks = [
        np.corrcoef(nifty, np.diff(np.log(m.stock_path(s)[::60])))[0, 1] for s in ("SBIN", "RELIANCE", "LT")
    ]
    assert min(stocks) > 0.3 and float(np.mean(stocks)) > 0.45, stocks


# --- the master --------------------------------------------------------------------------------------


def test_the_master_lists_indices_three_months_of_futures_chains_and_stocks() -> None:
    m = market()
    master = m.master
    for underlying in ("NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY"):
        assert master.index(underlying).kind is Kind.INDEX
        futures = [f for f in master if f.kind is Kind.FUT and f.underlying == underlying]
        assert sorted(f.expiry for f in futures if f.expiry) == m.calendar.monthly_expiries(DAY, 3)
    assert master.option_expiries("NIFTY")[:2] == [date(2026, 12, 1), date(2026, 12, 8)]
    assert master.option_expiries("BANKNIFTY") == [date(2026, 12, 29), date(2027, 1, 26), date(2027, 2, 23)]
    chain = master.chain("BANKNIFTY")
    assert len(chain.strikes) == 121 and {
        b - a for a, b in zip(chain.strikes, chain.strikes[1:], strict=False)
    } == {100 * 100}
    assert abs(chain.strikes[60] / 100 - m.levels("BANKNIFTY").open) <= 50
    assert set(master.equities()) == set(STOCKS)
    for symbol in master.equities():
        stock = master.equity(symbol)
        assert stock and stock.tick == (1 if m.levels(symbol).open < 250 else 5)


def test_dates_before_the_anchor_are_refused_with_the_rule() -> None:
    with pytest.raises(ValueError, match=r"daily paths start on 2025-01-01"):
        MarketSimulator(SimSession(7, date(2024, 12, 31), OPEN, CLOSE))


def test_a_session_on_a_closed_day_still_simulates() -> None:
    saturday = DAY + timedelta(days=1)
    m = MarketSimulator(SimSession(7, saturday, OPEN, CLOSE))
    assert m.levels("NIFTY").previous_close == pytest.approx(market().index_path("NIFTY")[-1], rel=1e-12)
