"""How liquid each simulated instrument is: its spread, book depth, trading rate and open interest.

Magnitudes of a liquid NSE session (2025), not a calibration:
- large-cap stocks: spreads of 0.8 to 1.4 bp of price, tighter the higher the turnover, never under a
  tick; a few lakh rupees resting at each level; volume at the stock's usual turnover;
- index futures: the near month one or two ticks wide (NIFTY, BANKNIFTY; three at the open), the far
  months wider and thinner; open interest in lakhs of lots for NIFTY;
- index options: spreads a fraction of the premium set by how near the expiry is: NIFTY's nearest
  weekly 0.03% (one or two ticks at the money), its next 0.06%, a nearest monthly 0.09% (about 0.1% at
  the money), later monthlies wider; wider in rupees deep in the money, never under a tick; depth,
  trading and open interest peaking at the money (open interest also at round strikes, out of the
  money), and falling with the expiry's distance and the underlying's liquidity.
A model widens every spread further in the first minutes of the day (models.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engines.market.sim.intraday import GRID_SECONDS
from engines.market.sim.reference import IndexProfile, StockProfile

CRORE = 1e7
STOCK_SPREAD_BP = (0.8, 1.4)  # the tightest (highest turnover) and widest large-cap spreads
STOCK_LEVEL_RUPEES = 1.5e5  # resting at a level of a stock trading Rs 10 crore a day; grows as its root
STOCK_ORDER_RUPEES = 6e4  # a typical resting order
FUTURE_SPREAD_TICKS = (1.3, 4.0, 8.0)  # near, next and far month, before rounding
FUTURE_WEIGHT = (1.0, 0.25, 0.08)  # depth and trading by month
FUTURE_OI_WEIGHT = (1.0, 0.15, 0.03)
NIFTY_FUTURE_OI_LOTS = 200_000
# Option spreads as a fraction of premium, by expiry class: NIFTY's expiries in order; an index with
# monthlies only starts at the third (its nearest monthly is NIFTY's nearest monthly).
OPTION_SPREAD = (0.0003, 0.0006, 0.0009, 0.0018, 0.003, 0.004)
OPTION_WEIGHT = (1.0, 0.35, 0.15, 0.06, 0.03, 0.02)  # depth and trading by the index's own expiry rank
OPTION_OI_WEIGHT = (1.0, 0.5, 0.4, 0.25, 0.15, 0.1)
OPTION_LEVEL_RUPEES = 6e5  # premium resting at a level of NIFTY's nearest at-the-money option
NIFTY_OPTION_OI_LOTS = 150_000  # at the money, nearest expiry


@dataclass(frozen=True, slots=True)
class Liquidity:
    """One instrument's liquidity for the day."""

    spread_frac: float  # the spread as a fraction of the price, before rounding to ticks
    min_ticks: float  # the spread's floor, in ticks (before the opening widening and rounding)
    depth_lots: float  # mean lots resting at the best level
    order_lots: float  # mean lots per resting order
    trade_lots: float  # mean lots traded per second at the day's average activity
    oi_lots: float = 0.0  # open interest at the open, lots (0 for cash stocks)
    oi_swing: float = 0.0  # the most open interest builds or unwinds in a day, as a fraction of the open's


def stock(profile: StockProfile, price: float) -> Liquidity:
    """A cash stock at `price` rupees."""
    tight, wide = STOCK_SPREAD_BP
    spread_bp = min(wide, max(tight, wide * (300.0 / profile.turnover_cr) ** 0.25))
    level_rupees = STOCK_LEVEL_RUPEES * math.sqrt(profile.turnover_cr / 10.0)
    return Liquidity(
        spread_frac=spread_bp * 1e-4,
        min_ticks=1.0,
        depth_lots=max(1.0, level_rupees / price),
        order_lots=max(1.0, STOCK_ORDER_RUPEES / price),
        trade_lots=profile.turnover_cr * CRORE / price / GRID_SECONDS,
    )


def future(profile: IndexProfile, rank: int) -> Liquidity:
    """An index future, `rank` 0 for the near month."""
    rank = min(rank, len(FUTURE_WEIGHT) - 1)
    thin = 1.0 if profile.liquidity >= 0.5 else 1.5  # FINNIFTY, MIDCPNIFTY: a tick more on average
    weight = profile.liquidity * FUTURE_WEIGHT[rank]
    return Liquidity(
        spread_frac=0.0,
        min_ticks=FUTURE_SPREAD_TICKS[rank] * thin,
        depth_lots=max(1.0, 15.0 * weight),
        order_lots=2.0,
        trade_lots=4.0 * weight,
        oi_lots=NIFTY_FUTURE_OI_LOTS * profile.liquidity * FUTURE_OI_WEIGHT[rank],
        oi_swing=0.08,  # futures positions are mostly carried: a few percent a day
    )


@dataclass(frozen=True, slots=True)
class OptionSpot:
    """Where an option stands at the day's open."""

    rank: int  # of its expiry among the index's listed expiries, 0 nearest
    weeklies: bool  # whether the index lists weekly expiries
    z: float  # ln(strike / forward) in standard deviations to expiry (at the ATM IV)
    out_of_the_money: bool
    round_strike: float  # 1 for an ordinary strike; more for strikes traders cluster on
    premium: float  # rupees
    lot: int


def option(profile: IndexProfile, spot: OptionSpot) -> Liquidity:
    """An index option; spreads widen away from the money, depth and trading fall off."""
    spread_class = min(spot.rank + (0 if spot.weeklies else 2), len(OPTION_SPREAD) - 1)
    rank = min(spot.rank, len(OPTION_WEIGHT) - 1)
    away = abs(spot.z)
    spread_frac = (
        OPTION_SPREAD[spread_class]
        * (1.0 + 0.1 * (1.0 - profile.liquidity))
        * min(4.0, 1.0 + 0.5 * max(0.0, away - 1.0))
    )
    weight = profile.liquidity * OPTION_WEIGHT[rank] * max(0.02, math.exp(-away * away / 8.0))
    side = 1.4 if spot.out_of_the_money else 0.5  # open interest sits mostly out of the money
    oi_weight = profile.liquidity * OPTION_OI_WEIGHT[rank] * max(0.01, math.exp(-away * away / 18.0))
    return Liquidity(
        spread_frac=spread_frac,
        min_ticks=1.0,
        depth_lots=min(2000.0, max(1.0, OPTION_LEVEL_RUPEES * weight / max(spot.premium * spot.lot, 1.0))),
        order_lots=2.5,
        trade_lots=12.0 * weight,
        oi_lots=NIFTY_OPTION_OI_LOTS * oi_weight * side * spot.round_strike,
        oi_swing=0.3,  # option writers open and close through the day
    )
