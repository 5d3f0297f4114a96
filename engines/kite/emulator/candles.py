"""Historical candles, as GET /instruments/historical/:token/:interval serves them, from the simulator.

Each trading day is its own deterministic simulated day (seed, date), so candles of days before the
emulated one exist too; the emulated day's candles stop at the tape's current step (the forming candle
included, as Kite's do), later days have none. A candle is
`["2026-11-27T09:15:00+0530", open, high, low, close, volume(, oi)]` in rupees; N-minute candles are aligned
on the open (09:15, 09:20, ...), a day candle is stamped at midnight IST. Volume is what traded inside the
candle (indices: 0); oi is the value at its last step. Spans beyond Kite's per-request limits are refused
with Kite's InputException.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from numpy.typing import NDArray

from engines.errors import ConfigError
from engines.kite.emulator.envelope import input_error
from engines.market.calendar import IST, NseCalendar
from engines.market.sim import MarketSimulator, SimFeed, SimSession

I64 = NDArray[np.int64]
# interval -> minutes per candle (None: one per day), and Kite's largest span per request in days
INTERVALS: dict[str, int | None] = {
    "minute": 1,
    "3minute": 3,
    "5minute": 5,
    "10minute": 10,
    "15minute": 15,
    "30minute": 30,
    "60minute": 60,
    "day": None,
}
MAX_SPAN_DAYS = {
    "minute": 60,
    "3minute": 100,
    "5minute": 100,
    "10minute": 100,
    "15minute": 200,
    "30minute": 200,
    "60minute": 400,
    "day": 2000,
}
_NEVER = threading.Event()
Candle = list[str | float | int]


@dataclass(frozen=True, slots=True)
class MinuteBars:
    """One instrument's minute bars of one day (paise; volume per minute; oi at the minute's end)."""

    open: I64
    high: I64
    low: I64
    close: I64
    volume: I64
    oi: I64


def parse_moment(text: str, name: str) -> datetime:
    """Kite's `yyyy-mm-dd hh:mm:ss` (or a bare date), taken as IST."""
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=IST)
        except ValueError:
            continue
    raise input_error(f"invalid {name} date: expected yyyy-mm-dd hh:mm:ss")


class Candles:
    """Candles of any token of the emulated master on the emulated day and the trading days before it."""

    def __init__(self, market: MarketSimulator) -> None:
        self._market = market
        self._session = market.session
        self._calendar = NseCalendar(market.rules)
        self._lock = threading.Lock()  # handlers run in a thread pool; the caches are shared

    def candles(
        self, token: int, interval: str, start: datetime, end: datetime, with_oi: bool, current_step: int
    ) -> list[Candle]:
        minutes = INTERVALS.get(interval, 0)
        if minutes == 0:
            raise input_error(f"invalid interval; expected one of {', '.join(INTERVALS)}")
        if end < start:
            raise input_error("invalid from date: it is after the to date")
        if (end.date() - start.date()).days > MAX_SPAN_DAYS[interval]:
            raise input_error(f"interval exceeds max limit: {MAX_SPAN_DAYS[interval]} days")
        if self._market.master.get(token) is None:
            raise input_error("invalid token")
        out: list[Candle] = []
        last_day = min(end.date(), self._session.day)
        for day in self._trading_days(start.date(), last_day):
            bars = self._bars(day, token, current_step if day == self._session.day else None)
            if bars is not None:
                out += _candles(bars, day, self._session.market_open, minutes, start, end, with_oi)
        return out

    def _trading_days(self, first: date, last: date) -> list[date]:
        days = []
        day = first
        while day <= last:
            try:
                if self._calendar.is_trading_day(day):
                    days.append(day)
            except ConfigError:  # a year the market rules do not cover: no data, as for a holiday
                pass
            day += timedelta(days=1)
        return days

    def _bars(self, day: date, token: int, through_step: int | None) -> MinuteBars | None:
        """Minute bars of `token` on `day` (through `through_step` on the emulated day), None if the
        instrument was not listed that day."""
        if through_step is not None:  # the emulated day moves on: not cached
            return _minute_bars(self._market, token, through_step)
        with self._lock:
            return self._past_bars(day, token)

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one Candles per emulator, kept for its lifetime
    def _past_bars(self, day: date, token: int) -> MinuteBars | None:
        market = self._simulator(day)
        return None if market is None else _minute_bars(market, token, market.session.steps - 1)

    @functools.lru_cache(maxsize=4)  # noqa: B019
    def _simulator(self, day: date) -> MarketSimulator | None:
        s = self._session
        try:
            return MarketSimulator(SimSession(s.seed, day, s.market_open, s.market_close, s.tick_interval_s))
        except ConfigError:
            return None


def _minute_bars(market: MarketSimulator, token: int, through_step: int) -> MinuteBars | None:
    instrument = market.master.get(token)
    if instrument is None or through_step < 0:
        return None
    s = market.session
    feed = SimFeed(market)
    feed.subscribe([instrument])
    feed.open(s.start_ms - 1)
    batch = feed.read(s.step_ms(through_step), _NEVER)
    steps_per_minute = max(1, 60 // s.tick_interval_s)
    starts = np.arange(0, len(batch), steps_per_minute)
    ends = np.minimum(starts + steps_per_minute, len(batch)) - 1
    volume_at_end = batch.volume[ends]
    return MinuteBars(
        open=batch.last_price[starts],
        high=np.maximum.reduceat(batch.last_price, starts),
        low=np.minimum.reduceat(batch.last_price, starts),
        close=batch.last_price[ends],
        volume=np.diff(volume_at_end, prepend=0),
        oi=batch.oi[ends],
    )


def _candles(
    bars: MinuteBars,
    day: date,
    market_open: time,
    minutes: int | None,
    start: datetime,
    end: datetime,
    with_oi: bool,
) -> list[Candle]:
    n = len(bars.open)
    size = n if minutes is None else minutes
    first_minute = datetime.combine(day, market_open, tzinfo=IST)
    out: list[Candle] = []
    for first in range(0, n, size):
        last = min(first + size, n) - 1
        stamp = (
            datetime.combine(day, time(0), tzinfo=IST)
            if minutes is None
            else first_minute + timedelta(minutes=first)
        )
        in_range = start.date() <= day <= end.date() if minutes is None else start <= stamp <= end
        if not in_range:
            continue
        candle: Candle = [
            stamp.strftime("%Y-%m-%dT%H:%M:%S+0530"),
            int(bars.open[first]) / 100,
            int(bars.high[first : last + 1].max()) / 100,
            int(bars.low[first : last + 1].min()) / 100,
            int(bars.close[last]) / 100,
            int(bars.volume[first : last + 1].sum()),
        ]
        if with_oi:
            candle.append(int(bars.oi[last]))
        out.append(candle)
    return out
