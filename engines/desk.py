"""The trading desk: orders from request to fill, the book, and the loss limits.

    request -> order journalled -> pre-trade risk (rejected: journalled, a row in orders.csv)
            -> working order -> at the market (now, or after the latency) -> fills from the paper broker
            -> journal -> book -> loss limits -> the order's row in orders.csv once it ends

Working orders are the ones not yet complete: limit orders resting, stop orders waiting for their trigger,
orders on their way to the market, market orders waiting at their protection price. `first_candidate`
finds, in a batch of ticks, the first tick at which one of them may fill (vectorised over the ticks of its
instrument), so the engine can stop the batch there and let `work_due` fill it against that moment's
quotes. Every state change is journalled before it is booked. What strategies should hear about (fills,
rejections, cancellations) collects in `updates` for the engine to hand over.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from engines.artifacts.journal import EventKind
from engines.artifacts.recorder import Recorder
from engines.broker import PaperBroker
from engines.loss_watch import LossWatch
from engines.market.calendar import iso
from engines.market.instruments import Instrument
from engines.market.ticks import I64, TickBatch
from engines.money import Paise, fmt_rupees
from engines.orders import Order, OrderState, OrderStatus, OrderTag, OrderType, Product, Side, Validity
from engines.portfolio import Book, Position
from engines.quotes import Quotes
from engines.risk import RiskManager

NO_FLOOR = -(2**62)  # a loss floor that is never reached (the limit already acted)


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """What a strategy hears about one of its orders: placed, filled (in part), rejected, cancelled."""

    order: Order
    status: OrderStatus
    filled: int
    fill_quantity: int  # units of this update's fill (0 when it is not a fill)
    average_price: Paise  # of all fills so far (0 before the first)
    reason: str  # why it was rejected or cancelled


class Desk:
    def __init__(
        self,
        engine: str,
        day: date,
        book: Book,
        quotes: Quotes,
        broker: PaperBroker,
        risk: RiskManager,
        recorder: Recorder,
        log: logging.Logger,
        latency_ms: int = 0,
    ) -> None:
        self.engine = engine
        self.day = day
        self.book = book
        self.quotes = quotes
        self.broker = broker
        self.risk = risk
        self.recorder = recorder
        self.log = log
        self.latency_ms = latency_ms
        self.working: dict[str, OrderState] = {}  # in placement order: deterministic
        self.watch = LossWatch()
        self.updates: list[OrderUpdate] = []
        self.orders = 0  # placed today: the next order's number is this + 1
        self.rejections = 0
        self._enforcing = False

    # --- requests ----------------------------------------------------------------------------------

    def target(self, instrument: Instrument, target: int, moment: int, strategy: str) -> None:
        """Move the position in `instrument` to `target` units with market orders. Orders still working
        on it are cancelled first; a flip closes the old side first and opens the new one only once the
        old one is closed (an exit still working leaves the target for a later request)."""
        held = self.book.quantity(instrument.symbol)
        if held == target and not self._pending(instrument):
            return
        for order_id, state in list(self.working.items()):
            if state.order.instrument.token == instrument.token:
                self.cancel(order_id, moment, "replaced by a new target")
        if held and (target == 0 or (held > 0) != (target > 0)):
            self._towards(instrument, 0, OrderTag.EXIT, moment, strategy)
            if self.book.quantity(instrument.symbol):
                return
        self._towards(instrument, target, OrderTag.ENTRY, moment, strategy)

    def _pending(self, instrument: Instrument) -> int:
        """Signed units still to fill in the orders working on `instrument`."""
        return sum(
            s.order.signed_quantity // s.order.quantity * s.remaining
            for s in self.working.values()
            if s.order.instrument.token == instrument.token
        )

    def _towards(self, instrument: Instrument, goal: int, tag: OrderTag, moment: int, strategy: str) -> None:
        """Market orders for what the position and the working orders leave between it and `goal`. An order
        taking risk off is sliced at the freeze quantity (Kite's autoslice): slices go out until the gap is
        covered, each sized on what is then held and working, so a limit that acts in between (and
        flattens the position itself) ends the slicing."""
        while True:
            gap = goal - self.book.quantity(instrument.symbol) - self._pending(instrument)
            if not gap:
                return
            held = self.book.quantity(instrument.symbol)
            reduces = held != 0 and (gap > 0) != (held > 0) and abs(gap) <= abs(held)
            order_tag = tag if tag is not OrderTag.ENTRY or not reduces else OrderTag.EXIT
            (quantity, *_) = self.risk.slices(instrument, abs(gap), order_tag)
            state = self.submit(
                instrument, Side.BUY if gap > 0 else Side.SELL, quantity, moment, strategy, order_tag
            )
            if state.status is OrderStatus.REJECTED or order_tag.adds_risk:
                return

    def submit(
        self,
        instrument: Instrument,
        side: Side,
        quantity: int,
        moment: int,
        strategy: str,
        tag: OrderTag = OrderTag.ENTRY,
        order_type: OrderType = OrderType.MARKET,
        price: Paise = 0,
        trigger_price: Paise = 0,
        product: Product = Product.MIS,
        validity: Validity = Validity.DAY,
    ) -> OrderState:
        """Place one order; it is checked, then works until it fills, is cancelled, or the day ends."""
        self.orders += 1
        order_id = f"{self.engine}-{self.day:%Y%m%d}-{self.orders:06d}"
        order = Order(
            order_id,
            moment,
            instrument,
            side,
            quantity,
            tag,
            product,
            order_type,
            validity,
            price,
            trigger_price,
            strategy,
        )
        state = OrderState(order, self.broker.touch(order), moment + self.latency_ms)
        self.recorder.order(state)
        refusal = self._refusal(state)
        if refusal is not None:
            self._reject(state, refusal, moment)
            return state
        if order_type is OrderType.LIMIT or order_type is OrderType.SL:
            state.limit = price
        self.working[order_id] = state
        self._notify(state)
        if self.latency_ms == 0:
            self._work(state, moment)
        return state

    def cancel(self, order_id: str, moment: int, reason: str) -> bool:
        state = self.working.pop(order_id, None)
        if state is None:
            return False
        event = self.recorder.cancel(state, reason, moment)
        self.recorder.publish(event)
        self._notify(state, OrderStatus.CANCELLED, reason=reason)
        return True

    def modify(
        self, order_id: str, moment: int, price: Paise | None = None, trigger_price: Paise | None = None
    ) -> bool:
        """Change a working order's price or trigger (Kite's modify): it keeps its fills and its place."""
        state = self.working.get(order_id)
        if state is None:
            return False
        order = state.order
        new_price = order.price if price is None else price
        new_trigger = order.trigger_price if trigger_price is None else trigger_price
        state.order = Order(
            order.order_id,
            order.placed_ms,
            order.instrument,
            order.side,
            order.quantity,
            order.tag,
            order.product,
            order.order_type,
            order.validity,
            new_price,
            new_trigger,
            order.strategy,
        )
        if order.order_type is OrderType.LIMIT or (order.order_type is OrderType.SL and state.triggered):
            state.limit = new_price
        self.recorder.modify(state, moment)
        return True

    def _refusal(self, state: OrderState) -> str | None:
        order = state.order
        reference = order.price or order.trigger_price or state.touch
        if reference is None:
            return f"no {'offer' if order.side is Side.BUY else 'bid'} for {order.instrument.symbol}"
        if order.order_type is OrderType.SL_M and not order.trigger_price:
            return "an SL-M order needs a trigger price"
        if order.order_type is OrderType.SL and not (order.price and order.trigger_price):
            return "an SL order needs a price and a trigger price"
        if order.order_type is OrderType.LIMIT and not order.price:
            return "a LIMIT order needs a price"
        charges = self.broker.fill(state, ((order.quantity, reference),)).charges.total
        return self.risk.refusal(self.book, order, reference, charges, self.broker.mark(order))

    def _reject(self, state: OrderState, reason: str, moment: int) -> None:
        self.rejections += 1
        self.log.debug(
            "rejected %s %d %s: %s",
            state.order.side,
            state.order.quantity,
            state.order.instrument.symbol,
            reason,
        )
        event = self.recorder.reject(state, reason, moment)
        self.recorder.publish(event)
        self._notify(state, OrderStatus.REJECTED, reason=reason)

    # --- at the market -------------------------------------------------------------------------------

    def first_candidate(self, ticks: TickBatch, slots: I64) -> int | None:
        """The first tick at which a working order may fill or trigger (None when there is none)."""
        first: int | None = None
        for state in self.working.values():
            order = state.order
            slot = self.quotes.slot(order.instrument.token)
            rows = np.flatnonzero(slots == slot) if slot is not None else ()
            if not len(rows):
                continue
            due = ticks.ts[rows] >= state.active_ms
            if state.resting:
                buying = order.side is Side.BUY
                last = ticks.last_price[rows]
                if order.trigger_price and not state.triggered:
                    due &= last >= order.trigger_price if buying else last <= order.trigger_price
                elif buying:
                    ask = ticks.ask_price[rows, 0]
                    due &= ((ask > 0) & (ask <= state.limit)) | (last < state.limit)
                else:
                    bid = ticks.bid_price[rows, 0]
                    due &= ((bid > 0) & (bid >= state.limit)) | (last > state.limit)
            if due.any():
                row = int(rows[int(np.argmax(due))])
                first = row if first is None else min(first, row)
        return first

    def work_due(self, moment: int) -> None:
        """Give every working order that has reached the market its chance at the current quotes."""
        for state in list(self.working.values()):
            if state.active_ms <= moment and state.order.order_id in self.working:
                self._work(state, moment)

    def _work(self, state: OrderState, moment: int) -> None:
        order = state.order
        if order.trigger_price and not state.triggered:
            if not self.broker.triggered(state):
                state.resting = True
                return
            state.triggered = True
            state.resting = False  # a triggered stop arrives at the market as a new order would
            self.recorder.triggered(state, moment)
        if self.broker.is_market(state) and not state.resting:
            state.limit = self.broker.protection(order)
        levels = self.broker.executable(state)
        state.resting = True
        if levels:
            self._book_fill(state, levels, moment)
        if state.remaining == 0:
            self.working.pop(order.order_id, None)
        elif order.validity is Validity.IOC:
            self.cancel(order.order_id, moment, "IOC: the rest could not fill at once")
        if levels:
            self.enforce_limits(moment)  # a fill that breaches a limit stops what would follow it

    def _book_fill(self, state: OrderState, levels: tuple[tuple[int, Paise], ...], moment: int) -> None:
        fill = self.broker.fill(state, levels)
        state.filled += fill.quantity
        state.value += fill.value
        state.charges += fill.charges
        state.realised += fill.realised
        state.fills += 1
        event = self.recorder.fill(state, fill, moment)  # journalled before the book changes
        self.broker.consume(state, levels)
        position = self.book.position(state.order.instrument)
        charges = fill.charges.total
        for units, price in levels:
            position.apply(state.order.side, units, price, charges)
            charges = 0
        self.mark(position)
        self.recorder.publish(event)
        self._notify(state, fill_quantity=fill.quantity)

    def _notify(
        self, state: OrderState, status: OrderStatus | None = None, fill_quantity: int = 0, reason: str = ""
    ) -> None:
        average = state.value // state.filled if state.filled else 0
        self.updates.append(
            OrderUpdate(state.order, status or state.status, state.filled, fill_quantity, average, reason)
        )

    # --- marks and limits ----------------------------------------------------------------------------

    def mark(self, position: Position) -> None:
        """Mark a position at its last traded price and tell the loss watch."""
        slot = self.quotes.slot(position.instrument.token)
        if slot is None:
            return
        if self.quotes.seen[slot]:
            position.last_price = int(self.quotes.last_price[slot])
        blocked = position.instrument.symbol in self.risk.state.blocked
        self.watch.set(slot, position.quantity, -NO_FLOOR if blocked else position.pnl - position.charges)

    def mark_all(self) -> None:
        for position in self.book.open_positions():
            self.mark(position)

    def day_floor(self) -> Paise:
        return NO_FLOOR if self.risk.state.halted else -self.risk.limits.max_daily_loss

    def enforce_limits(self, moment: int) -> None:
        """Act on the loss limits the book breaches now: halt and flatten, or block and flatten a symbol."""
        if self._enforcing:
            return
        self._enforcing = True
        try:
            while True:
                daily, symbols = self.risk.breaches(self.book)
                if daily:
                    self._halt(moment)
                elif symbols:
                    self._block(symbols[0], moment)
                else:
                    return
        finally:
            self._enforcing = False

    def _halt(self, moment: int) -> None:
        limits = self.risk.limits
        self.risk.state.halted = True
        self.recorder.event(
            EventKind.RISK_HALT, moment, net_pnl_paise=self.book.net_pnl, limit_paise=limits.max_daily_loss
        )
        self.log.warning(
            "daily loss limit breached at %s (net P&L %s): squaring off and halting new entries",
            iso(moment)[11:19],
            fmt_rupees(self.book.net_pnl),
        )
        self._cancel_entries(moment, "the daily loss limit was breached", lambda s: True)
        self.flatten([p.instrument.symbol for p in self.book.open_positions()], OrderTag.RISK_EXIT, moment)

    def _block(self, symbol: str, moment: int) -> None:
        position = self.book.positions[symbol]
        self.risk.state.blocked.add(symbol)
        self.recorder.event(
            EventKind.SYMBOL_BLOCKED,
            moment,
            symbol=symbol,
            pnl_paise=position.pnl - position.charges,
            limit_paise=self.risk.limits.per_symbol_max_loss,
        )
        self.log.warning("%s breached its loss limit: squaring it off and blocking it for the day", symbol)
        self._cancel_entries(
            moment, f"{symbol} hit its loss limit", lambda s: s.order.instrument.symbol == symbol
        )
        self.flatten([symbol], OrderTag.RISK_EXIT, moment)
        self.mark(position)

    def flatten(self, symbols: Sequence[str], tag: OrderTag, moment: int) -> None:
        """Close these positions with market orders, after cancelling whatever still works on them."""
        for symbol in symbols:
            position = self.book.positions.get(symbol)
            if position is None:
                continue
            for order_id, state in list(self.working.items()):
                if state.order.instrument.symbol == symbol:
                    self.cancel(order_id, moment, f"replaced by the {tag.value} of {symbol}")
            if position.quantity:
                self._towards(position.instrument, 0, tag, moment, "")

    # --- the day's moments ----------------------------------------------------------------------------

    def square_off(self, moment: int, symbols: Sequence[str]) -> None:
        """From square-off on no entry is accepted: working entries and intraday (MIS) orders are cancelled
        and the positions in `symbols` (the intraday ones) are closed."""
        self.risk.state.trading_closed = True
        self._cancel_entries(
            moment,
            "square-off time",
            lambda s: s.order.tag is OrderTag.ENTRY or s.order.product is Product.MIS,
        )
        self.recorder.event(EventKind.SQUARE_OFF, moment, positions=list(symbols))
        self.log.info("square-off at %s: closing %d position(s)", iso(moment)[11:19], len(symbols))
        self.flatten(symbols, OrderTag.SQUARE_OFF, moment)

    def close(self, moment: int) -> None:
        """At the close every working order expires (Kite cancels unfilled DAY orders at the end of day)."""
        for order_id in list(self.working):
            self.cancel(order_id, moment, "the market closed")

    def _cancel_entries(self, moment: int, reason: str, which: Any) -> None:
        for order_id, state in list(self.working.items()):
            if state.order.tag is not OrderTag.SQUARE_OFF and which(state):
                self.cancel(order_id, moment, reason)

    # --- checkpoint ----------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "rejections": self.rejections,
            "working": [state.to_json() for state in self.working.values()],
        }

    def restore(self, data: dict[str, Any], resolve: Any) -> None:
        self.orders, self.rejections = data["orders"], data["rejections"]
        self.working = {w["order_id"]: OrderState.from_json(w, resolve(w["token"])) for w in data["working"]}
