"""The simulated market across days: each trading day's open and close, joined up from an anchor date.

Every index follows one daily process in x = ln(level / reference level), over the trading days from
ANCHOR to the day asked for:

    open(d)  = (1 - k) * close(d - 1) + gap(d)      overnight: a slow pull back towards the reference
    close(d) = open(d) + move(d)                    the session's own move, which the intraday path bridges

gap and move are normal, keyed by (seed, name, date), and split the profile's close-to-close variance
GAP_SHARE to 1 - GAP_SHARE. A gap after a weekend or holiday is larger, and one night in JUMP_ODDS is a
news night (JUMP_SCALE times the usual gap). The pull (half-life REVERSION_HALF_LIFE_DAYS) keeps any date
within the rules' range near the reference levels, without a visible drift on any day. The other indices
and the stocks are beta times NIFTY's x plus their own process of the same form, with the volatility
their profile leaves to them (`own_vol`).

A day costs one pass over a few hundred dates per name: cheap for any date, with no state to carry.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from engines.market.calendar import NseCalendar
from engines.market.sim.noise import FloatArray, hashed, key_of, normal, uniform
from engines.market.sim.reference import INDEX_PROFILES, STOCKS

MARKET = "NIFTY"  # the factor every other index and stock follows by its beta
ANCHOR = date(2025, 1, 1)  # day 0 of every daily path: the first date the market rules cover
TRADING_DAYS = 252
GAP_SHARE = 0.3  # of the close-to-close variance: NSE opens on news from the US and Asia overnight
CLOSED_DAY_VARIANCE = 0.15  # extra gap variance per calendar day the market was shut before the open
JUMP_ODDS = 25
JUMP_SCALE = 2.5
REVERSION_HALF_LIFE_DAYS = 180
_PULL = 1.0 - 0.5 ** (1.0 / REVERSION_HALF_LIFE_DAYS)
_JUMP_NORM = math.sqrt(1.0 + (JUMP_SCALE**2 - 1.0) / JUMP_ODDS)  # keeps the gap's variance as set
_SALT_GAP, _SALT_MOVE, _SALT_JUMP, _SALT_START = 0, 2, 4, 6


@dataclass(frozen=True, slots=True)
class DayLevels:
    """One name's levels on one day, in rupees."""

    previous_close: float  # the previous trading day's close
    open: float
    close: float

    @property
    def gap(self) -> float:
        """The overnight log return, ln(open / previous close)."""
        return math.log(self.open / self.previous_close)

    @property
    def move(self) -> float:
        """The session's log return, ln(close / open)."""
        return math.log(self.close / self.open)


class DailyPaths:
    """Opens and closes of every simulated index and stock from ANCHOR to `day`, for one seed."""

    def __init__(self, seed: int, day: date, calendar: NseCalendar) -> None:
        if day < ANCHOR:
            raise ValueError(
                f"{day.isoformat()}: the simulator's daily paths start on {ANCHOR.isoformat()} "
                "(engines/market/sim/daily.py ANCHOR); simulate a date on or after it"
            )
        self.seed = seed
        self.day = day
        days = calendar.trading_days(ANCHOR, day)
        if not days or days[-1] != day:
            days.append(day)  # a session on a closed day (tests, benchmarks) is one more day
        ordinals = [d.toordinal() for d in days]
        self._ordinals = np.array(ordinals, dtype=np.uint64)
        shut = np.diff(np.array(ordinals, dtype=np.float64), prepend=ordinals[0] - 1) - 1.0  # days closed
        self._gap_scale: FloatArray = np.sqrt(1.0 + CLOSED_DAY_VARIANCE * shut)

    def levels(self, name: str) -> DayLevels:
        """The day's previous close, open and close of an index (NIFTY, ...) or a stock (RELIANCE, ...)."""
        previous, x_open, x_close = (float(x[-1]) for x in self._path(name))
        reference = _reference(name)
        return DayLevels(
            reference * math.exp(previous), reference * math.exp(x_open), reference * math.exp(x_close)
        )

    def closes(self, name: str) -> FloatArray:
        """Every trading day's close from ANCHOR to the day, in rupees (for checks and charts)."""
        result: FloatArray = _reference(name) * np.exp(self._path(name)[2])
        return result

    @functools.cache  # noqa: B019 - one DailyPaths per simulated day
    def _path(self, name: str) -> tuple[FloatArray, FloatArray, FloatArray]:
        """x at the previous close, the open and the close of every day."""
        own = self._walk(name, own_vol(name) / math.sqrt(TRADING_DAYS))
        if name == MARKET:
            return own
        beta, market = beta_to_market(name), self._path(MARKET)
        prev, x_open, x_close = (beta * m + o for m, o in zip(market, own, strict=True))
        return prev, x_open, x_close

    def _walk(self, name: str, daily_vol: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """x at every day's open and close: the pulled-back random walk of the module docstring."""
        key = np.array([key_of(f"{self.seed}:daily:{name}")], dtype=np.uint64)
        days = self._ordinals
        jump = np.where(uniform(hashed(key, days, _SALT_JUMP))[:, 0] < 1.0 / JUMP_ODDS, JUMP_SCALE, 1.0)
        gap_vol = daily_vol * math.sqrt(GAP_SHARE) / _JUMP_NORM
        gaps = (gap_vol * self._gap_scale * jump * normal(key, days, _SALT_GAP)[:, 0]).tolist()
        moves = (daily_vol * math.sqrt(1.0 - GAP_SHARE) * normal(key, days, _SALT_MOVE)[:, 0]).tolist()
        prev, x_open, x_close = np.empty(len(days)), np.empty(len(days)), np.empty(len(days))
        x = self._start(name, daily_vol)
        for i, (gap, move) in enumerate(zip(gaps, moves, strict=True)):
            prev[i] = x
            x_open[i] = x = (1.0 - _PULL) * x + gap
            x_close[i] = x = x + move
        return prev, x_open, x_close

    def _start(self, name: str, daily_vol: float) -> float:
        """x at the close before ANCHOR: a draw from the process's stationary spread, so seeds differ."""
        key = np.array([key_of(f"{self.seed}:daily:{name}")], dtype=np.uint64)
        counter = np.array([ANCHOR.toordinal() - 1], dtype=np.uint64)
        stationary = daily_vol / math.sqrt(1.0 - (1.0 - _PULL) ** 2)
        return float(stationary * normal(key, counter, _SALT_START)[0, 0])


def beta_to_market(name: str) -> float:
    """How much of NIFTY's log move an index or a stock follows (NIFTY itself: none, it is the market)."""
    if name == MARKET:
        return 0.0
    return INDEX_PROFILES[name].beta if name in INDEX_PROFILES else STOCKS[name].beta


def own_vol(name: str) -> float:
    """The annual volatility of a name's own moves, beyond beta times NIFTY's."""
    if name not in INDEX_PROFILES:
        return STOCKS[name].idio_vol
    total, market = INDEX_PROFILES[name].annual_vol, INDEX_PROFILES[MARKET].annual_vol
    return math.sqrt(max(total**2 - (beta_to_market(name) * market) ** 2, 0.0))


def _reference(name: str) -> float:
    return INDEX_PROFILES[name].level if name in INDEX_PROFILES else STOCKS[name].price
