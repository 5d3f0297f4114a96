"""The built-in deterministic NSE market: index spots, current-month futures, option chains, stocks.

Every price is a pure function of (seed, trading date, instrument): each instrument draws from its
own random stream, and derivatives and stocks are computed from the index paths, which depend only on
(seed, date, index). Engines running in different processes or containers therefore see one market.

Model, per tick interval (1 s by default, Kite full mode's cadence):
- index spot: log-returns with realistic daily volatility, an intraday U-shape (busier near the open
  and close) and a slow Ornstein-Uhlenbeck drift that makes trends and reversals;
- futures: spot carried at 6.5% to expiry plus a small mean-reverting basis;
- options: Black-76 on that forward with a skewed IV smile whose level rises when the index falls;
- stocks: beta times the NIFTY return plus their own noise.
Quotes are rounded to the instrument's tick with a spread; the last trade hits the bid or the ask.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from numpy.typing import NDArray

from engines.instruments import (
    UNDERLYINGS,
    Instrument,
    Kind,
    Segment,
    Underlying,
    equity_tick,
    future_symbol,
    futures_tick,
    option_symbol,
    synthetic_token,
)
from engines.market.feed import Tick
from engines.market.pricing import FloatArray, black76, smile_iv
from engines.market.reference import INDEX_PROFILES, STOCKS
from engines.nse_calendar import at_ist, next_monthly_expiry, next_weekly_expiry

IntArray = NDArray[np.int64]

CARRY_RATE = 0.065
TRADING_DAYS = 252
BLOCK_STEPS = 300  # steps priced per numpy block: bounds memory, amortises numpy call overhead
EXPIRY_TIME = time(15, 30)


@dataclass(frozen=True, slots=True)
class SimSession:
    seed: int
    day: date
    market_open: time
    market_close: time
    tick_interval_s: int = 1

    @property
    def start(self) -> datetime:
        return at_ist(self.day, self.market_open)

    @property
    def end(self) -> datetime:
        return at_ist(self.day, self.market_close)

    @property
    def steps(self) -> int:
        return int((self.end - self.start).total_seconds()) // self.tick_interval_s

    def moment(self, step: int) -> datetime:
        return self.start + timedelta(seconds=step * self.tick_interval_s)

    def rng(self, stream: str) -> np.random.Generator:
        """The random stream of one named thing (an index or an instrument) on this day."""
        return np.random.default_rng(
            [self.seed & 0xFFFFFFFF, self.day.toordinal(), zlib.crc32(stream.encode())]
        )

    def activity(self) -> FloatArray:
        """Intraday U-shape: more movement and volume near the open and the close (mean square 1)."""
        minutes = np.arange(self.steps) * self.tick_interval_s / 60.0
        total = minutes[-1] if self.steps > 1 else 1.0
        shape = 1.0 + 1.2 * np.exp(-minutes / 25.0) + 0.6 * np.exp(-(total - minutes) / 25.0)
        result: FloatArray = shape / np.sqrt(np.mean(shape**2))
        return result

    def step_vol(self, annual_vol: float) -> float:
        session_seconds = self.steps * self.tick_interval_s
        return annual_vol * math.sqrt(self.tick_interval_s / (TRADING_DAYS * session_seconds))


class MarketSimulator:
    """Instruments and feeds for one simulated trading day."""

    def __init__(self, session: SimSession) -> None:
        self.session = session
        self._paths: dict[Underlying, FloatArray] = {}
        self.activity = session.activity()  # computed once per day: every price model shares it

    # --- the market itself -------------------------------------------------------------------

    def index_path(self, underlying: Underlying) -> FloatArray:
        """Spot level at every step of the day (cached; deterministic from seed, date, index)."""
        if underlying not in self._paths:
            self._paths[underlying] = self._make_index_path(underlying)
        return self._paths[underlying]

    def _make_index_path(self, underlying: Underlying) -> FloatArray:
        profile, s = INDEX_PROFILES[underlying], self.session
        rng = s.rng(f"index:{underlying}")
        opening = profile.level * math.exp(0.035 * rng.standard_normal())
        shocks = rng.standard_normal(s.steps)
        drift = _ornstein_uhlenbeck(rng.standard_normal(s.steps), s.tick_interval_s / 1200.0)
        returns = s.step_vol(profile.annual_vol) * self.activity * (shocks + 0.015 * drift)
        returns[0] = 0.0
        path: FloatArray = opening * np.exp(np.cumsum(returns))
        return path

    # --- instruments -------------------------------------------------------------------------

    def index(self, underlying: Underlying) -> Instrument:
        spec = UNDERLYINGS[underlying]
        return Instrument(
            spec.index_token,
            spec.index_symbol,
            "NSE",
            Kind.INDEX,
            underlying.value,
            5,
            0,
            underlying=underlying,
        )

    def future(self, underlying: Underlying) -> Instrument:
        expiry = next_monthly_expiry(self.session.day)
        symbol = future_symbol(underlying, expiry)
        tick = futures_tick(float(self.index_path(underlying)[0]))
        return Instrument(
            synthetic_token(symbol, Segment.NFO),
            symbol,
            "NFO",
            Kind.FUT,
            underlying.value,
            tick,
            UNDERLYINGS[underlying].lot_size,
            expiry=expiry,
            underlying=underlying,
        )

    def option_chain(self, underlying: Underlying, strikes_each_side: int) -> list[Instrument]:
        """CE and PE of the nearest expiry at ATM +/- `strikes_each_side` strikes around the opening spot."""
        spec = UNDERLYINGS[underlying]
        day = self.session.day
        monthly = next_monthly_expiry(day)
        expiry = min(next_weekly_expiry(day), monthly) if spec.weekly_options else monthly
        atm = round(float(self.index_path(underlying)[0]) / spec.strike_step) * spec.strike_step
        chain = []
        for offset in range(-strikes_each_side, strikes_each_side + 1):
            strike = atm + offset * spec.strike_step
            for kind in (Kind.CE, Kind.PE):
                symbol = option_symbol(underlying, expiry, strike, kind, monthly=expiry == monthly)
                chain.append(
                    Instrument(
                        synthetic_token(symbol, Segment.NFO),
                        symbol,
                        "NFO",
                        kind,
                        underlying.value,
                        5,
                        spec.lot_size,
                        expiry=expiry,
                        strike=strike * 100,
                        underlying=underlying,
                    )
                )
        return chain

    def stock(self, symbol: str) -> Instrument:
        profile = STOCKS[symbol]
        return Instrument(
            synthetic_token(symbol, Segment.NSE),
            symbol,
            "NSE",
            Kind.EQ,
            profile.name,
            equity_tick(profile.price),
            1,
        )

    def feed(self, instruments: Sequence[Instrument]) -> SimFeed:
        """A feed of these instruments' ticks, in the given order."""
        indices = [i for i in instruments if i.kind is Kind.INDEX]
        quoted = [i for i in instruments if i.kind is not Kind.INDEX]
        models: list[_QuoteModel] = []
        for kind, model in ((Kind.FUT, _FutureModel), (Kind.EQ, _StockModel), (Kind.CE, _OptionModel)):
            members = [i for i in quoted if i.kind is kind or (kind is Kind.CE and i.kind is Kind.PE)]
            if members:
                models.append(model(self, members))
        return SimFeed(self.session, _IndexGroup(self, indices), models)


