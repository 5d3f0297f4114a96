"""The simulated market of one day: its session, the index and stock paths, and its instrument master.

Every price is a pure function of (seed, trading date, instrument): each index and stock draws from its
own random stream, and derivatives are priced from the index paths. Engines in different processes or
containers therefore see one market, whatever each of them subscribes to and whenever.
"""

from __future__ import annotations

import functools
import hashlib
import math
import zlib
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

import numpy as np

from engines.market.calendar import NseCalendar, at_ist, ms
from engines.market.instruments import Instrument, InstrumentMaster, Kind, future_symbol, option_symbol
from engines.market.rules import MarketRules, load_rules
from engines.market.sim.pricing import FloatArray
from engines.market.sim.reference import INDEX_PROFILES, STOCKS

TRADING_DAYS = 252
LISTED_STRIKES_EACH_SIDE = 60  # strikes listed around the opening level: a 10% day stays inside the chain
SEGMENT_CODES = {"NSE": 1, "NFO-FUT": 2, "NFO-OPT": 2}  # the low byte of a Kite instrument_token


@dataclass(frozen=True, slots=True)
class SimSession:
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

    def rng(self, stream: str) -> np.random.Generator:
        """The random stream of one named thing (an index or a stock) on this day."""
        return np.random.default_rng(
            [self.seed & 0xFFFFFFFF, self.day.toordinal(), zlib.crc32(stream.encode())]
        )

    def key(self, instrument: Instrument) -> int:
        """A 64-bit key for the counter-based noise of one instrument on this day."""
        text = f"{self.seed}:{self.day.isoformat()}:{instrument.exchange}:{instrument.symbol}"
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")

    def step_vol(self, annual_vol: float) -> float:
        session_seconds = self.steps * self.tick_interval_s
        return annual_vol * math.sqrt(self.tick_interval_s / (TRADING_DAYS * session_seconds))


class MarketSimulator:
    """Paths and instruments of one simulated trading day."""

    def __init__(self, session: SimSession, rules: MarketRules | None = None) -> None:
        self.session = session
        self.rules = rules or load_rules()
        self.calendar = NseCalendar(self.rules)
        self.activity = _activity(session)  # computed once per day: every price model shares it

    # --- the market itself -------------------------------------------------------------------

    @functools.cache  # noqa: B019 - one simulator per day, kept for the whole day
    def index_path(self, underlying: str) -> FloatArray:
        """Spot level at every step of the day (rupees; deterministic from seed, date, index)."""
        profile, s = INDEX_PROFILES[underlying], self.session
        rng = s.rng(f"index:{underlying}")
        opening = profile.level * math.exp(0.035 * rng.standard_normal())
        shocks = rng.standard_normal(s.steps)
        drift = _ornstein_uhlenbeck(rng.standard_normal(s.steps), s.tick_interval_s / 1200.0)
        returns = s.step_vol(profile.annual_vol) * self.activity * (shocks + 0.015 * drift)
        returns[0] = 0.0
        path: FloatArray = opening * np.exp(np.cumsum(returns))
        return path

    @functools.cache  # noqa: B019
    def stock_path(self, symbol: str) -> FloatArray:
        """A stock's price at every step: beta times NIFTY's return plus its own noise."""
        s, profile = self.session, STOCKS[symbol]
        nifty = self.index_path("NIFTY")
        index_returns = np.diff(np.log(nifty), prepend=math.log(float(nifty[0])))
        gap = math.log(float(nifty[0]) / INDEX_PROFILES["NIFTY"].level)
        rng = s.rng(f"stock:{symbol}")
        opening = profile.price * math.exp(profile.beta * gap + 0.01 * rng.standard_normal())
        own = s.step_vol(profile.idio_vol) * self.activity * rng.standard_normal(s.steps)
        own[0] = 0.0
        path: FloatArray = opening * np.exp(np.cumsum(profile.beta * index_returns + own))
        return path

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
            level = Decimal(str(round(float(self.index_path(underlying)[0]), 2)))
            for expiry in self.calendar.monthly_expiries(day, 3):
                symbol = future_symbol(underlying, expiry)
                tick = self.rules.tick_size("FUT", day, level)
                rows.append(self._listed(symbol, "NFO-FUT", Kind.FUT, underlying, tick, underlying, expiry))
            rows += self._options(underlying, level)
        for symbol, profile in STOCKS.items():
            tick = self.rules.tick_size("EQ", day, Decimal(str(profile.price)))
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


def _activity(session: SimSession) -> FloatArray:
    """Intraday U-shape: more movement and volume near the open and the close (mean square 1)."""
    minutes = np.arange(session.steps) * session.tick_interval_s / 60.0
    total = minutes[-1] if session.steps > 1 else 1.0
    shape = 1.0 + 1.2 * np.exp(-minutes / 25.0) + 0.6 * np.exp(-(total - minutes) / 25.0)
    result: FloatArray = shape / np.sqrt(np.mean(shape**2))
    return result


def _ornstein_uhlenbeck(shocks: FloatArray, rate: float) -> FloatArray:
    """A unit-variance OU process driven by `shocks`, mean-reverting at `rate` per step."""
    phi = math.exp(-rate)
    scale = math.sqrt(1.0 - phi * phi)
    out = np.empty_like(shocks)
    x = 0.0
    for i, z in enumerate(shocks.tolist()):
        x = phi * x + scale * z
        out[i] = x
    return out
