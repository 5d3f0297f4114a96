"""Exact money: every amount in the ledger is an int of paise (1 rupee = 100 paise).

Floats appear only in market data (ticks carry floats, as Kite's do) and in pricing models; they are
turned into paise here, on the instrument's tick, before they touch the ledger.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

Paise = int
PAISE_PER_RUPEE = 100


def price_to_paise(price: float | Decimal | str, tick_paise: int) -> Paise:
    """Convert a rupee price to paise, rounded to the nearest multiple of the tick (half up).

    Floats (tick prices) take a fast path: a price quoted in paise is exact after round(price * 100)
    for any price below 10^13 rupees, and the tick snap is integer arithmetic. It runs once a second
    per open position, so it matters."""
    if tick_paise <= 0:
        raise ValueError(f"tick must be a positive number of paise, got {tick_paise}")
    if isinstance(price, float):
        paise = round(price * PAISE_PER_RUPEE)
        return (paise + tick_paise // 2) // tick_paise * tick_paise
    exact = Decimal(str(price)) * PAISE_PER_RUPEE
    ticks = (exact / tick_paise).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(ticks) * tick_paise


def rupees_to_paise(amount: Decimal | int | str) -> Paise:
    """Convert a rupee amount (config values, limits) to paise, rounding half up to the paisa."""
    return int((Decimal(str(amount)) * PAISE_PER_RUPEE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fmt_rupees(paise: Paise) -> str:
    """Render paise as a rupee string with exactly two decimals: 123456 -> '1234.56', -5 -> '-0.05'."""
    sign = "-" if paise < 0 else ""
    whole, frac = divmod(abs(paise), PAISE_PER_RUPEE)
    return f"{sign}{whole}.{frac:02d}"


def paise_to_decimal(paise: Paise) -> Decimal:
    return Decimal(paise) / PAISE_PER_RUPEE