class SimFeed:
    """Yields one batch of ticks per tick interval, in the shape KiteTicker's on_ticks receives."""

    def __init__(self, session: SimSession, indices: _IndexGroup, models: list[_QuoteModel]) -> None:
        self._session = session
        self._indices = indices
        self._models = models
        self.instruments = indices.instruments + [i for m in models for i in m.instruments]

    def batches(
        self, stop: threading.Event, after: datetime | None = None
    ) -> Iterator[tuple[datetime, Sequence[Tick]]]:
        """Every step of the day in order; steps at or before `after` are priced but not emitted."""
        session = self._session
        index_tokens = [i.token for i in self._indices.instruments]
        tokens = [i.token for m in self._models for i in m.instruments]
        for first in range(0, session.steps, BLOCK_STEPS):
            last = min(first + BLOCK_STEPS, session.steps)
            index_rows = self._indices.block(first, last)
            quotes = _QuoteBlock.concat([m.block(first, last) for m in self._models], last - first)
            for j, step in enumerate(range(first, last)):
                if stop.is_set():
                    return
                moment = session.moment(step)
                if after is not None and moment <= after:
                    continue
                batch: list[Tick] = [
                    {
                        "tradable": False,
                        "mode": "full",
                        "instrument_token": token,
                        "last_price": ltp,
                        "exchange_timestamp": moment,
                    }
                    for token, ltp in zip(index_tokens, index_rows[j], strict=True)
                ]
                batch += _quote_ticks(tokens, quotes, j, moment)
                yield moment, batch


def _quote_ticks(tokens: list[int], q: _QuoteBlock, j: int, moment: datetime) -> list[Tick]:
    """The hot loop of the simulator: one step's ticks for the quoted instruments. Keep it flat."""
    return [
        {
            "tradable": True,
            "mode": "full",
            "instrument_token": token,
            "last_price": ltp,
            "last_traded_quantity": ltq,
            "volume_traded": volume,
            "last_trade_time": moment,
            "exchange_timestamp": moment,
            "depth": {
                "buy": [{"quantity": bq, "price": bid, "orders": bo}],
                "sell": [{"quantity": aq, "price": ask, "orders": ao}],
            },
        }
        for token, ltp, ltq, volume, bid, bq, bo, ask, aq, ao in zip(
            tokens,
            q.ltp[j],
            q.ltq[j],
            q.volume[j],
            q.bid[j],
            q.bid_qty[j],
            q.bid_orders[j],
            q.ask[j],
            q.ask_qty[j],
            q.ask_orders[j],
            strict=True,
        )
    ]


