"""Warm-up bars: an instrument's last minute bars before the trading day, from Kite's historical API.

    warmup_bars(source, paths, instrument, day, count) -> the `count` latest minute Bars before `day`

Strategies' indicators need bars before the open (an EMA of 50 needs some 50 minutes). They come from the
trading days before `day`, walking back until `count` bars are found or WARMUP_LOOKBACK_DAYS more trading
days than `count` needs were searched (a contract listed last week, or an option that did not trade every
minute, has fewer; Kite sends no candle for a minute without trades). One request covers as many days as
`count` needs (375 bars a session); each request takes a historical slot (3/s, shared: ratelimit.py).

The bars are cached at market/<date>/history/<token>.json with their times in IST, so a replay of the day,
or an engine restarted mid-day, gets the very same bars without asking Kite. Times: the client gives each
candle a tz-aware +05:30 datetime; a Bar's `start_ms` is that minute in epoch ms, exact whatever the
process's timezone.
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Protocol

from engines.artifacts.files import read_json, write_json_atomic
from engines.artifacts.layout import ArtifactPaths
from engines.market.calendar import IST, NseCalendar, at_ist, ist, ms, now_ist
from engines.market.instruments import Instrument
from engines.quotes import Bar

log = logging.getLogger("kite")
BARS_PER_SESSION = 375  # 09:15-15:30
WARMUP_LOOKBACK_DAYS = 5  # trading days searched beyond what `count` needs, for gaps and new contracts
MAX_WARMUP_BARS = 20 * BARS_PER_SESSION  # keeps one request well inside Kite's 60-day minute span
CACHE_VERSION = 1


class CandleSource(Protocol):
    """Where minute candles come from (KiteRest, or a stand-in in tests)."""

    def minute_candles(self, token: int, start: datetime, end: datetime) -> list[dict[str, Any]]: ...


def warmup_bars(
    source: CandleSource,
    paths: ArtifactPaths,
    instrument: Instrument,
    day: date,
    count: int,
    calendar: NseCalendar | None = None,
) -> list[Bar]:
    """The `count` latest minute bars of `instrument` before `day` (oldest first; fewer when the trading
    days searched hold fewer), from the day's cache or from Kite."""
    if not 1 <= count <= MAX_WARMUP_BARS:
        raise ValueError(f"warm-up of {count} bars: ask for 1 to {MAX_WARMUP_BARS} (20 sessions of minutes)")
    path = paths.history(day, instrument.token)
    cached = _read_cache(path, instrument, day)
    if cached is not None and (len(cached[0]) >= count or cached[1]):
        return [_bar(instrument, row) for row in cached[0][-count:]]
    rows, exhausted = _fetch(source, instrument, day, count, calendar or NseCalendar())
    write_json_atomic(
        path,
        {
            "version": CACHE_VERSION,
            "token": instrument.token,
            "exchange": instrument.exchange,
            "symbol": instrument.symbol,
            "interval": "minute",
            "day": day.isoformat(),
            "requested": count,
            "exhausted": exhausted,  # fewer than `requested` exist in the days searched
            "fetched_ist": now_ist().isoformat(timespec="seconds"),
            "bars": rows,  # [start (ISO 8601, +05:30), open, high, low, close, volume], oldest first
        },
        durable=False,  # a lost cache is fetched again
    )
    if exhausted:
        log.info("warm-up: %s has %d of the %d bars asked before %s", instrument.key, len(rows), count, day)
    return [_bar(instrument, row) for row in rows[-count:]]


Row = list[Any]  # [start ISO, open, high, low, close, volume]


def recorded_warmup(paths: ArtifactPaths, instrument: Instrument, day: date, count: int) -> list[Bar]:
    """The warm-up bars a Kite day cached under `paths` (a replay or backtest of that day gets the bars the
    live day got, without Kite); none when the day had none."""
    cached = _read_cache(paths.history(day, instrument.token), instrument, day)
    return [_bar(instrument, row) for row in cached[0][-count:]] if cached is not None and count > 0 else []


def _read_cache(path: Path, instrument: Instrument, day: date) -> tuple[list[Row], bool] | None:
    """The cached rows and whether they are all there are; None when there is no usable cache."""
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return None
    expected = {
        "version": CACHE_VERSION,
        "exchange": instrument.exchange,
        "symbol": instrument.symbol,
        "day": day.isoformat(),
    }
    if (
        not isinstance(data, dict)
        or any(data.get(key) != value for key, value in expected.items())
        or not isinstance(data.get("bars"), list)
    ):
        return None  # another instrument under a reused token, or an older format: fetch again
    return data["bars"], bool(data.get("exhausted"))


def _fetch(
    source: CandleSource, instrument: Instrument, day: date, count: int, calendar: NseCalendar
) -> tuple[list[Row], bool]:
    """Rows oldest first, and whether the search ran out of days before `count` rows."""
    per_request = max(1, math.ceil(count / BARS_PER_SESSION))
    budget = per_request + WARMUP_LOOKBACK_DAYS
    rows: list[Row] = []
    before = day
    while len(rows) < count and budget > 0:
        days = _trading_days_before(before, min(per_request, budget), calendar)
        budget -= len(days)
        candles = source.minute_candles(
            instrument.token, at_ist(days[0], time(0, 0)), at_ist(days[-1], time(23, 59, 59))
        )
        rows = _rows(candles, days[0], before) + rows
        before = days[0]
    return rows, len(rows) < count


def _trading_days_before(day: date, n: int, calendar: NseCalendar) -> list[date]:
    """The `n` trading days before `day`, oldest first."""
    days: list[date] = []
    while len(days) < n:
        day = calendar.previous_trading_day(date.fromordinal(day.toordinal() - 1))
        days.append(day)
    return days[::-1]


def _rows(candles: list[dict[str, Any]], first: date, before: date) -> list[Row]:
    """The candles of [first, before) as cache rows, oldest first, one per minute."""
    by_minute: dict[int, Row] = {}
    for candle in candles:
        moment = candle["date"]
        if not isinstance(moment, datetime):
            moment = datetime.fromisoformat(str(moment))
        if moment.tzinfo is None:  # Kite's candle times are IST
            moment = moment.replace(tzinfo=IST)
        if not first <= moment.astimezone(IST).date() < before:
            continue
        start = ms(moment)
        by_minute[start] = [
            ist(start).isoformat(timespec="seconds"),
            float(candle["open"]),
            float(candle["high"]),
            float(candle["low"]),
            float(candle["close"]),
            int(candle["volume"]),
        ]
    return [by_minute[start] for start in sorted(by_minute)]


def _bar(instrument: Instrument, row: Row) -> Bar:
    start, open_, high, low, close, volume = row
    return Bar(
        instrument=instrument,
        start_ms=ms(datetime.fromisoformat(start)),
        open=float(open_),
        high=float(high),
        low=float(low),
        close=float(close),
        volume=int(volume),
    )
