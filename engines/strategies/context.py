"""What a strategy sees of its engine: the market, its book, and the way to place orders.

Every request is journalled as a signal (with the strategy's reason) and written to signals.csv, then
handed to the desk, which checks it and works it; the strategy hears about fills and rejections through
its hooks. Requests are refused during the warm-up (`warming_up`: on_bar sees bars of the days before) and
in `on_stop` (a stopping engine places nothing).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from engines.artifacts.recorder import Recorder
from engines.desk import Desk
from engines.market.calendar import ist
from engines.market.instruments import Instrument, InstrumentMaster, OptionChain
from engines.money import price_to_paise
from engines.orders import OrderState, OrderTag, OrderType, Product, Side, Signal, SignalAction, Validity
from engines.portfolio import Position
from engines.quotes import Quotes
from engines.strategies.api import Quote


class StrategyError(Exception):
    """A strategy asked for something the engine cannot do; the message says what and why."""


class Context:
    def __init__(
        self,
        engine: str,
        strategy: str,
        desk: Desk,
        quotes: Quotes,
        master: InstrumentMaster,
        recorder: Recorder,
        log: logging.Logger,
    ) -> None:
        self.engine = engine
        self.strategy = strategy
        self.log = log
        self.now_ms = 0  # the engine sets it to the moment being processed
        self.stopping = False
        self.warming_up = False  # on_bar is being fed the days before the open (Strategy.warmup)
        self._desk = desk
        self._quotes = quotes
        self._master = master
        self._recorder = recorder

    # --- the market ----------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return ist(self.now_ms)

    def instruments(self) -> list[Instrument]:
        """The instruments the engine streams now (its universe, plus any position it holds)."""
        q = self._quotes
        return [i for i in q.instruments if (slot := q.slot(i.token)) is not None and q.seen[slot]]

    def chain(self, underlying: str) -> OptionChain:
        """The nearest-expiry option chain of `underlying` from the day's instrument master."""
        return self._master.chain(underlying)

    def index(self, underlying: str) -> Instrument:
        return self._master.index(underlying)

    def quote(self, instrument: Instrument) -> Quote | None:
        q = self._quotes
        slot = q.slot(instrument.token)
        if slot is None or not q.seen[slot]:
            return None
        bid, ask = int(q.bid_price[slot, 0]), int(q.ask_price[slot, 0])
        return Quote(
            instrument,
            ist(int(q.ts[slot])),
            int(q.last_price[slot]) / 100,
            bid / 100 if bid else None,
            ask / 100 if ask else None,
            int(q.volume[slot]),
            int(q.oi[slot]),
        )

    # --- the book ------------------------------------------------------------------------------------

    def position(self, instrument: Instrument) -> int:
        """Signed units held."""
        return self._desk.book.quantity(instrument.symbol)

    def positions(self) -> list[Position]:
        return self._desk.book.open_positions()

    def average_price(self, instrument: Instrument) -> float:
        position = self._desk.book.positions.get(instrument.symbol)
        return position.average_price / 100 if position and position.quantity else 0.0

    def open_orders(self) -> list[OrderState]:
        return [s for s in self._desk.working.values() if s.order.strategy == self.strategy]

    # --- orders --------------------------------------------------------------------------------------

    def target(self, instrument: Instrument, quantity: int, reason: str, at: float | None = None) -> None:
        """Hold `quantity` signed units of `instrument`, with market orders (close first, then open).
        `at` is the price the decision was made on (default: the instrument's last price)."""
        self._check()
        action = (
            SignalAction.EXIT if quantity == 0 else SignalAction.LONG if quantity > 0 else SignalAction.SHORT
        )
        self._signal(Signal(instrument, action, quantity, self._at(instrument, at), reason))
        self._desk.target(instrument, quantity, self.now_ms, self.strategy)

    def buy(
        self,
        instrument: Instrument,
        quantity: int,
        reason: str,
        order_type: OrderType = OrderType.MARKET,
        price: float | None = None,
        trigger_price: float | None = None,
        product: Product = Product.MIS,
        validity: Validity = Validity.DAY,
    ) -> str:
        """Place a buy order; returns its order ID (a rejected order has one too)."""
        return self._order(
            Side.BUY, instrument, quantity, reason, order_type, price, trigger_price, product, validity
        )

    def sell(
        self,
        instrument: Instrument,
        quantity: int,
        reason: str,
        order_type: OrderType = OrderType.MARKET,
        price: float | None = None,
        trigger_price: float | None = None,
        product: Product = Product.MIS,
        validity: Validity = Validity.DAY,
    ) -> str:
        """Place a sell order; returns its order ID (a rejected order has one too)."""
        return self._order(
            Side.SELL, instrument, quantity, reason, order_type, price, trigger_price, product, validity
        )

    def cancel(self, order_id: str, reason: str) -> bool:
        self._check()
        state = self._desk.working.get(order_id)
        if state is None:
            return False
        self._signal(
            Signal(
                state.order.instrument, SignalAction.CANCEL, 0, self._at(state.order.instrument, None), reason
            )
        )
        return self._desk.cancel(order_id, self.now_ms, f"cancelled by {self.strategy}: {reason}")

    def modify(
        self, order_id: str, reason: str, price: float | None = None, trigger_price: float | None = None
    ) -> bool:
        self._check()
        state = self._desk.working.get(order_id)
        if state is None:
            return False
        instrument = state.order.instrument
        self._signal(
            Signal(instrument, SignalAction.MODIFY, state.order.signed_quantity, price or 0.0, reason)
        )
        return self._desk.modify(
            order_id, self.now_ms, self._paise(instrument, price), self._paise(instrument, trigger_price)
        )

    def _order(
        self,
        side: Side,
        instrument: Instrument,
        quantity: int,
        reason: str,
        order_type: OrderType,
        price: float | None,
        trigger_price: float | None,
        product: Product,
        validity: Validity,
    ) -> str:
        self._check()
        if quantity <= 0:
            raise StrategyError(f"{self.strategy}: order quantity must be positive, got {quantity}")
        held = self.position(instrument)
        signed = quantity if side is Side.BUY else -quantity
        action = SignalAction.BUY if side is Side.BUY else SignalAction.SELL
        at = price if price is not None else self._at(instrument, None)
        self._signal(Signal(instrument, action, held + signed, float(at), reason))
        adds = not held or (held > 0) == (signed > 0) or abs(signed) > abs(held)
        state = self._desk.submit(
            instrument,
            side,
            quantity,
            self.now_ms,
            self.strategy,
            OrderTag.ENTRY if adds else OrderTag.EXIT,
            OrderType(order_type),
            self._paise(instrument, price) or 0,
            self._paise(instrument, trigger_price) or 0,
            Product(product),
            Validity(validity),
        )
        return state.order.order_id

    # --- helpers -------------------------------------------------------------------------------------

    def _check(self) -> None:
        if self.stopping:
            raise StrategyError(f"{self.strategy}: no orders in on_stop: the engine is stopping")
        if self.warming_up:
            raise StrategyError(
                f"{self.strategy}: no orders during the warm-up (those bars are history): check "
                f"self.ctx.warming_up in on_bar"
            )

    def _signal(self, signal: Signal) -> None:
        self._recorder.signal(signal, self.now_ms, self.strategy)

    def _at(self, instrument: Instrument, at: float | None) -> float:
        if at is not None:
            return float(at)
        quote = self.quote(instrument)
        return quote.last if quote else 0.0

    @staticmethod
    def _paise(instrument: Instrument, rupees: float | None) -> int | None:
        if rupees is None:
            return None
        return price_to_paise(Decimal(str(rupees)), instrument.tick or 5)
