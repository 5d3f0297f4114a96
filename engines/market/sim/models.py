"""Price models of the simulator: a model mid per step and instrument becomes a five-level book on the tick.

- futures: the index carried to expiry at the carry rate (the forward the options are priced off too);
- options: Black-76 on that forward, with a skewed IV smile whose level rises when the index falls;
- stocks: their path from `MarketSimulator.stock_path`.

All noise (spreads, which side trades, trade sizes, depth) is counter-based: a hash of (instrument, step,
salt), so an instrument's ticks are the same whatever else is subscribed and from whichever step a feed
starts. Volume is the running sum of trade sizes from the open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import numpy as np
from numpy.typing import NDArray

from engines.market.calendar import at_ist, ms
from engines.market.instruments import Instrument, Kind
from engines.market.sim.market import MarketSimulator
from engines.market.sim.pricing import FloatArray, black76, smile_iv
from engines.market.sim.reference import INDEX_PROFILES
from engines.market.ticks import DEPTH

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
CARRY_RATE = 0.065
EXPIRY_TIME = time(15, 30)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True, slots=True)
class QuoteBlock:
    """Steps x instruments (x depth) of one model group, in paise and units."""

    last_price: I64
    last_quantity: I64
    volume: I64
    oi: I64
    bid_price: I64
    bid_quantity: I64
    bid_orders: I64
    ask_price: I64
    ask_quantity: I64
    ask_orders: I64


def hashed(keys: U64, first: int, last: int, salt: int) -> U64:
    """64 noise bits per (step, instrument), a pure function of (instrument key, step, salt)."""
    steps = np.arange(first, last, dtype=np.uint64)[:, None]
    with np.errstate(over="ignore"):
        x = keys[None, :] + (steps + np.uint64(salt << 32)) * _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)  # SplitMix64's finaliser
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    result: U64 = x ^ (x >> np.uint64(31))
    return result


def uniform(bits: U64) -> FloatArray:
    result: FloatArray = (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    return result


def field(bits: U64, shift: int, width: int) -> I64:
    result: I64 = ((bits >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(np.int64)
    return result


class QuoteModel:
    """Shared quoting for a group of instruments of one kind."""

    spread_fraction = 0.0003  # of the price; at least one tick

    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        session = market.session
        self.market = market
        self.instruments = instruments
        self._activity = market.activity[:, None]
        self._tick = np.array([i.tick for i in instruments], dtype=np.float64)
        self._lot = np.array([max(i.lot_size, 1) for i in instruments], dtype=np.int64)
        self._keys = np.array([session.key(i) for i in instruments], dtype=np.uint64)
        self._trades_per_step = np.full(len(instruments), 3.0)
        self._base_oi = (2000 + field(self._keys, 3, 12) * 10) * self._lot

    def mid(self, first: int, last: int) -> FloatArray:
        """Model price in rupees, shape (steps, instruments)."""
        raise NotImplementedError

    def units(self, first: int, last: int) -> I64:
        """Units traded at each step: exponential trade sizes around the activity-scaled mean, in lots."""
        u = uniform(hashed(self._keys, first, last, 3))
        lots = 1 + np.floor(-np.log1p(-u) * self._trades_per_step * self._activity[first:last])
        result: I64 = lots.astype(np.int64) * self._lot
        return result

    def volume_before(self, step: int) -> I64:
        """Units traded from the open up to (not including) `step`."""
        result: I64 = self.units(0, step).sum(axis=0) if step else np.zeros(len(self.instruments), np.int64)
        return result

    def block(self, first: int, last: int, volume_before: I64) -> QuoteBlock:
        keys, tick = self._keys, self._tick
        mid = self.mid(first, last) * 100.0  # paise
        spread_bits = hashed(keys, first, last, 1)
        spread = np.maximum(1.0, np.ceil(mid * self.spread_fraction / tick) + field(spread_bits, 0, 1)) * tick
        bid = np.maximum(tick, np.floor((mid - spread / 2) / tick) * tick)
        ask = bid + spread
        ltp = np.where(field(spread_bits, 1, 1) == 0, bid, ask)
        units = self.units(first, last)
        volume = volume_before + np.cumsum(units, axis=0)
        shape = (*mid.shape, DEPTH)
        bid_price, ask_price = np.empty(shape), np.empty(shape)
        sizes = [np.empty(shape, dtype=np.int64) for _ in range(4)]
        bid_gap, ask_gap = bid.copy(), ask.copy()
        for level in range(DEPTH):
            bits = hashed(keys, first, last, 10 + level)
            if level:
                bid_gap = bid_gap - tick * (1 + field(bits, 0, 1))
                ask_gap = ask_gap + tick * (1 + field(bits, 1, 1))
            bid_price[..., level] = np.maximum(bid_gap, 0.0)
            ask_price[..., level] = ask_gap
            sizes[0][..., level] = (1 + field(bits, 2, 5)) * self._lot * (1 + level)  # bid quantity
            sizes[1][..., level] = (1 + field(bits, 7, 5)) * self._lot * (1 + level)  # ask quantity
            sizes[2][..., level] = 1 + field(bits, 12, 4)  # bid orders
            sizes[3][..., level] = 1 + field(bits, 16, 4)  # ask orders
        empty = bid_price <= 0  # no bids at or below zero: an empty level is all zeros
        sizes[0][empty] = 0
        sizes[2][empty] = 0
        return QuoteBlock(
            last_price=ltp.astype(np.int64),
            last_quantity=units,
            volume=volume,
            oi=self.oi(first, last),
            bid_price=np.where(empty, 0.0, bid_price).astype(np.int64),
            bid_quantity=sizes[0],
            bid_orders=sizes[2],
            ask_price=ask_price.astype(np.int64),
            ask_quantity=sizes[1],
            ask_orders=sizes[3],
        )

    def oi(self, first: int, last: int) -> I64:
        return np.zeros((last - first, len(self.instruments)), dtype=np.int64)


class DerivativeModel(QuoteModel):
    """Futures and options: priced off the index forward, with open interest that builds through the day."""

    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        super().__init__(market, instruments)
        session = market.session
        self._spot = np.stack([market.index_path(_underlying(i)) for i in instruments], axis=1)
        start_ms = session.start_ms
        self._expiry_s = np.array([(_expiry_ms(i) - start_ms) / 1000.0 for i in instruments])

    def years(self, first: int, last: int) -> FloatArray:
        elapsed = np.arange(first, last)[:, None] * self.market.session.tick_interval_s
        result: FloatArray = np.maximum(self._expiry_s[None, :] - elapsed, 60.0) / (365.0 * 86400.0)
        return result

    def forward(self, first: int, last: int) -> FloatArray:
        result: FloatArray = self._spot[first:last] * np.exp(CARRY_RATE * self.years(first, last))
        return result

    def oi(self, first: int, last: int) -> I64:
        progress = np.arange(first, last)[:, None] / max(self.market.session.steps, 1)
        lots = np.floor(self._base_oi / self._lot * (1.0 + 0.15 * progress))
        result: I64 = lots.astype(np.int64) * self._lot
        return result


class FutureModel(DerivativeModel):
    spread_fraction = 0.00001

    def mid(self, first: int, last: int) -> FloatArray:
        return self.forward(first, last)


class OptionModel(DerivativeModel):
    spread_fraction = 0.004

    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        super().__init__(market, instruments)
        profiles = [INDEX_PROFILES[_underlying(i)] for i in instruments]
        self._strike = np.array([i.strike / 100.0 for i in instruments])
        self._call = np.array([i.kind is Kind.CE for i in instruments])
        self._atm_iv = np.array([p.atm_iv for p in profiles])
        self._skew = np.array([p.put_skew for p in profiles])
        self._smile = np.array([p.smile for p in profiles])
        moneyness = np.abs(np.log(self._strike / self._spot[0]))
        self._trades_per_step = 6.0 * np.exp(-40.0 * moneyness)

    def mid(self, first: int, last: int) -> FloatArray:
        years = self.years(first, last)
        spot = self._spot[first:last]
        forward = spot * np.exp(CARRY_RATE * years)
        # IV rises as the index falls (leverage effect), within sane bounds.
        atm_iv = self._atm_iv * np.clip(np.exp(-4.0 * np.log(spot / self._spot[0])), 0.5, 2.0)
        strike = np.broadcast_to(self._strike, forward.shape)
        iv = smile_iv(atm_iv, np.log(strike / forward), self._skew, self._smile)
        price = black76(forward, strike, years, iv, CARRY_RATE, np.broadcast_to(self._call, forward.shape))
        result: FloatArray = np.maximum(price, 0.05)
        return result


class StockModel(QuoteModel):
    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        super().__init__(market, instruments)
        self._path = np.stack([market.stock_path(i.symbol) for i in instruments], axis=1)
        self._trades_per_step = np.array([3e5 / max(float(p[0]), 1.0) for p in self._path.T])

    def mid(self, first: int, last: int) -> FloatArray:
        result: FloatArray = self._path[first:last]
        return result


MODELS: dict[Kind, type[QuoteModel]] = {
    Kind.FUT: FutureModel,
    Kind.CE: OptionModel,
    Kind.PE: OptionModel,
    Kind.EQ: StockModel,
}


def _underlying(instrument: Instrument) -> str:
    if instrument.underlying is None:
        raise ValueError(f"{instrument.symbol} has no underlying")
    return instrument.underlying


def _expiry_ms(instrument: Instrument) -> int:
    if instrument.expiry is None:
        raise ValueError(f"{instrument.symbol} has no expiry")
    return ms(at_ist(instrument.expiry, EXPIRY_TIME))
