"""Positions in exact paise: realised + unrealised always equals Kite's positions arithmetic."""

from __future__ import annotations

import random

from engines.charges import Side
from engines.margins import Holding, MarginModel
from engines.market.instruments import Kind
from engines.portfolio import Book, Position
from engines.vocabulary import Product
from tests.factories import DAY, FUT, STOCK, option


def kite_pnl(p: Position) -> int:
    """Kite: pnl = (sell_value - buy_value) + quantity * last_price (multiplier 1 for NSE/NFO)."""
    return p.sell_value - p.buy_value + p.quantity * p.last_price


def test_long_round_trip_realises_the_difference() -> None:
    p = Position(FUT)
    assert p.apply(Side.BUY, 65, 2_750_000, 500) == 0
    assert p.apply(Side.SELL, 65, 2_751_000, 1_000) == 65 * 1_000
    assert (p.quantity, p.cost, p.realised, p.charges, p.unrealised) == (0, 0, 65_000, 1_500, 0)


def test_flip_closes_the_old_side_and_opens_the_new_one() -> None:
    p = Position(FUT)
    p.apply(Side.BUY, 65, 10_000, 0)
    realised = p.apply(Side.SELL, 130, 11_000, 0)
    assert realised == 65 * 1_000
    assert (p.quantity, p.cost) == (-65, -65 * 11_000)
    p.last_price = 10_000
    assert p.unrealised == 65 * 1_000  # short gains as the price falls
    assert p.pnl == kite_pnl(p)


def test_partial_closes_round_the_cost_to_the_paisa_and_lose_nothing() -> None:
    p = Position(STOCK)
    for price in (1_000, 1_000, 1_001):
        p.apply(Side.BUY, 1, price, 0)
    p.apply(Side.SELL, 2, 1_000, 0)  # removes round(3001 * 2 / 3) = 2001
    assert (p.realised, p.cost) == (-1, 1_000)
    p.apply(Side.SELL, 1, 1_000, 0)
    assert (p.realised, p.cost, p.quantity) == (-1, 0, 0)
    assert p.realised == p.sell_value - p.buy_value


def test_random_fills_always_match_kites_formula() -> None:
    rng = random.Random(7)
    p = Position(FUT)
    for _ in range(2_000):
        p.apply(
            rng.choice([Side.BUY, Side.SELL]),
            65 * rng.randint(1, 3),
            2_700_000 + 10 * rng.randint(-500, 500),
            0,
        )
        p.last_price = 2_700_000 + 10 * rng.randint(-500, 500)
        assert p.pnl == kite_pnl(p)


def test_book_totals() -> None:
    book = Book(capital=100_000_000)
    book.position(FUT).apply(Side.BUY, 65, 2_750_000, 95_806)
    book.position(option(27500, Kind.CE)).apply(Side.BUY, 65, 12_440, 2_724)
    assert book.charges == 95_806 + 2_724
    assert book.net_pnl == -(95_806 + 2_724)
    assert [p.instrument.symbol for p in book.open_positions()] == ["NIFTY26DECFUT", "NIFTY26D0127500CE"]


def test_margins_follow_the_dated_rates() -> None:
    model = MarginModel(DAY)
    # rules/margin_rates.csv: futures SPAN 10% + exposure 2% of notional; MIS stocks 20%; CNC 100%;
    # long options the premium.
    assert model.required([Holding(FUT, 65, 2_750_000, Product.MIS)]) == 65 * 2_750_000 * 12 // 100
    assert model.required([Holding(FUT, -65, 2_750_000, Product.NRML)]) == 65 * 2_750_000 * 12 // 100
    assert model.required([Holding(STOCK, 100, 150_000, Product.MIS)]) == 100 * 150_000 // 5
    assert model.required([Holding(STOCK, 100, 150_000, Product.CNC)]) == 100 * 150_000
    assert model.required([Holding(option(27500, Kind.CE), 65, 12_440, Product.MIS)]) == 65 * 12_440


def test_a_short_straddle_blocks_the_worse_sides_span_and_both_legs_exposure() -> None:
    spot = 2_750_000  # NIFTY at 27,500
    model = MarginModel(DAY, spot=lambda underlying: spot if underlying == "NIFTY" else None)
    call = Holding(option(27500, Kind.CE), -65, 12_000, Product.MIS)
    put = Holding(option(27500, Kind.PE), -65, 11_000, Product.MIS)
    leg_span = 65 * spot * 10 // 100  # at the money: nothing out of the money to take off
    exposure = 65 * spot * 2 // 100
    assert model.required([call]) == leg_span + exposure
    assert model.required([call, put]) == leg_span + 2 * exposure  # the two sides never lose together
    far_call = Holding(option(29000, Kind.CE), -65, 500, Product.MIS)  # 1,500 points out of the money
    assert model.required([far_call]) == 65 * (spot * 10 // 100 - 150_000) + exposure
    very_far = Holding(option(30500, Kind.CE), -65, 5, Product.MIS)  # 2,750 - 3,000 < 3% of 27,500: minimum
    assert model.required([very_far]) == 65 * spot * 3 // 100 + exposure


def test_realised_by_previews_a_fill_without_booking_it() -> None:
    p = Position(FUT)
    p.apply(Side.BUY, 130, 2_750_000, 0)
    assert p.realised_by(Side.SELL, 65, 2_751_000) == 65 * 1_000
    assert p.realised_by(Side.BUY, 65, 2_751_000) == 0  # adds to the position: realises nothing
    assert (p.quantity, p.realised) == (130, 0)
