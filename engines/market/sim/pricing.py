"""Vectorised pricing for the simulator: the one forward curve, and Black-76 on it with a quadratic smile.

Futures quote the forward; options are priced off the same forward and discounted at the same rate.
Put-call parity, C - P = exp(-RATE T) (F - K), therefore holds exactly at the model prices, and a
conversion or reversal can only gain what the quotes give away around them (nothing, as they straddle).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
RATE = 0.065  # the simulator's risk-free rate: the forward's carry (less dividends) and the options' discount


def forward(spot: FloatArray, years: FloatArray, dividend_yield: FloatArray | float) -> FloatArray:
    """The index forward for `years` ahead: spot carried at the rate less the dividend yield."""
    result: FloatArray = spot * np.exp((RATE - dividend_yield) * years)
    return result


def norm_cdf(x: FloatArray) -> FloatArray:
    """Standard normal CDF (Abramowitz & Stegun 26.2.17, |error| < 7.5e-8): numpy has no erf."""
    t = 1.0 / (1.0 + 0.2316419 * np.abs(x))
    poly = t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))))
    tail = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi) * poly
    result: FloatArray = np.where(x >= 0, 1.0 - tail, tail)
    return result


def smile_iv(
    atm_iv: FloatArray, log_moneyness: FloatArray, skew: FloatArray | float, smile: FloatArray | float
) -> FloatArray:
    """IV by strike: ATM level plus skew and curvature in log-moneyness ln(K/F), floored at 3%."""
    return np.maximum(atm_iv + skew * log_moneyness + smile * log_moneyness**2, 0.03)


def black76(
    forward: FloatArray,
    strike: FloatArray,
    years: FloatArray,
    iv: FloatArray,
    is_call: NDArray[np.bool_],
) -> FloatArray:
    """Black-76 price of European options on `forward`, discounted at RATE; all arrays broadcast."""
    sd = iv * np.sqrt(years)
    d1 = (np.log(forward / strike) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    discount = np.exp(-RATE * years)
    call = discount * (forward * norm_cdf(d1) - strike * norm_cdf(d2))
    put = discount * (strike * norm_cdf(-d2) - forward * norm_cdf(-d1))
    return np.where(is_call, call, put)
