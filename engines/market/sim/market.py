"""The simulated market of one day: its session, the index and stock paths, and its instrument master.

Every price is a pure function of (seed, trading date, instrument). Each day's open and close come from
a daily process that joins consecutive trading days up (daily.py); the path between them is a bridge on
NSE's seconds (intraday.py); derivatives are priced off the index paths through one forward curve
(pricing.py). Engines in different processes or containers therefore see one market, whatever each of
them subscribes to and whenever.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

import numpy as np

from engines.market.calendar import NseCalendar, at_ist, ms
from engines.market.instruments import Instrument, InstrumentMaster, Kind, future_symbol, option_symbol
from engines.market.rules import MarketRules, load_rules
from engines.market.sim.daily import (
    GAP_SHARE,
    MARKET,
    TRADING_DAYS,
    DailyPaths,
    DayLevels,
    beta_to_market,
    own_vol,
)
from engines.market.sim.intraday import GRID_SECONDS, NSE_CLOSE, NSE_OPEN, activity, bridged_walk
from engines.market.sim.noise import I64, key_of
from engines.market.sim.pricing import FloatArray, forward
from engines.market.sim.reference import INDEX_PROFILES, STOCKS

LISTED_STRIKES_EACH_SIDE = 60  # strikes listed around the opening level: a 10% day stays inside the chain
SEGMENT_CODES = {"NSE": 1, "NFO-FUT": 2, "NFO-OPT": 2}  # the low byte of a Kite instrument_token
EXPIRY_TIME = NSE_CLOSE  # index derivatives settle on the expiry day's close
_YEAR_MS = 365.0 * 86_400_000.0
_MOVE_SHARE = math.sqrt(1.0 - GAP_SHARE)  # of a day's volatility that falls inside the session


@dataclass(frozen=True, slots=True)
class SimSession:
    """One simulated day: a seed, the date, the hours ticked and the tick interval.

    The market itself runs on NSE's normal hours (09:15-15:30) one second at a time; a session samples it
    every `tick_interval_s` from `market_open`, before NSE's open at the open and after its close at the
    close."""

    seed: int
    day: date
    market_open: time
    market_close: time
    tick_interval_s: int = 1

    @property
    def start_ms(self) -> int:
        return ms(at_ist(self.day, self.market_open))

    @property
    def end_ms(self) -> int:
        return ms(at_ist(self.day, self.market_close))

    @property
    def interval_ms(self) -> int:
        return self.tick_interval_s * 1000

    @property
    def steps(self) -> int:
        """Ticks per instrument in the day: one per interval from the open, the last one before the close."""
        return (self.end_ms - self.start_ms) // self.interval_ms

    def step_ms(self, step: int) -> int:
        return self.start_ms + step * self.interval_ms

    def first_step_after(self, moment: int) -> int:
        if moment < self.start_ms:
            return 0
        return min(self.steps, (moment - self.start_ms) // self.interval_ms + 1)

    def seconds(self, first: int, last: int) -> I64:
        """The NSE-grid second (0 = 09:15:00) of steps first..last-1, held at the grid's ends outside it."""
        offset = (self.start_ms - ms(at_ist(self.day, NSE_OPEN))) // 1000
        result: I64 = np.clip(offset + np.arange(first, last) * self.tick_interval_s, 0, GRID_SECONDS - 1)
        return result

    def rng(self, stream: str) -> np.random.Generator:
        """The random stream of one named thing (an index or a stock) on this day."""
        return np.random.default_rng(
            [self.seed & 0xFFFFFFFF, self.day.toordinal(), zlib.crc32(stream.encode())]
        )

    def key(self, instrument: Instrument) -> int:
        """A 64-bit key for the counter-based noise of one instrument on this day."""
        return key_of(f"{self.seed}:{self.day.isoformat()}:{instrument.exchange}:{instrument.symbol}")


def years_between(start_ms: int, interval_ms: int, steps: int, settle_ms: I64) -> FloatArray:
    """Years from each of `steps` moments (from `start_ms`, every `interval_ms`) to each settlement, at least
    a minute (an option at its last tick keeps a price): shape (steps, settlements)."""
    stamps = start_ms + np.arange(steps, dtype=np.int64)[:, None] * interval_ms
    result: FloatArray = np.maximum(settle_ms[None, :] - stamps, 60_000) / _YEAR_MS
    return result


