"""Closed trading vocabularies shared by orders, charges, the broker and the CLIs, spelt as Kite spells them.

A leaf module (it imports nothing from the project): any module can use these words without an import cycle.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Kite's `transaction_type`."""

    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    """Kite's `order_type`."""

    MARKET = "MARKET"
    LIMIT = "LIMIT"
    SL = "SL"  # stop-loss limit: a LIMIT order once the trigger price trades
    SL_M = "SL-M"  # stop-loss market: a MARKET order once the trigger price trades


class Validity(StrEnum):
    """Kite's `validity`."""

    DAY = "DAY"  # works until filled, cancelled, or the close
    IOC = "IOC"  # immediate or cancel: what cannot fill at once is cancelled


class OrderStatus(StrEnum):
    """Kite's order `status` values an order passes through here."""

    OPEN = "OPEN"  # working at the exchange (partly filled or not at all)
    TRIGGER_PENDING = "TRIGGER PENDING"  # an SL or SL-M order waiting for its trigger
    COMPLETE = "COMPLETE"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


class Product(StrEnum):
    """Kite's `product`: how long a position may live, which decides the charges on NSE cash."""

    MIS = "MIS"  # intraday, squared off the same day (equity or F&O)
    NRML = "NRML"  # overnight F&O
    CNC = "CNC"  # delivery equity

    @property
    def for_equity(self) -> bool:
        return self in (Product.MIS, Product.CNC)

    @property
    def for_derivatives(self) -> bool:
        return self in (Product.MIS, Product.NRML)
