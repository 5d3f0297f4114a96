"""A session's path between the open and the close the daily process gave: a bridge on NSE's seconds.

Paths live on a fixed grid, one point per second of the normal market (09:15:00 to 15:29:59), whatever a
configured session's hours or tick interval: a session samples the grid, so a price at a moment is the
same in every configuration. Within the day a path is a random walk whose volatility follows the
intraday U-shape (`activity`); NIFTY's also has a slow mean-reverting drift that gives it trends and
reversals (the others follow them through their beta). The walk is then bridged to end exactly at the
day's close, each second taking a share of the correction in proportion to its variance (a Brownian
bridge under time-varying volatility), so the open stays the open.
"""

from __future__ import annotations

import math
from datetime import time

import numpy as np

from engines.market.sim.noise import FloatArray

NSE_OPEN = time(9, 15)
NSE_CLOSE = time(15, 30)
GRID_SECONDS = 6 * 3600 + 15 * 60  # 09:15:00 .. 15:29:59
DRIFT_WEIGHT = 0.015  # of the drift in each second's shock: trends over minutes, invisible tick to tick
DRIFT_RATE = 1.0 / 1200.0  # the drift's mean reversion per second (a 20-minute memory)
# The drift's share of a walk's variance (weight^2 times the OU's integrated autocorrelation, 2 / rate):
# the walk is scaled by it so that its spread over the day matches the move it is bridged to.
_WALK_VARIANCE = 1.0 + DRIFT_WEIGHT**2 * 2.0 / DRIFT_RATE
_OU_CHUNK = 2048  # phi**-chunk stays small: the chunked closed form below is exact in floating point


def activity() -> FloatArray:
    """Intraday U-shape per grid second: more movement, trading and wider books near the open and close
    (scaled to mean square 1, so it redistributes the day's variance rather than adding to it)."""
    minutes = np.arange(GRID_SECONDS) / 60.0
    total = minutes[-1]
    shape = 1.0 + 1.2 * np.exp(-minutes / 25.0) + 0.6 * np.exp(-(total - minutes) / 25.0)
    result: FloatArray = shape / np.sqrt(np.mean(shape**2))
    return result


def ornstein_uhlenbeck(shocks: FloatArray, rate: float) -> FloatArray:
    """A unit-variance OU process driven by `shocks`, mean-reverting at `rate` per step, from 0.

    x[i] = phi x[i-1] + s z[i] has the closed form phi^i (x0 + cumsum(s z[j] phi^-j)); computed in chunks
    so that phi^-j stays within a few units (a plain Python loop costs 10 ms a path)."""
    phi = math.exp(-rate)
    scale = math.sqrt(1.0 - phi * phi)
    out = np.empty_like(shocks)
    powers = phi ** np.arange(1, _OU_CHUNK + 1, dtype=np.float64)  # phi^1 .. phi^chunk
    x = 0.0
    for start in range(0, len(shocks), _OU_CHUNK):
        z = shocks[start : start + _OU_CHUNK]
        p = powers[: len(z)]
        chunk = p * (x + np.cumsum(scale * z / p))
        out[start : start + len(z)] = chunk
        x = float(chunk[-1])
    return out


def bridged_walk(
    rng: np.random.Generator, activity: FloatArray, move: float, daily_vol: float, trending: bool
) -> FloatArray:
    """Log-return from the open at every grid second, ending exactly at `move` (the day's open-to-close).

    `daily_vol` is the unconditional spread of that move: the walk is scaled to it so the bridge's
    correction stays small and the path's volatility is the profile's. A `trending` walk carries the slow
    drift (NIFTY's: the other names follow its trends through their beta, and need none of their own)."""
    steps = activity * rng.standard_normal(GRID_SECONDS)
    walk_variance = 1.0
    if trending:
        steps += activity * DRIFT_WEIGHT * ornstein_uhlenbeck(rng.standard_normal(GRID_SECONDS), DRIFT_RATE)
        walk_variance = _WALK_VARIANCE
    variance = activity**2
    variance[0] = 0.0  # the first second is the open itself
    total = float(variance.sum())
    steps *= daily_vol / math.sqrt(total * walk_variance)
    steps[0] = 0.0
    walk = np.cumsum(steps)
    share = np.cumsum(variance) / total
    result: FloatArray = walk - share * (float(walk[-1]) - move)
    return result
