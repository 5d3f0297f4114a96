"""Price models of the simulator: a model mid per step and instrument becomes a five-level book on the tick.

- futures: the forward of the index path to the contract's expiry (pricing.forward);
- options: Black-76 on that same forward, with a skewed IV smile whose level rises when the index falls;
- stocks: their path from `MarketSimulator.stock_path`.

The book around a mid: a spread in ticks from the instrument's liquidity (liquidity.py), wider in the
first minutes of the day; a best bid and ask that straddle the mid (bid <= mid <= ask: with one forward
curve, the quotes then leave no conversion or reversal to take), except that the best bid is never under
a tick (an option worth less still has its 0.05 bid); four more levels a side, spaced by about
half the spread; quantities and order counts from the instrument's depth. A trade each step, at the bid
or the ask, sized from the instrument's trading rate and the intraday activity; volume is the running sum
from the open; open interest moves with the volume, building or unwinding by the day's fraction.

All noise is counter-based (noise.py): a hash of (instrument, NSE second, salt), so an instrument's
ticks are the same whatever else is subscribed and from whichever step a feed starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from engines.market.calendar import at_ist, ms
from engines.market.instruments import Instrument, Kind
from engines.market.sim import liquidity
from engines.market.sim.intraday import NSE_OPEN
from engines.market.sim.liquidity import Liquidity, OptionSpot
from engines.market.sim.market import EXPIRY_TIME, MarketSimulator, years_between
from engines.market.sim.noise import I64, U64, field, hashed, hashed_levels, unit
from engines.market.sim.pricing import FloatArray, black76, forward, smile_iv
from engines.market.sim.reference import INDEX_PROFILES, STOCKS
from engines.market.ticks import DEPTH

OPEN_WIDENING = 2.0  # at 09:15:00 spreads are this much wider than the day's usual, on top of it ...
OPEN_WIDENING_SECONDS = 180.0  # ... decaying with this time constant: back to normal by about 09:30
LEVEL_SHAPE = (1.0, 1.2, 1.4, 1.6, 1.8)  # mean depth of each level relative to the best
MAX_ORDERS = 65_535  # Kite's depth entries carry the order count as uint16
OI_BUILD_ODDS = 0.55  # how often open interest builds over a day rather than unwinds
_SALT_TOP, _SALT_DAY, _SALT_LEVEL = 1, 5, 10
_VOLUME_CHUNK = 2000  # steps hashed at a time when catching up on the volume before a resume
_LEVELS = np.arange(DEPTH, dtype=np.int64)
# _BITS_BELOW[b][k]: how many of the k lowest bits of b are set (level k's extra ticks from the touch).
_BITS_BELOW = np.array([[bin(b & ((1 << k) - 1)).count("1") for k in range(DEPTH)] for b in range(16)])


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


class QuoteModel:
    """Books and trades for a group of instruments of one kind."""

    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        session = market.session
        self.market = market
        self.instruments = instruments
        seconds = session.seconds(0, session.steps)
        self._counters: U64 = seconds.astype(np.uint64)
        self._activity = market.activity[:, None]
        self._widen = (1.0 + OPEN_WIDENING * np.exp(-seconds / OPEN_WIDENING_SECONDS))[:, None]
        self._tick = np.array([i.tick for i in instruments], dtype=np.int64)
        self._lot = np.array([max(i.lot_size, 1) for i in instruments], dtype=np.int64)
        self._keys = np.array([session.key(i) for i in instruments], dtype=np.uint64)
        self._use(self.liquidity(), session.tick_interval_s)

    def liquidity(self) -> list[Liquidity]:
        raise NotImplementedError

    def mid(self, first: int, last: int) -> FloatArray:
        """Model price in rupees, shape (steps, instruments)."""
        raise NotImplementedError

    def _use(self, rows: list[Liquidity], interval_s: int) -> None:
        self._spread_frac = np.array([r.spread_frac for r in rows])
        self._min_ticks = np.array([r.min_ticks for r in rows])
        # A level's lots: depth x level shape x uniform(0.3, 1.7), as (base + spread x 16 random bits) >> 20;
        # its orders: lots / order size x uniform(0.6, 1.6), as (lots x weight x scale) >> 32.
        depth = np.array([r.depth_lots for r in rows])[None, :, None] * np.array(LEVEL_SHAPE)
        self._lots_base = np.round(0.3 * depth * 2**20).astype(np.int64)
        self._lots_spread = np.round(1.4 * depth * 2**4).astype(np.int64)
        order_lots = np.array([r.order_lots for r in rows])[None, :, None]
        self._orders_scale = np.round(2**24 / order_lots).astype(np.int64)
        # A step trades at least a lot (1 + floor(exponential x rate)): the rate adds what that leaves.
        self._trade_rate = np.maximum(np.array([r.trade_lots for r in rows]) * interval_s - 0.5, 0.0)
        day_bits = hashed(self._keys, np.zeros(1, dtype=np.uint64), _SALT_DAY)[0]  # once a day
        self._oi_open = np.floor(np.array([r.oi_lots for r in rows]) * (0.7 + 0.6 * unit(day_bits, 0, 16)))
        swing = np.array([r.oi_swing for r in rows]) * unit(day_bits, 16, 16)
        trend = np.where(unit(day_bits, 32, 16) < OI_BUILD_ODDS, swing, -swing)
        expected_lots = len(self._counters) * (1.0 + self._trade_rate * float(self._activity.mean()))
        self._oi_per_lot_traded = trend * self._oi_open / expected_lots

    # --- trades ------------------------------------------------------------------------------

    def _units(self, top: U64, first: int, last: int) -> I64:
        """Units traded at each step: whole lots, exponential around the activity-scaled rate."""
        exponential = -np.log1p(-unit(top, 32, 32))
        lots = 1 + np.floor(exponential * self._trade_rate * self._activity[first:last])
        result: I64 = lots.astype(np.int64) * self._lot
        return result

    def volume_before(self, step: int) -> I64:
        """Units traded from the open up to (not including) `step`."""
        total = np.zeros(len(self.instruments), dtype=np.int64)
        for first in range(0, step, _VOLUME_CHUNK):
            last = min(first + _VOLUME_CHUNK, step)
            top = hashed(self._keys, self._counters[first:last], _SALT_TOP)
            total += self._units(top, first, last).sum(axis=0)
        return total

    def _open_interest(self, volume: I64) -> I64:
        lots = np.maximum(1.0, self._oi_open + np.floor(self._oi_per_lot_traded * (volume // self._lot)))
        result: I64 = np.where(self._oi_open > 0, lots.astype(np.int64) * self._lot, 0)
        return result

    # --- the book ----------------------------------------------------------------------------

    def block(self, first: int, last: int, volume_before: I64, out: QuoteBlock) -> None:
        """Fill `out` (views of steps first..last-1 of this group's columns) with ticks."""
        tick = self._tick
        mid = self.mid(first, last) * 100.0 / tick  # in ticks
        top = hashed(self._keys, self._counters[first:last], _SALT_TOP)
        raw = np.maximum(self._min_ticks, mid * self._spread_frac) * self._widen[first:last]
        jitter = np.floor(unit(top, 0, 16) * np.maximum(1.25, 0.3 * raw))  # a tick or a few, now and then
        spread = (np.floor(raw + 0.5) + jitter).astype(np.int64)
        straddle = np.floor(mid - 0.5 * spread + 0.5).astype(np.int64)  # <= mid <= straddle + spread
        # Someone always bids the minimum for a lottery ticket: the best bid is at least a tick, even where
        # the model's price is below it (far out-of-the-money options); the ask stays above the model.
        bid = np.maximum(straddle, 1)
        ask = np.maximum(straddle + spread, bid + 1)
        out.last_price[...] = np.where(field(top, 16, 1) == 0, bid, ask) * tick
        units = self._units(top, first, last)
        out.last_quantity[...] = units
        np.cumsum(units, axis=0, out=out.volume)
        np.add(out.volume, volume_before, out=out.volume)
        out.oi[...] = self._open_interest(out.volume)
        self._depth(first, last, top, bid, ask, np.maximum(spread >> 1, 1), out)

    def _depth(self, first: int, last: int, top: U64, bid: I64, ask: I64, gap: I64, out: QuoteBlock) -> None:
        """Five levels a side from the touch outwards, every level at once (steps x instruments x levels),
        in integer fixed point: this is the simulator's inner loop."""
        tick = self._tick[None, :, None]
        for prices, touch, shift, sign in ((out.bid_price, bid, 17, -1), (out.ask_price, ask, 21, 1)):
            # Level k sits k gaps from the touch, plus a tick for each of its first k random bits.
            away = _LEVELS * gap[..., None] + _BITS_BELOW[field(top, shift, 4)]
            np.multiply(touch[..., None] + sign * away, tick, out=prices)
        bits = hashed_levels(self._keys, self._counters[first:last], _SALT_LEVEL, DEPTH)
        for quantity, orders, shift in (
            (out.bid_quantity, out.bid_orders, 0),
            (out.ask_quantity, out.ask_orders, 16),
        ):
            lots = np.maximum((self._lots_base + self._lots_spread * field(bits, shift, 16)) >> 20, 1)
            np.multiply(lots, self._lot[None, :, None], out=quantity)
            weight = field(bits, shift + 32, 8) + 154  # 256 x (0.6 .. 1.6)
            count = (lots * weight * self._orders_scale + (1 << 31)) >> 32
            np.minimum(np.maximum(count, 1), np.minimum(lots, MAX_ORDERS), out=orders)
        if (out.bid_price[..., DEPTH - 1] <= 0).any():
            empty = out.bid_price <= 0  # no bid at or below zero: an empty level is all zeros
            out.bid_price[empty] = out.bid_quantity[empty] = out.bid_orders[empty] = 0


class DerivativeModel(QuoteModel):
    """Futures and options: priced off the forward of their index to their expiry."""

    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        self._underlyings = [_underlying(i) for i in instruments]
        self._spot = np.stack([market.index_path(u) for u in self._underlyings], axis=1)
        self._open = np.array([market.levels(u).open for u in self._underlyings])
        self._dividend = np.array([INDEX_PROFILES[u].dividend_yield for u in self._underlyings])
        self._expiry_ms = np.array([ms(at_ist(_expiry(i), EXPIRY_TIME)) for i in instruments], dtype=np.int64)
        self._nse_open_ms = ms(at_ist(market.session.day, NSE_OPEN))
        super().__init__(market, instruments)

    def years(self, first: int, last: int) -> FloatArray:
        return self._years(self.market.session.step_ms(first), last - first)

    def _years(self, start_ms: int, steps: int) -> FloatArray:
        return years_between(start_ms, self.market.session.interval_ms, steps, self._expiry_ms)

    def forward(self, first: int, last: int) -> FloatArray:
        return forward(self._spot[first:last], self.years(first, last), self._dividend)

    @staticmethod
    def _rank(instrument: Instrument, expiries: list[date]) -> int:
        """The position of the instrument's expiry among the listed ones (0: the nearest)."""
        return expiries.index(instrument.expiry) if instrument.expiry in expiries else len(expiries)


class FutureModel(DerivativeModel):
    def liquidity(self) -> list[Liquidity]:
        months = self.market.calendar.monthly_expiries(self.market.session.day, 3)  # as the master lists
        return [
            liquidity.future(INDEX_PROFILES[underlying], self._rank(future, months))
            for future, underlying in zip(self.instruments, self._underlyings, strict=True)
        ]

    def mid(self, first: int, last: int) -> FloatArray:
        return self.forward(first, last)


class OptionModel(DerivativeModel):
    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        underlyings = [_underlying(i) for i in instruments]
        profiles = [INDEX_PROFILES[u] for u in underlyings]
        self._strike = np.array([i.strike / 100.0 for i in instruments])
        self._call = np.array([i.kind is Kind.CE for i in instruments])
        self._atm_iv = np.array([p.atm_iv for p in profiles])
        self._skew = np.array([p.put_skew for p in profiles])
        self._smile = np.array([p.smile for p in profiles])
        super().__init__(market, instruments)

    def mid(self, first: int, last: int) -> FloatArray:
        return self._price(self._spot[first:last], self.years(first, last))

    def _price(self, spot: FloatArray, years: FloatArray) -> FloatArray:
        fwd = forward(spot, years, self._dividend)
        # IV rises as the index falls from its open (leverage effect), within sane bounds.
        atm_iv = self._atm_iv * np.clip(np.exp(-4.0 * np.log(spot / self._open)), 0.5, 2.0)
        strike = np.broadcast_to(self._strike, fwd.shape)
        iv = smile_iv(atm_iv, np.log(strike / fwd), self._skew, self._smile)
        return black76(fwd, strike, years, iv, np.broadcast_to(self._call, fwd.shape))

    def liquidity(self) -> list[Liquidity]:
        """Each option's liquidity from where it stands at NSE's open: expiry rank, moneyness, premium."""
        years = self._years(self._nse_open_ms, 1)
        premium = self._price(self._open[None, :], years)[0]
        fwd = forward(self._open, years[0], self._dividend)
        z = np.log(self._strike / fwd) / (self._atm_iv * np.sqrt(years[0]))
        master, rules, day = self.market.master, self.market.rules, self.market.session.day
        rows = []
        for k, (option, underlying) in enumerate(zip(self.instruments, self._underlyings, strict=True)):
            spot = OptionSpot(
                rank=self._rank(option, master.option_expiries(underlying)),
                weeklies=rules.weekly_options(underlying, day),
                z=float(z[k]),
                out_of_the_money=bool(self._call[k] == (z[k] > 0)),
                round_strike=_roundness(option.strike, rules.strike_step(underlying, day)),
                premium=float(premium[k]),
                lot=option.lot_size,
            )
            rows.append(liquidity.option(INDEX_PROFILES[underlying], spot))
        return rows


class StockModel(QuoteModel):
    def __init__(self, market: MarketSimulator, instruments: list[Instrument]) -> None:
        self._path = np.stack([market.stock_path(i.symbol) for i in instruments], axis=1)
        super().__init__(market, instruments)

    def liquidity(self) -> list[Liquidity]:
        return [
            liquidity.stock(STOCKS[i.symbol], self.market.levels(i.symbol).open) for i in self.instruments
        ]

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


def _expiry(instrument: Instrument) -> date:
    if instrument.expiry is None:
        raise ValueError(f"{instrument.symbol} has no expiry")
    return instrument.expiry


def _roundness(strike: int, step: int) -> float:
    """How much more open interest a strike draws: traders cluster on round numbers."""
    if strike % (10 * step) == 0:
        return 1.8
    return 1.3 if strike % (2 * step) == 0 else 1.0
