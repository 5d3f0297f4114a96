"""Expiry rules, holidays and Kite's symbol formats."""

from __future__ import annotations

from datetime import date

from engines.instruments import Kind, Segment, Underlying, future_symbol, option_symbol, synthetic_token
from engines.nse_calendar import (
    is_trading_day,
    last_weekday,
    monthly_expiry,
    next_monthly_expiry,
    next_weekly_expiry,
)


def test_monthly_expiry_is_the_last_tuesday_moved_back_over_holidays() -> None:
    assert monthly_expiry(2026, 12) == date(2026, 12, 29)
    assert monthly_expiry(2026, 11) == date(2026, 11, 23)  # 24 Nov is Guru Nanak Jayanti
    assert monthly_expiry(2026, 3) == date(2026, 3, 30)  # 31 Mar is Mahavir Jayanti


def test_current_month_contract_rolls_after_expiry() -> None:
    assert next_monthly_expiry(date(2026, 11, 23)) == date(2026, 11, 23)
    assert next_monthly_expiry(date(2026, 11, 27)) == date(2026, 12, 29)
    assert next_monthly_expiry(date(2026, 12, 30)) == date(2027, 1, 26)


def test_weekly_expiry_is_the_next_tuesday_or_the_trading_day_before_it() -> None:
    assert next_weekly_expiry(date(2026, 11, 27)) == date(2026, 12, 1)
    assert next_weekly_expiry(date(2026, 11, 9)) == date(2026, 11, 9)  # Tue 10 Nov is a holiday
    assert next_weekly_expiry(date(2026, 11, 10)) == date(2026, 11, 17)


def test_trading_days_and_the_default_date() -> None:
    assert not is_trading_day(date(2026, 11, 28))  # Saturday
    assert not is_trading_day(date(2026, 1, 15))  # added holiday
    assert is_trading_day(date(2026, 11, 27))
    assert last_weekday(date(2026, 11, 29)) == date(2026, 11, 27)
    assert last_weekday(date(2026, 11, 27)) == date(2026, 11, 27)


def test_kite_symbol_formats() -> None:
    assert future_symbol(Underlying.NIFTY, date(2026, 12, 29)) == "NIFTY26DECFUT"
    assert (
        option_symbol(Underlying.BANKNIFTY, date(2026, 12, 29), 59000, Kind.PE, monthly=True)
        == "BANKNIFTY26DEC59000PE"
    )
    assert (
        option_symbol(Underlying.NIFTY, date(2026, 12, 1), 26000, Kind.CE, monthly=False)
        == "NIFTY26D0126000CE"
    )
    # The weekly example from Kite's virtual contract note: 13 Jul 2023, 17900 PE.
    assert (
        option_symbol(Underlying.NIFTY, date(2023, 7, 13), 17900, Kind.PE, monthly=False)
        == "NIFTY2371317900PE"
    )
    assert (
        option_symbol(Underlying.NIFTY, date(2026, 10, 6), 25000, Kind.CE, monthly=False)
        == "NIFTY26O0625000CE"
    )


def test_synthetic_tokens_carry_the_segment_in_the_low_byte() -> None:
    token = synthetic_token("NIFTY26DECFUT", Segment.NFO)
    assert token & 0xFF == 2
    assert synthetic_token("RELIANCE", Segment.NSE) & 0xFF == 1
    assert token == synthetic_token("NIFTY26DECFUT", Segment.NFO)
