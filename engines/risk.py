"""Pre-trade risk checks and the loss limits watched while positions are open.

Orders that reduce a position are always allowed (they take risk off). Orders that add risk are
refused, with the rule and the numbers in the reason, when: the engine is halted by the daily loss
limit, the symbol is blocked by its loss limit, trading is closed for the day (square-off time), the
book already holds max_open_positions, the quantity exceeds the exchange freeze limit, or the margin
it needs exceeds what is available.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engines.charges import Side
from engines.instruments import UNDERLYINGS
from engines.money import Paise, fmt_rupees
from engines.orders import Order
from engines.portfolio import Book, margin_required


@dataclass(frozen=True, slots=True)
class RiskLimits:
    max_daily_loss: Paise
    per_symbol_max_loss: Paise
    max_open_positions: int


@dataclass(slots=True)
class RiskState:
    """What the limits have triggered today; part of the checkpoint."""

    halted: bool = False
    blocked: set[str] = field(default_factory=set)
    trading_closed: bool = False  # after square-off time

    def to_json(self) -> dict[str, Any]:
        return {
            "halted": self.halted,
            "blocked_symbols": sorted(self.blocked),
            "trading_closed": self.trading_closed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RiskState:
        return cls(data["halted"], set(data["blocked_symbols"]), data["trading_closed"])


class RiskManager:
    def __init__(self, limits: RiskLimits, state: RiskState | None = None) -> None:
        self.limits = limits
        self.state = state or RiskState()

    def refusal(self, book: Book, order: Order, price: Paise) -> str | None:
        """Why `order` (to be filled near `price`) must be refused, or None when it may go."""
        held = book.quantity(order.instrument.symbol)
        signed = order.quantity if order.side is Side.BUY else -order.quantity
        if held and (held > 0) != (signed > 0) and abs(signed) <= abs(held):
            return None  # reduces or closes a position: always allowed
        state, limits, symbol = self.state, self.limits, order.instrument.symbol
        if state.halted:
            return f"daily loss limit ({fmt_rupees(limits.max_daily_loss)}) breached today; no new entries"
        if symbol in state.blocked:
            return f"{symbol} hit its loss limit ({fmt_rupees(limits.per_symbol_max_loss)}) earlier today"
        if state.trading_closed:
            return "past square-off time; no new entries"
        if not held and len(book.open_positions()) >= limits.max_open_positions:
            return f"max_open_positions ({limits.max_open_positions}) already open"
        underlying = order.instrument.underlying
        if underlying is not None and order.quantity > UNDERLYINGS[underlying].freeze_qty:
            return (
                f"quantity {order.quantity} exceeds the {underlying} freeze limit "
                f"({UNDERLYINGS[underlying].freeze_qty} units per order)"
            )
        needed = margin_required(order.instrument, order.quantity, price)
        if needed > book.available:
            return (
                f"insufficient margin: required {fmt_rupees(needed)}, available {fmt_rupees(book.available)}"
            )
        return None

    def breaches(self, book: Book) -> tuple[bool, list[str]]:
        """Limits newly breached by marked-to-market P&L: (daily limit hit, symbols over their limit)."""
        daily = not self.state.halted and book.net_pnl <= -self.limits.max_daily_loss
        symbols = [
            p.instrument.symbol
            for p in book.open_positions()
            if p.instrument.symbol not in self.state.blocked
            and p.pnl - p.charges <= -self.limits.per_symbol_max_loss
        ]
        return daily, symbols
