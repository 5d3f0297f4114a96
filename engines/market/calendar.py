"""IST time and the NSE trading calendar: trading days and derivative expiries, from the dated rules.

Times inside the engine are epoch milliseconds (ints, cheap on the hot path); `ms` and `ist` convert at
the edges. IST has had no daylight saving since 1945, so a fixed offset is exact.

Expiries (rules: expiry_weekdays.csv): a weekly contract expires on the rule's weekday of its week, a
monthly one on the last such day of its month; an expiry that falls on a holiday moves to the previous
trading day. An expiry in a year with no holiday list yet (the far contracts listed late in a year) is
taken on its nominal day; a trading date in such a year is refused.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from engines.market.rules import MarketRules, load_rules

IST = timezone(timedelta(hours=5, minutes=30), "IST")
MINUTE_MS = 60_000


def now_ist() -> datetime:
    return datetime.now(IST)


def at_ist(day: date, clock_time: time) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=IST)


def ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(moment.timestamp() * 1000)


def ist(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, IST)


def iso(epoch_ms: int) -> str:
    """The artifacts' time format: 2026-11-27T09:38:00.000+05:30."""
    return ist(epoch_ms).isoformat(timespec="milliseconds")


class NseCalendar:
    def __init__(self, rules: MarketRules | None = None) -> None:
        self.rules = rules or load_rules()

    def is_trading_day(self, day: date) -> bool:
        self.rules.check_covered(day)
        return day.weekday() < 5 and day not in self.rules.holidays

    def why_closed(self, day: date) -> str | None:
        """None on a trading day, else why NSE is closed (for error messages)."""
        if self.is_trading_day(day):
            return None
        if day.weekday() >= 5:
            return f"a {day:%A}"
        return f"an NSE holiday ({self.rules.holidays[day]})"

    def previous_trading_day(self, day: date) -> date:
        """`day` if it trades, else the trading day before it."""
        while not self.is_trading_day(day):
            day -= timedelta(days=1)
        return day

    def next_trading_day(self, day: date) -> date:
        """`day` if it trades, else the trading day after it."""
        while not self.is_trading_day(day):
            day += timedelta(days=1)
        return day

    def last_trading_day(self, on_or_before: date) -> date:
        return self.previous_trading_day(on_or_before)

    def trading_days(self, first: date, last: date) -> list[date]:
        days, day = [], first
        while day <= last:
            if self.is_trading_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    # --- expiries ----------------------------------------------------------------------------------

    def _nominal_in(self, first: date, last: date, backwards: bool) -> date:
        """The first (or last) day in [first, last] on the expiry weekday in force for that day."""
        day = last if backwards else first
        step = timedelta(days=-1 if backwards else 1)
        while first <= day <= last:
            if day.weekday() == self.rules.expiry_weekday(day):
                return day
            day += step
        raise ValueError(f"no expiry weekday between {first} and {last}")

    def _moved_over_holidays(self, expiry: date) -> date:
        if expiry.year not in self.rules.holiday_years:
            return expiry
        return self.previous_trading_day(expiry)

    def monthly_expiry(self, year: int, month: int) -> date:
        first = date(year, month, 1)
        last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return self._moved_over_holidays(self._nominal_in(first, last, backwards=True))

    def monthly_expiries(self, day: date, count: int) -> list[date]:
        """The next `count` monthly expiries on or after `day`."""
        found: list[date] = []
        year, month = day.year, day.month
        while len(found) < count:
            expiry = self.monthly_expiry(year, month)
            if expiry >= day:
                found.append(expiry)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    def weekly_expiries(self, day: date, count: int) -> list[date]:
        """The next `count` weekly expiries on or after `day` (monthlies included: they are that week's)."""
        found: list[date] = []
        monday = day - timedelta(days=day.weekday())
        while len(found) < count:
            expiry = self._moved_over_holidays(self._nominal_in(monday, monday + timedelta(days=6), False))
            if expiry >= day:
                found.append(expiry)
            monday += timedelta(days=7)
        return found

    def option_expiry(self, underlying: str, day: date) -> date:
        """The nearest options expiry on or after `day`: weekly where the index has weeklies."""
        if self.rules.weekly_options(underlying, day):
            return self.weekly_expiries(day, 1)[0]
        return self.monthly_expiries(day, 1)[0]