# --- deterministic noise ---------------------------------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: a counter-based hash, so noise(instrument, step) needs no stream state."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _uniform(keys: NDArray[np.uint64], first: int, last: int, salt: int) -> FloatArray:
    """U(0,1) noise of shape (steps, instruments), a pure function of (instrument key, step, salt)."""
    steps = np.arange(first, last, dtype=np.uint64)[:, None]
    with np.errstate(over="ignore"):
        x = _mix(keys[None, :] + (steps + np.uint64(salt << 32)) * _GOLDEN)
    result: FloatArray = (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
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


def _years_to(expiry: datetime, session: SimSession, first: int, last: int) -> FloatArray:
    seconds_left = (expiry - session.start).total_seconds() - np.arange(first, last) * session.tick_interval_s
    result: FloatArray = np.maximum(seconds_left, 0.0) / (365.0 * 86400.0)
    return result


# --- price models ----------------------------------------------------------------------------------


class _IndexGroup:
    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        self.instruments = instruments
        self._paths = [market.index_path(_underlying(i)) for i in instruments]

    def block(self, first: int, last: int) -> list[list[float]]:
        if not self._paths:
            return [[] for _ in range(last - first)]
        levels = np.stack([p[first:last] for p in self._paths], axis=1)
        rows: list[list[float]] = (np.round(levels * 20) / 20).tolist()
        return rows


@dataclass(slots=True)
class _QuoteBlock:
    """Rows (one per step) of per-instrument values, as Python lists ready for tick dicts."""

    ltp: list[list[float]]
    bid: list[list[float]]
    ask: list[list[float]]
    ltq: list[list[int]]
    volume: list[list[int]]
    bid_qty: list[list[int]]
    ask_qty: list[list[int]]
    bid_orders: list[list[int]]
    ask_orders: list[list[int]]

    @staticmethod
    def concat(blocks: list[_QuoteBlock], steps: int) -> _QuoteBlock:
        if len(blocks) == 1:
            return blocks[0]
        fields = [
            [list(itertools.chain.from_iterable(getattr(b, name)[j] for b in blocks)) for j in range(steps)]
            for name in _QuoteBlock.__dataclass_fields__
        ]
        return _QuoteBlock(*fields)


class _QuoteModel:
    """Shared quoting for a group of instruments of one kind: a model mid per step and instrument
    becomes a bid/ask on the tick with a spread, a last trade at either side and traded volumes."""

    spread_fraction = 0.0003  # of the price; at least one tick

    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        session = market.session
        self.instruments = instruments
        self._session = session
        self._activity = market.activity[:, None]
        self._tick = np.array([i.tick for i in instruments], dtype=np.float64)
        self._lot = np.array([max(i.lot_size, 1) for i in instruments], dtype=np.int64)
        self._keys = np.array([_instrument_key(session, i) for i in instruments], dtype=np.uint64)
        self._trades_per_step = np.full(len(instruments), 3.0)
        self._volume = np.zeros(len(instruments), dtype=np.int64)

    def mid(self, first: int, last: int) -> FloatArray:
        """Model price in rupees, shape (steps, instruments)."""
        raise NotImplementedError

    def block(self, first: int, last: int) -> _QuoteBlock:
        keys, tick = self._keys, self._tick

        def noise(salt: int) -> FloatArray:
            return _uniform(keys, first, last, salt)

        mid = self.mid(first, last) * 100.0  # paise
        spread = np.maximum(1.0, np.ceil(mid * self.spread_fraction / tick) + np.floor(noise(1) * 2)) * tick
        bid = np.maximum(tick, np.floor((mid - spread / 2) / tick) * tick)
        ask = bid + spread
        ltp = np.where(noise(2) < 0.5, bid, ask)
        # Exponential trade sizes around the activity-scaled mean, in whole lots.
        lots = 1 + np.floor(-np.log1p(-noise(3)) * self._trades_per_step * self._activity[first:last])
        units = lots.astype(np.int64) * self._lot
        volume = self._volume + np.cumsum(units, axis=0)
        self._volume = volume[-1]
        depth_lots = self._lot * 5
        return _QuoteBlock(
            ltp=(ltp / 100.0).tolist(),
            bid=(bid / 100.0).tolist(),
            ask=(ask / 100.0).tolist(),
            ltq=units.tolist(),
            volume=volume.tolist(),
            bid_qty=((1 + np.floor(noise(4) * 40)).astype(np.int64) * depth_lots).tolist(),
            ask_qty=((1 + np.floor(noise(5) * 40)).astype(np.int64) * depth_lots).tolist(),
            bid_orders=(1 + np.floor(noise(6) * 30)).astype(np.int64).tolist(),
            ask_orders=(1 + np.floor(noise(7) * 30)).astype(np.int64).tolist(),
        )


class _FutureModel(_QuoteModel):
    spread_fraction = 0.00001

    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        super().__init__(market, instruments)
        session = market.session
        self._spot = np.stack([market.index_path(_underlying(i)) for i in instruments], axis=1)
        self._expiry = at_ist(_expiry(instruments[0]), EXPIRY_TIME)  # one current-month expiry for all
        self._basis = np.stack(
            [
                _ornstein_uhlenbeck(
                    session.rng(f"basis:{i.symbol}").standard_normal(session.steps), 1 / 300.0
                )
                for i in instruments
            ],
            axis=1,
        )

    def mid(self, first: int, last: int) -> FloatArray:
        years = _years_to(self._expiry, self._session, first, last)[:, None]
        spot = self._spot[first:last]
        result: FloatArray = spot * np.exp(CARRY_RATE * years) + 0.00015 * spot * self._basis[first:last]
        return result


class _OptionModel(_QuoteModel):
    spread_fraction = 0.004

    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        super().__init__(market, instruments)
        profiles = [INDEX_PROFILES[_underlying(i)] for i in instruments]
        self._spot = np.stack([market.index_path(_underlying(i)) for i in instruments], axis=1)
        self._expiry_s = np.array(
            [(at_ist(_expiry(i), EXPIRY_TIME) - market.session.start).total_seconds() for i in instruments]
        )
        self._strike = np.array([(i.strike or 0) / 100.0 for i in instruments])
        self._call = np.array([i.kind is Kind.CE for i in instruments])
        self._atm_iv = np.array([p.atm_iv for p in profiles])
        self._skew = np.array([p.put_skew for p in profiles])
        self._smile = np.array([p.smile for p in profiles])
        moneyness = np.abs(np.log(self._strike / self._spot[0]))
        self._trades_per_step = 6.0 * np.exp(-40.0 * moneyness)

    def mid(self, first: int, last: int) -> FloatArray:
        elapsed = np.arange(first, last)[:, None] * self._session.tick_interval_s
        years = np.maximum(self._expiry_s[None, :] - elapsed, 60.0) / (365.0 * 86400.0)
        spot = self._spot[first:last]
        forward = spot * np.exp(CARRY_RATE * years)
        # IV rises as the index falls (leverage effect), within sane bounds.
        atm_iv = self._atm_iv * np.clip(np.exp(-4.0 * np.log(spot / self._spot[0])), 0.5, 2.0)
        strike = np.broadcast_to(self._strike, forward.shape)
        iv = smile_iv(atm_iv, np.log(strike / forward), self._skew, self._smile)
        price = black76(forward, strike, years, iv, CARRY_RATE, np.broadcast_to(self._call, forward.shape))
        return np.maximum(price, 0.05)


class _StockModel(_QuoteModel):
    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        super().__init__(market, instruments)
        session = market.session
        nifty = market.index_path(Underlying.NIFTY)
        index_returns = np.diff(np.log(nifty), prepend=math.log(float(nifty[0])))
        gap = math.log(float(nifty[0]) / INDEX_PROFILES[Underlying.NIFTY].level)
        paths = []
        for instrument in instruments:
            profile, rng = STOCKS[instrument.symbol], session.rng(f"stock:{instrument.symbol}")
            opening = profile.price * math.exp(profile.beta * gap + 0.01 * rng.standard_normal())
            own = (
                session.step_vol(profile.idio_vol) * self._activity[:, 0] * rng.standard_normal(session.steps)
            )
            own[0] = 0.0
            paths.append(opening * np.exp(np.cumsum(profile.beta * index_returns + own)))
        self._path = np.stack(paths, axis=1)
        self._trades_per_step = np.array([3e5 / STOCKS[i.symbol].price for i in instruments])

    def mid(self, first: int, last: int) -> FloatArray:
        result: FloatArray = self._path[first:last]
        return result


def _instrument_key(session: SimSession, instrument: Instrument) -> int:
    text = f"{session.seed}:{session.day.isoformat()}:{instrument.exchange}:{instrument.symbol}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _underlying(instrument: Instrument) -> Underlying:
    if instrument.underlying is None:
        raise ValueError(f"{instrument.symbol} has no underlying")
    return instrument.underlying


def _expiry(instrument: Instrument) -> date:
    if instrument.expiry is None:
        raise ValueError(f"{instrument.symbol} has no expiry")
    return instrument.expiry
