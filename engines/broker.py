"""The paper broker: fills market orders at the touch and books Zerodha's charges.

It is the only broker in paper mode and has no network code: there is no path from here to a real
order. Buys fill at the best ask, sells at the best bid, for the full quantity (the simulator's touch
is deep; partial fills are not modelled).
"""

from __future__ import annotations

from datetime import date

from engines.charges import Side, order_charges
from engines.market.feed import Tick
from engines.money import price_to_paise
from engines.orders import Fill, Order, Rejection
from engines.portfolio import Book


class PaperBroker:
    def __init__(self, book: Book, day: date) -> None:
        self._book = book
        self._day = day

    def touch(self, order: Order, tick: Tick | None) -> int | None:
        """The price `order` would fill at now, in paise, or None when there is no quote on that side."""
        if tick is None or "depth" not in tick:
            return None
        levels = tick["depth"]["sell" if order.side is Side.BUY else "buy"]
        if not levels or levels[0]["price"] <= 0:
            return None
        return price_to_paise(levels[0]["price"], order.instrument.tick)

    def execute(self, order: Order, tick: Tick | None) -> Fill | Rejection:
        price = self.touch(order, tick)
        if price is None:
            return Rejection(
                order, f"no {'offer' if order.side is Side.BUY else 'bid'} for {order.instrument.symbol}"
            )
        charges = order_charges(order.instrument, order.side, order.quantity, price, self._day)
        realised = self._book.position(order.instrument).apply(
            order.side, order.quantity, price, charges.total
        )
        return Fill(order, price, charges, realised)
