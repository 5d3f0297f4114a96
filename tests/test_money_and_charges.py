"""Exact money and Zerodha's charges, checked against figures worked out by hand from the rate table
in shared/reference/KITE_AND_NSE.md §3."""

from __future__ import annotations

from datetime import date

import pytest

from engines.charges import Side, order_charges
from engines.instruments import Instrument, Kind, Underlying
from engines.money import fmt_rupees, price_to_paise, rupees_to_paise

NIFTY_FUT = Instrument(
    1, "NIFTY26DECFUT", "NFO", Kind.FUT, "NIFTY", 10, 65, date(2026, 12, 29), underlying=Underlying.NIFTY
)
NIFTY_CE = Instrument(
    2, "NIFTY26D0127500CE", "NFO", Kind.CE, "NIFTY", 5, 65, date(2026, 12, 1), 2_750_000, Underlying.NIFTY
)
RELIANCE = Instrument(3, "RELIANCE", "NSE", Kind.EQ, "RELIANCE INDUSTRIES", 5, 1)
DAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("price", "tick", "paise"),
    [
        (27500.3, 10, 2_750_030),
        (27500.34, 10, 2_750_030),
        (27500.35, 10, 2_750_040),
        ("124.40", 5, 12_440),
        (0.05, 5, 5),
        (1669.9, 5, 166_990),
        (169.99, 1, 16_999),
        (0.1 + 0.2, 5, 30),
    ],
)
def test_price_to_paise_rounds_to_the_tick(price: float | str, tick: int, paise: int) -> None:
    assert price_to_paise(price, tick) == paise


def test_fmt_rupees_always_shows_two_decimals_and_the_sign() -> None:
    assert [fmt_rupees(p) for p in (0, 5, -5, 123_456, -100)] == ["0.00", "0.05", "-0.05", "1234.56", "-1.00"]
    assert rupees_to_paise("1000000") == 100_000_000


def test_futures_sell_after_the_april_2026_stt_change() -> None:
    # Turnover 65 x 27500 = 17,87,500. Brokerage capped at 20; STT 0.05% = 893.75; exchange 0.00183% =
    # 32.71125; SEBI 1.7875; no stamp on a sell; GST 18% of 54.49875 = 9.809775.
    c = order_charges(NIFTY_FUT, Side.SELL, 65, 2_750_000, DAY)
    assert (c.brokerage, c.stt, c.exchange, c.sebi, c.stamp, c.gst) == (2000, 89375, 3271, 179, 0, 981)
    assert c.total == 95806


def test_futures_sell_before_the_change_paid_0_02_percent_stt() -> None:
    assert order_charges(NIFTY_FUT, Side.SELL, 65, 2_750_000, date(2026, 3, 30)).stt == 35750


def test_option_buy_pays_flat_brokerage_stamp_and_no_stt() -> None:
    # Premium turnover 65 x 124.40 = 8086. Exchange 0.03553% = 2.8729558; SEBI 0.008086; stamp 0.003% =
    # 0.24258; GST 18% of 22.8810418 = 4.1185875.
    c = order_charges(NIFTY_CE, Side.BUY, 65, 12_440, DAY)
    assert (c.brokerage, c.stt, c.exchange, c.sebi, c.stamp, c.gst) == (2000, 0, 287, 1, 24, 412)
    assert c.total == 2724


def test_option_sell_pays_stt_on_premium() -> None:
    assert order_charges(NIFTY_CE, Side.SELL, 65, 12_440, DAY).stt == 1213  # 0.15% of 8086 = 12.129


def test_equity_intraday_sell() -> None:
    # Turnover 66 x 1510 = 99,660: brokerage min(29.898, 20); STT 0.025% = 24.915; exchange 0.00307% =
    # 3.059562; SEBI 0.09966; GST 18% of 23.159222 = 4.16866.
    c = order_charges(RELIANCE, Side.SELL, 66, 151_000, DAY)
    assert (c.brokerage, c.stt, c.exchange, c.sebi, c.stamp, c.gst) == (2000, 2492, 306, 10, 0, 417)


def test_small_equity_order_pays_percentage_brokerage() -> None:
    c = order_charges(RELIANCE, Side.BUY, 10, 151_000, DAY)  # turnover 15,100: 0.03% = 4.53 < 20
    assert c.brokerage == 453
    assert c.stamp == 45  # 0.003% = 0.453


def test_an_index_is_not_tradable() -> None:
    index = Instrument(256265, "NIFTY 50", "NSE", Kind.INDEX, "NIFTY", 5, 0, underlying=Underlying.NIFTY)
    with pytest.raises(ValueError, match="not tradable"):
        order_charges(index, Side.BUY, 1, 100, DAY)
