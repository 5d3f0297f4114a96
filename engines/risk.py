"""Pre-trade risk on each order's own effect, and the loss limits watched while positions are open.

Every order is checked before it fills. All orders: F&O quantities in whole lots; an order above the
exchange freeze quantity is sliced when it takes risk off (as Kite's autoslice does) and refused when it
adds risk. Orders that reduce a position then pass: they take risk off. Orders that add risk are refused,
with the rule and the numbers in the reason, when the engine is halted by the daily loss limit, the symbol
is blocked by its own limit, trading is closed for the day (square-off time), max_open_positions are open,
the margin exceeds what is available, or the order's own cost (its charges, and the spread it pays against
the last traded price it is marked at) would take the day's or the symbol's net P&L past its limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engines.margins import Holding, MarginModel
from engines.market.instruments import Instrument
from engines.market.rules import MarketRules, load_rules
from engines.money import Paise, fmt_rupees
from engines.orders import Order, OrderTag
from engines.portfolio import Book


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
    trading_closed: bool = False  # from square-off time on

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
    def __init__(
        self,
        limits: RiskLimits,
        day: date,
        rules: MarketRules | None = None,
        state: RiskState | None = None,
        margins: MarginModel | None = None,
    ) -> None:
        self.limits = limits
        self.day = day
        self.rules = rules or load_rules()
        self.state = state or RiskState()
        self.margins = margins or MarginModel(day, rules=self.rules)

    def freeze_quantity(self, instrument: Instrument) -> int | None:
        if not instrument.is_derivative or instrument.underlying is None:
            return None
        return self.rules.freeze_quantity(instrument.underlying, self.day)

    def slices(self, instrument: Instrument, quantity: int, tag: OrderTag) -> list[int]:
        """`quantity` cut into orders the exchange accepts: exits above the freeze quantity become
        several orders of at most the freeze quantity in whole lots; everything else stays one order."""
        freeze = self.freeze_quantity(instrument)
        if freeze is None or quantity <= freeze or tag.adds_risk:
            return [quantity]
        lot = max(instrument.lot_size, 1)
        largest = freeze // lot * lot
        full, rest = divmod(quantity, largest)
        return [largest] * full + ([rest] if rest else [])

    def refusal(self, book: Book, order: Order, price: Paise, charges: Paise, mark: Paise) -> str | None:
        """Why `order` must not fill at `price` with `charges`, or None when it may. `mark` is the last
        traded price the position will be marked at."""
        instrument, quantity = order.instrument, order.quantity
        lot = instrument.lot_size
        if lot > 1 and quantity % lot:
            return (
                f"quantity {quantity} is not a multiple of the lot size ({lot}) of {instrument.symbol}; "
                f"F&O orders are in whole lots"
            )
        freeze = self.freeze_quantity(instrument)
        held = book.quantity(instrument.symbol)
        signed = order.signed_quantity
        position = book.positions.get(instrument.symbol)
        if held and position is not None and position.product is not order.product:
            return (
                f"{instrument.symbol} is held as {position.product.value}; close it before trading it as "
                f"{order.product.value}"
            )
        if held and (held > 0) != (signed > 0) and abs(signed) <= abs(held):
            return None  # reduces or closes a position: always allowed
        if freeze is not None and quantity > freeze:
            return (
                f"quantity {quantity} exceeds the {instrument.underlying} freeze limit of {freeze} units per "
                f"order; place smaller orders"
            )
        state, limits, symbol = self.state, self.limits, instrument.symbol
        if state.halted:
            return f"daily loss limit ({fmt_rupees(limits.max_daily_loss)}) breached today; no new entries"
        if symbol in state.blocked:
            return f"{symbol} hit its loss limit ({fmt_rupees(limits.per_symbol_max_loss)}) earlier today"
        if state.trading_closed:
            return "past square-off time; no new entries"
        if not held and len(book.open_positions()) >= limits.max_open_positions:
            return f"max_open_positions ({limits.max_open_positions}) already open"
        holdings = [Holding(p.instrument, p.quantity, p.last_price, p.product) for p in book.open_positions()]
        used = self.margins.required(holdings)
        after = [h for h in holdings if h.instrument.token != instrument.token]
        after.append(Holding(instrument, held + signed, price, order.product))
        needed = self.margins.required(after) - used
        available = book.capital + book.net_pnl - used
        if needed > available:
            return (
                f"Insufficient funds. Required margin is {fmt_rupees(needed)} but available margin is "
                f"{fmt_rupees(available)}"
            )
        # What the order itself costs the moment it fills: its charges and its price against the mark.
        cost = charges + quantity * (price - mark if signed > 0 else mark - price)
        day_after = book.net_pnl - cost
        if day_after <= -limits.max_daily_loss:
            return (
                f"daily loss limit: this order's charges and spread would take the day's net P&L to "
                f"{fmt_rupees(day_after)}, at or past -{fmt_rupees(limits.max_daily_loss)}"
            )
        position = book.positions.get(symbol)
        symbol_after = (position.pnl - position.charges if position else 0) - cost
        if symbol_after <= -limits.per_symbol_max_loss:
            return (
                f"per-symbol loss limit: this order would take {symbol}'s net P&L to "
                f"{fmt_rupees(symbol_after)}, at or past -{fmt_rupees(limits.per_symbol_max_loss)}"
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
