"""How many units an entry takes: whole lots for F&O, an order value's worth of shares for cash stocks."""

from __future__ import annotations

from decimal import Decimal

from engines.market.instruments import Instrument


def entry_size(instrument: Instrument, price: float, lots: int, order_value: Decimal) -> int:
    if instrument.lot_size > 1:
        return lots * instrument.lot_size
    return int(order_value // Decimal(str(price))) if price > 0 else 0
