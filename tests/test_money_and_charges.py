"""Exact money: paise, rounding to the tick, rupee strings. (Zerodha's charges: tests/test_charges.py.)"""

from __future__ import annotations

import pytest

from engines.money import fmt_rupees, price_to_paise, rupees_to_paise


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
