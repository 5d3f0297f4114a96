"""Order, fill and signal records: the vocabulary the strategy, risk, broker and artifacts share."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engines.charges import Charges, Side
from engines.market.instruments import Instrument
from engines.money import Paise


class SignalAction(StrEnum):
    LONG = "LONG"
    SHORT = "SHORT"
    EXIT = "EXIT"


class OrderTag(StrEnum):
    """Why an order was placed."""

    ENTRY = "entry"
    EXIT = "exit"  # strategy exit: reversal or stop loss
    RISK_EXIT = "risk_exit"  # a loss limit was breached
    SQUARE_OFF = "square_off"  # the end-of-day flattening

    @property
    def adds_risk(self) -> bool:
        return self is OrderTag.ENTRY


class OrderStatus(StrEnum):
    COMPLETE = "COMPLETE"  # Kite's word for a filled order
    REJECTED = "REJECTED"


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

    @property
    def signed_quantity(self) -> int:
        return self.quantity if self.side is Side.BUY else -self.quantity


@dataclass(frozen=True, slots=True)
class Fill:
    order: Order
    price: Paise
    charges: Charges
    realised: Paise  # gross P&L this fill realised


@dataclass(frozen=True, slots=True)
class Rejection:
    order: Order
    reason: str
