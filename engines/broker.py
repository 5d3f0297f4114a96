"""The paper broker: fills market orders at the touch of the quotes current at the order's moment.

It is the only broker in paper mode and has no network code: there is no path from here to a real
order. Buys fill at the best offer, sells at the best bid, for the full quantity; the fill's charges are
Zerodha's (engines/charges.py) and its realised P&L is previewed from the book, which the engine books
only after the fill is journalled.
"""

from __future__ import annotations

from datetime import date

from engines.charges import Side, order_charges
from engines.market.rules import MarketRules, load_rules
from engines.money import Paise
from engines.orders import Fill, Order
from engines.portfolio import Book
from engines.quotes import Quotes


class PaperBroker:
    def __init__(self, quotes: Quotes, book: Book, day: date, rules: MarketRules | None = None) -> None:
        self._quotes = quotes
        self._book = book
        self._day = day
        self._rules = rules or load_rules()

    def price(self, order: Order) -> Paise | None:
        """The price `order` fills at now, or None when the side it needs has no quote."""
        slot = self._quotes.slot(order.instrument.token)
        if slot is None:
            return None
        return self._quotes.touch(slot, buying=order.side is Side.BUY)

    def mark(self, order: Order) -> Paise:
        """The last traded price the position will be marked at."""
        slot = self._quotes.slot(order.instrument.token)
        return int(self._quotes.last_price[slot]) if slot is not None else 0

    def fill(self, order: Order, price: Paise) -> Fill:
        charges = order_charges(order.instrument, order.side, order.quantity, price, self._day, self._rules)
        position = self._book.positions.get(order.instrument.symbol)
        realised = position.realised_by(order.side, order.quantity, price) if position else 0
        return Fill(order, price, charges, realised)
