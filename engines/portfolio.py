"""Positions and the paper account, in exact paise.

P&L follows Kite's positions arithmetic (KITE_AND_NSE.md §1.4): total P&L of a position is
sell_value - buy_value + quantity * last_price. Realised P&L is booked against the average cost of the
open quantity; the cost removed on a partial close is rounded to the paisa and the remainder stays in
the open cost, so realised + unrealised always equals Kite's total exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engines.charges import Product, Side
from engines.market.instruments import Instrument
from engines.money import Paise


@dataclass(slots=True)
class Position:
    instrument: Instrument
    quantity: int = 0  # signed units
    cost: Paise = 0  # signed cost of the open quantity
    buy_quantity: int = 0
    buy_value: Paise = 0
    sell_quantity: int = 0
    sell_value: Paise = 0
    realised: Paise = 0
    charges: Paise = 0
    last_price: Paise = 0
    product: Product = Product.MIS  # of the orders that opened it: one product per symbol at a time

    @property
    def unrealised(self) -> Paise:
        return self.quantity * self.last_price - self.cost

    @property
    def pnl(self) -> Paise:
        """Gross P&L (before charges), equal to sell_value - buy_value + quantity * last_price."""
        return self.realised + self.unrealised

    @property
    def average_price(self) -> Paise:
        return abs(self.cost) // abs(self.quantity) if self.quantity else 0

    def realised_by(self, side: Side, quantity: int, price: Paise) -> Paise:
        """The gross P&L a fill would realise, without booking it."""
        signed = quantity if side is Side.BUY else -quantity
        if not self.quantity or (self.quantity > 0) == (signed > 0):
            return 0
        closing = min(abs(signed), abs(self.quantity))
        removed = _rounded_div(self.cost * closing, abs(self.quantity))
        proceeds = closing * price if self.quantity > 0 else -closing * price
        return proceeds - removed

    def apply(self, side: Side, quantity: int, price: Paise, charges: Paise) -> Paise:
        """Book a fill; returns the P&L it realised (gross)."""
        realised = self.realised_by(side, quantity, price)
        signed = quantity if side is Side.BUY else -quantity
        if side is Side.BUY:
            self.buy_quantity += quantity
            self.buy_value += quantity * price
        else:
            self.sell_quantity += quantity
            self.sell_value += quantity * price
        self.charges += charges
        if self.quantity and (self.quantity > 0) != (signed > 0):  # reduces (and maybe flips)
            closing = min(abs(signed), abs(self.quantity))
            self.cost -= _rounded_div(self.cost * closing, abs(self.quantity))
            self.quantity += closing if self.quantity < 0 else -closing
            signed += closing if signed < 0 else -closing
        self.quantity += signed
        self.cost += signed * price
        self.realised += realised
        self.last_price = price  # until the engine marks it at the last traded price
        return realised

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.instrument.symbol,
            "token": self.instrument.token,
            "quantity": self.quantity,
            "cost_paise": self.cost,
            "buy_quantity": self.buy_quantity,
            "buy_value_paise": self.buy_value,
            "sell_quantity": self.sell_quantity,
            "sell_value_paise": self.sell_value,
            "realised_paise": self.realised,
            "charges_paise": self.charges,
            "last_price_paise": self.last_price,
            "product": self.product.value,
        }

    @classmethod
    def from_json(cls, instrument: Instrument, data: dict[str, Any]) -> Position:
        return cls(
            instrument,
            data["quantity"],
            data["cost_paise"],
            data["buy_quantity"],
            data["buy_value_paise"],
            data["sell_quantity"],
            data["sell_value_paise"],
            data["realised_paise"],
            data["charges_paise"],
            data["last_price_paise"],
            Product(data["product"]),
        )


def _rounded_div(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero."""
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


@dataclass(slots=True)
class Book:
    """One engine's paper account: capital, positions, charges and the P&L they add up to."""

    capital: Paise
    positions: dict[str, Position] = field(default_factory=dict)

    def position(self, instrument: Instrument) -> Position:
        found = self.positions.get(instrument.symbol)
        if found is None:
            found = self.positions[instrument.symbol] = Position(instrument)
        return found

    def quantity(self, symbol: str) -> int:
        found = self.positions.get(symbol)
        return found.quantity if found else 0

    def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if p.quantity]

    @property
    def realised(self) -> Paise:
        return sum(p.realised for p in self.positions.values())

    @property
    def unrealised(self) -> Paise:
        return sum(p.unrealised for p in self.positions.values())

    @property
    def charges(self) -> Paise:
        return sum(p.charges for p in self.positions.values())

    @property
    def net_pnl(self) -> Paise:
        """Realised + unrealised - charges: what the day made or lost so far."""
        return self.realised + self.unrealised - self.charges
