"""Order, fill and signal records: the vocabulary the strategy, risk, broker and artifacts share."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from engines.charges import Charges
from engines.market.instruments import Instrument
from engines.money import Paise
from engines.vocabulary import OrderStatus, OrderType, Product, Side, Validity

__all__ = [
    "Fill",
    "Order",
    "OrderState",
    "OrderStatus",
    "OrderTag",
    "OrderType",
    "Product",
    "Side",
    "Signal",
    "SignalAction",
    "Validity",
]


class SignalAction(StrEnum):
    """What a strategy asked for: a target position (LONG, SHORT, EXIT), or an order and its changes."""

    LONG = "LONG"
    SHORT = "SHORT"
    EXIT = "EXIT"
    BUY = "BUY"
    SELL = "SELL"
    CANCEL = "CANCEL"
    MODIFY = "MODIFY"


class OrderTag(StrEnum):
    """Why an order was placed."""

    ENTRY = "entry"
    EXIT = "exit"  # strategy exit: reversal or stop loss
    RISK_EXIT = "risk_exit"  # a loss limit was breached
    SQUARE_OFF = "square_off"  # the end-of-day flattening

    @property
    def adds_risk(self) -> bool:
        return self is OrderTag.ENTRY


@dataclass(frozen=True, slots=True)
class Signal:
    """A strategy decision: hold `target_quantity` (signed units) of `instrument`."""

    instrument: Instrument
    action: SignalAction
    target_quantity: int
    price: float  # the price the decision was made on (bar close of the deciding series)
    reason: str


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    placed_ms: int  # market time, epoch ms
    instrument: Instrument
    side: Side
    quantity: int
    tag: OrderTag
    product: Product = Product.MIS
    order_type: OrderType = OrderType.MARKET
    validity: Validity = Validity.DAY
    price: Paise = 0  # the limit price of LIMIT and SL orders
    trigger_price: Paise = 0  # of SL and SL-M orders
    strategy: str = ""  # the strategy that asked for it (empty for the engine's own exits)

    @property
    def signed_quantity(self) -> int:
        return self.quantity if self.side is Side.BUY else -self.quantity


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order, all of it or part of it, at one or several prices (a market order
    walking the depth takes each level at its own price)."""

    order: Order
    levels: tuple[tuple[int, Paise], ...]  # (units, price) per price taken
    charges: Charges  # what this fill adds to the order's charges
    realised: Paise  # gross P&L this fill realised

    @property
    def quantity(self) -> int:
        return sum(units for units, _ in self.levels)

    @property
    def value(self) -> Paise:
        return sum(units * price for units, price in self.levels)

    @property
    def price(self) -> Paise:
        """The last level's price (the worst one a market order paid)."""
        return self.levels[-1][1]


@dataclass(slots=True)
class OrderState:
    """An order from placement until it is complete, cancelled or rejected, with what it has filled."""

    order: Order
    touch: Paise | None  # the best price on its side when placed: the reference for slippage
    active_ms: int  # when it reaches the market: placed + the configured latency
    limit: Paise = 0  # the price it works at: a LIMIT's, an SL's, a MARKET order's protection price
    triggered: bool = False  # an SL or SL-M order whose trigger has traded
    resting: bool = False  # it has been at the market once: later fills are at its own price
    filled: int = 0
    value: Paise = 0  # the filled units' turnover
    charges: Charges = field(default_factory=Charges)
    realised: Paise = 0
    fills: int = 0

    @property
    def remaining(self) -> int:
        return self.order.quantity - self.filled

    @property
    def status(self) -> OrderStatus:
        if self.filled == self.order.quantity:
            return OrderStatus.COMPLETE
        if self.order.trigger_price and not self.triggered:
            return OrderStatus.TRIGGER_PENDING
        return OrderStatus.OPEN

    def to_json(self) -> dict[str, Any]:
        o = self.order
        return {
            "order_id": o.order_id,
            "placed_ms": o.placed_ms,
            "token": o.instrument.token,
            "side": o.side.value,
            "quantity": o.quantity,
            "tag": o.tag.value,
            "product": o.product.value,
            "order_type": o.order_type.value,
            "validity": o.validity.value,
            "price": o.price,
            "trigger_price": o.trigger_price,
            "strategy": o.strategy,
            "touch": self.touch,
            "active_ms": self.active_ms,
            "limit": self.limit,
            "triggered": self.triggered,
            "resting": self.resting,
            "filled": self.filled,
            "value": self.value,
            "charges": self.charges.items(),
            "realised": self.realised,
            "fills": self.fills,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], instrument: Instrument) -> OrderState:
        order = Order(
            data["order_id"],
            data["placed_ms"],
            instrument,
            Side(data["side"]),
            data["quantity"],
            OrderTag(data["tag"]),
            Product(data["product"]),
            OrderType(data["order_type"]),
            Validity(data["validity"]),
            data["price"],
            data["trigger_price"],
            data["strategy"],
        )
        return cls(
            order,
            data["touch"],
            data["active_ms"],
            data["limit"],
            data["triggered"],
            data["resting"],
            data["filled"],
            data["value"],
            Charges(**data["charges"]),
            data["realised"],
            data["fills"],
        )
