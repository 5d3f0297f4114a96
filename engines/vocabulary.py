"""Closed trading vocabularies shared by orders, charges, the broker and the CLIs, spelt as Kite spells them.

A leaf module (it imports nothing from the project): any module can use these words without an import cycle.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Kite's `transaction_type`."""

    BUY = "BUY"
    SELL = "SELL"


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
