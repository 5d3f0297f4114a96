"""IST time, the NSE trading calendar and derivative expiry rules.

Facts (shared/reference/KITE_AND_NSE.md §4): index derivatives expire on Tuesday (monthly: the last
Tuesday of the month; NIFTY also weekly); when the expiry day is a holiday it moves to the previous
trading day. Holidays are listed for the years we have published lists for; other years fall back to
"every weekday trades", which `holidays_known()` lets callers warn about.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

# IST has had no daylight saving since 1945, so a fixed offset is exact and needs no tz database.
IST = timezone(timedelta(hours=5, minutes=30), "IST")

NSE_HOLIDAYS: frozenset[date] = frozenset(
    date.fromisoformat(d)
    for d in (
        # 2025
        "2025-02-26",
        "2025-03-14",
        "2025-03-31",
        "2025-04-10",
        "2025-04-14",
        "2025-04-18",
        "2025-05-01",
        "2025-08-15",
        "2025-08-27",
        "2025-10-02",
        "2025-10-21",
        "2025-10-22",
        "2025-11-05",
        "2025-12-25",
        # 2026
        "2026-01-15",
        "2026-01-26",
        "2026-03-03",
        "2026-03-26",
        "2026-03-31",
        "2026-04-03",
        "2026-04-14",
        "2026-05-01",
        "2026-05-28",
        "2026-06-26",
        "2026-09-14",
        "2026-10-02",
        "2026-10-20",
        "2026-11-10",
        "2026-11-24",
        "2026-12-25",
    )
)
_YEARS_WITH_HOLIDAY_LISTS = frozenset(d.year for d in NSE_HOLIDAYS)
TUESDAY = 1


def now_ist() -> datetime:
    return datetime.now(IST)


def at_ist(day: date, clock_time: time) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=IST)


def holidays_known(year: int) -> bool:
    return year in _YEARS_WITH_HOLIDAY_LISTS


def is_trading_day(day: date) -> bool:
    return day.weekday() < 5 and day not in NSE_HOLIDAYS


def last_weekday(on_or_before: date) -> date:
    day = on_or_before
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def previous_trading_day(day: date) -> date:
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def last_tuesday(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    day = first_next - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - TUESDAY) % 7)


def monthly_expiry(year: int, month: int) -> date:
    """The monthly index expiry: last Tuesday, moved back over holidays."""
    return previous_trading_day(last_tuesday(year, month))


def next_monthly_expiry(day: date) -> date:
    """The current-month contract's expiry on `day` (rolls to next month after this month's expiry)."""
    expiry = monthly_expiry(day.year, day.month)
    if expiry >= day:
        return expiry
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return monthly_expiry(year, month)


def next_weekly_expiry(day: date) -> date:
    """The nearest Tuesday expiry on or after `day`, moved back over holidays (NIFTY weeklies)."""
    tuesday = day + timedelta(days=(TUESDAY - day.weekday()) % 7)
    expiry = previous_trading_day(tuesday)
    if expiry < day:  # the holiday shift moved it before today: take the following week's
        expiry = previous_trading_day(tuesday + timedelta(days=7))
    return expiry
