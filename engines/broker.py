"""The paper broker: decides what an order fills, at what prices, from the quotes current at the moment.

It is the only broker in paper mode and has no network code: there is no path from here to a real order.
The execution model, as a Zerodha trader would expect it on NSE:
- A MARKET order walks the depth on its side, each level at its own price, but never past its market
  protection price (`market_protection_pct` from the last traded price, as Kite's MPP does); what the five
  levels cannot fill waits at the protection price as a limit order (an IOC order cancels it instead).
- A LIMIT order that is marketable when it reaches the market takes the levels at or better than its price,
  each at the level's price. The rest rests at its price, and fills there, partly where the depth is short,
  once the market trades through it: the other side's levels at or through its price, or a trade through it.
- SL and SL-M orders wait until the last traded price reaches their trigger, then work as a LIMIT at their
  price or as a MARKET order.
- Liquidity a fill takes from a quote is gone for the other orders of that moment: two orders cannot both
  take the same offer (the next quote brings the book back).
- A fill's charges are what it adds to the order's charges (engines/charges: brokerage is per executed order,
  so it is capped once over all the order's fills), and its realised P&L is previewed on a copy of the
  position: the engine books both only after the fill is journalled.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from engines.charges import charge_segment, value_charges
from engines.market.rules import MarketRules, load_rules
from engines.market.ticks import DEPTH
from engines.money import Paise
from engines.orders import Fill, Order, OrderState, OrderType
from engines.portfolio import Book, Position
from engines.quotes import Quotes
from engines.vocabulary import Side

Levels = tuple[tuple[int, Paise], ...]


class PaperBroker:
    def __init__(
        self,
        quotes: Quotes,
        book: Book,
        day: date,
        rules: MarketRules | None = None,
        protection_pct: Decimal = Decimal(2),
    ) -> None:
        self._quotes = quotes
        self._book = book
        self._day = day
        self._rules = rules or load_rules()
        self._protection = protection_pct / 100
        # (slot, buying) -> (the quote's time, units taken per depth level, then from trades through)
        self._taken: dict[tuple[int, bool], tuple[int, list[int]]] = {}

    # --- what the market shows the order ---------------------------------------------------------

    def touch(self, order: Order) -> Paise | None:
        """The best price on the side the order takes (offer for a buy, bid for a sell), or None."""
        slot = self._quotes.slot(order.instrument.token)
        if slot is None:
            return None
        return self._quotes.touch(slot, buying=order.side is Side.BUY)

    def mark(self, order: Order) -> Paise:
        """The last traded price the position will be marked at."""
        slot = self._quotes.slot(order.instrument.token)
        return int(self._quotes.last_price[slot]) if slot is not None else 0

    def protection(self, order: Order) -> Paise:
        """The worst price a MARKET order may fill at now: the last price moved by the protection, on tick."""
        last = Decimal(self.mark(order) or (self.touch(order) or 0))
        tick = order.instrument.tick or 1
        if order.side is Side.BUY:
            ticks = (last * (1 + self._protection) / tick).to_integral_value(ROUND_CEILING)
        else:
            ticks = (last * (1 - self._protection) / tick).to_integral_value(ROUND_FLOOR)
        return max(int(ticks) * tick, tick)

    def triggered(self, state: OrderState) -> bool:
        last = self.mark(state.order)
        trigger = state.order.trigger_price
        return last >= trigger if state.order.side is Side.BUY else 0 < last <= trigger

    # --- what it fills -------------------------------------------------------------------------------

    def executable(self, state: OrderState) -> Levels:
        """The (units, price) the order fills now against the current quotes; empty when nothing fills."""
        order = state.order
        slot = self._quotes.slot(order.instrument.token)
        if slot is None or state.remaining <= 0:
            return ()
        buying = order.side is Side.BUY
        q = self._quotes
        prices = (q.ask_price if buying else q.bid_price)[slot]
        sizes = (q.ask_quantity if buying else q.bid_quantity)[slot]
        taken = self._taken_now(slot, buying)
        limit = state.limit
        crosses = [
            (int(sizes[level]) - taken[level], int(prices[level]))
            for level in range(DEPTH)
            if prices[level] > 0 and (prices[level] <= limit if buying else prices[level] >= limit)
        ]
        crosses = [(units, price) for units, price in crosses if units > 0]
        if not state.resting:  # arriving at the market: take each level at its own price
            return _take(crosses, state.remaining)
        # Resting at its price: sellers at or through it, or a trade through it, fill it at its price.
        last = int(q.last_price[slot])
        through = last < limit if buying else last > limit
        traded = max(int(q.last_quantity[slot]) - taken[DEPTH], 0) if through else 0
        units = min(sum(units for units, _ in crosses) + traded, state.remaining)
        return ((units, limit),) if units > 0 else ()

    def consume(self, state: OrderState, levels: Levels) -> None:
        """Record the liquidity a booked fill took from the current quote (see `executable`)."""
        slot = self._quotes.slot(state.order.instrument.token)
        if slot is None:
            return
        buying = state.order.side is Side.BUY
        taken = self._taken_now(slot, buying)
        q = self._quotes
        prices = (q.ask_price if buying else q.bid_price)[slot].tolist()
        sizes = (q.ask_quantity if buying else q.bid_quantity)[slot].tolist()
        for units, price in levels:
            for level in range(DEPTH):
                if units and prices[level] and (prices[level] <= price if buying else prices[level] >= price):
                    take = min(units, sizes[level] - taken[level])
                    if take > 0:
                        taken[level] += take
                        units -= take
            taken[DEPTH] += units  # the rest came from a trade through the order's price
        self._taken[(slot, buying)] = (int(q.ts[slot]), taken)

    def _taken_now(self, slot: int, buying: bool) -> list[int]:
        ts, taken = self._taken.get((slot, buying), (-1, []))
        return list(taken) if ts == int(self._quotes.ts[slot]) else [0] * (DEPTH + 1)

    def fill(self, state: OrderState, levels: Levels) -> Fill:
        """The fill of `levels`: its share of the order's charges and the P&L it realises (previewed)."""
        order = state.order
        value = sum(units * price for units, price in levels)
        segment = charge_segment(order.instrument.kind, order.product)
        total = value_charges(segment, order.product, order.side, state.value + value, self._day, self._rules)
        position = self._book.positions.get(order.instrument.symbol) or Position(order.instrument)
        preview = dataclasses.replace(position)
        realised = sum(preview.apply(order.side, units, price, 0) for units, price in levels)
        return Fill(order, levels, total - state.charges, realised)

    def is_market(self, state: OrderState) -> bool:
        return state.order.order_type is OrderType.MARKET or (
            state.order.order_type is OrderType.SL_M and state.triggered
        )


def _take(levels: list[tuple[int, Paise]], wanted: int) -> Levels:
    taken: list[tuple[int, Paise]] = []
    for units, price in levels:
        if wanted <= 0:
            break
        take = min(units, wanted)
        taken.append((take, price))
        wanted -= take
    return tuple(taken)