class MarketSimulator:
    """Paths and instruments of one simulated trading day."""

    def __init__(self, session: SimSession, rules: MarketRules | None = None) -> None:
        self.session = session
        self.rules = rules or load_rules()
        self.calendar = NseCalendar(self.rules)
        self.daily = DailyPaths(session.seed, session.day, self.calendar)
        self._seconds = session.seconds(0, session.steps)
        self._grid_activity = activity()
        self.activity: FloatArray = self._grid_activity[self._seconds]  # per step; every model shares it

    # --- the market itself -------------------------------------------------------------------

    def levels(self, name: str) -> DayLevels:
        """Previous close, open and close of the day of an index (NIFTY, ...) or a stock (RELIANCE, ...)."""
        return self.daily.levels(name)

    @functools.cache  # noqa: B019 - one simulator per day, kept for the whole day
    def index_path(self, underlying: str) -> FloatArray:
        """Spot level at every step of the session (rupees; deterministic from seed, date, index)."""
        result: FloatArray = np.exp(self._log_path(underlying))[self._seconds]
        return result

    @functools.cache  # noqa: B019
    def stock_path(self, symbol: str) -> FloatArray:
        """A stock's price at every step of the session: beta times NIFTY's moves plus its own."""
        result: FloatArray = np.exp(self._log_path(symbol))[self._seconds]
        return result

    def years_to(self, expiry: date, first: int, last: int) -> FloatArray:
        """Years from steps first..last-1 to the expiry's settlement (at least a minute)."""
        settle = np.array([ms(at_ist(expiry, EXPIRY_TIME))], dtype=np.int64)
        result: FloatArray = years_between(
            self.session.step_ms(first), self.session.interval_ms, last - first, settle
        )[:, 0]
        return result

    def forward_path(self, underlying: str, expiry: date) -> FloatArray:
        """The forward to `expiry` at every step: what its future quotes around and its options price off."""
        years = self.years_to(expiry, 0, self.session.steps)
        return forward(self.index_path(underlying), years, INDEX_PROFILES[underlying].dividend_yield)

    @functools.cache  # noqa: B019
    def _log_path(self, name: str) -> FloatArray:
        """ln(level) of an index or a stock at every NSE-grid second: from the day's open, beta times
        NIFTY's log moves plus the name's own walk, bridged to the own share of the day's move."""
        day, beta = self.levels(name), beta_to_market(name)
        own_move = day.move - beta * self.levels(MARKET).move
        own_daily_vol = own_vol(name) / math.sqrt(TRADING_DAYS) * _MOVE_SHARE
        stream = f"index:{name}" if name in INDEX_PROFILES else f"stock:{name}"
        own = bridged_walk(
            self.session.rng(stream), self._grid_activity, own_move, own_daily_vol, name == MARKET
        )
        result: FloatArray = math.log(day.open) + own
        if beta:
            market = self._log_path(MARKET)
            result += beta * (market - market[0])
        return result

    # --- the day's instrument master -----------------------------------------------------------

    @functools.cached_property
    def master(self) -> InstrumentMaster:
        """Indices, futures (three months), option chains (nearest expiries, strikes around the open)
        and the simulator's stocks, with the lots, ticks and expiries the rules give for the day."""
        rows: list[Instrument] = []
        day = self.session.day
        for underlying in self.rules.underlyings:
            if underlying not in INDEX_PROFILES:
                continue
            rows.append(self._index(underlying))
            level = Decimal(str(round(self.levels(underlying).open, 2)))
            for expiry in self.calendar.monthly_expiries(day, 3):
                symbol = future_symbol(underlying, expiry)
                tick = self.rules.tick_size("FUT", day, level)
                rows.append(self._listed(symbol, "NFO-FUT", Kind.FUT, underlying, tick, underlying, expiry))
            rows += self._options(underlying, level)
        for symbol, profile in STOCKS.items():
            tick = self.rules.tick_size("EQ", day, Decimal(str(round(self.levels(symbol).open, 2))))
            rows.append(Instrument(0, symbol, "NSE", "NSE", Kind.EQ, profile.name, tick, 1))
        return InstrumentMaster(day, _with_tokens(rows), self.rules)

    def _index(self, underlying: str) -> Instrument:
        symbol = self.rules.index_symbols[underlying]
        token = self.rules.index_tokens[underlying]
        return Instrument(
            token,
            symbol,
            "NSE",
            "INDICES",
            Kind.INDEX,
            symbol,
            0,
            0,
            underlying=underlying,
            exchange_token=str(token >> 8),
        )

    def _options(self, underlying: str, level: Decimal) -> list[Instrument]:
        day = self.session.day
        monthlies = self.calendar.monthly_expiries(day, 3)
        expiries = set(monthlies)
        if self.rules.weekly_options(underlying, day):
            expiries |= set(self.calendar.weekly_expiries(day, 2))
        step = self.rules.strike_step(underlying, day)
        atm = round(int(level * 100) / step) * step
        tick = self.rules.tick_size("OPT", day, level)
        rows = []
        for expiry in sorted(expiries):
            monthly = expiry in monthlies
            for offset in range(-LISTED_STRIKES_EACH_SIDE, LISTED_STRIKES_EACH_SIDE + 1):
                strike = atm + offset * step
                for kind in (Kind.CE, Kind.PE):
                    symbol = option_symbol(underlying, expiry, strike, kind, monthly)
                    rows.append(
                        self._listed(symbol, "NFO-OPT", kind, underlying, tick, underlying, expiry, strike)
                    )
        return rows

    def _listed(
        self,
        symbol: str,
        segment: str,
        kind: Kind,
        name: str,
        tick: int,
        underlying: str,
        expiry: date,
        strike: int = 0,
    ) -> Instrument:
        lot = self.rules.lot_size(underlying, expiry)
        return Instrument(0, symbol, "NFO", segment, kind, name, tick, lot, expiry, strike, underlying)


def _with_tokens(rows: list[Instrument]) -> list[Instrument]:
    """Kite-shaped tokens for the simulated rows: exchange_token << 8 | segment code, the exchange token a
    hash of the symbol, probed past collisions in symbol order (so every container assigns the same)."""
    taken = {i.token >> 8 for i in rows if i.token}
    out = []
    for row in sorted(rows, key=lambda i: (i.token == 0, i.exchange, i.symbol)):
        if row.token:
            out.append(row)
            continue
        exchange_token = zlib.crc32(f"{row.exchange}:{row.symbol}".encode()) & 0xFFFFFF or 1
        while exchange_token in taken:
            exchange_token = exchange_token % 0xFFFFFF + 1
        taken.add(exchange_token)
        token = exchange_token << 8 | SEGMENT_CODES[row.segment]
        out.append(
            Instrument(
                token,
                row.symbol,
                row.exchange,
                row.segment,
                row.kind,
                row.name,
                row.tick,
                row.lot_size,
                row.expiry,
                row.strike,
                row.underlying,
                str(exchange_token),
            )
        )
    return out
