"""The engine: one trading day of one strategy, driven by the clock and fed by any feed.

Everything it talks to is injected (clock, feed, universe, strategy, book, broker, risk, recorder), so the
same code runs on the simulator, a recorded replay, the live Kite feed and a backtest. The day is a
sequence of moments, one per minute boundary from the open to the close. Between two moments the engine
reads the feed's ticks and folds them into quotes and bars in batches, stopping at any tick that breaches a
loss limit. At each moment:

    close every bar of the minute -> fold the ticks stamped at the moment -> square-off (at its time)
    -> universe follows spot -> strategy on each bar -> signals -> orders -> risk -> paper fill
    -> journal -> book -> CSVs -> loss limits

so an order decided at a moment fills against the quotes current at that moment, never earlier ones.
The day ends at the close (status `finished`), on a stop request (SIGTERM/SIGINT: status `stopped`,
resumable), or with an EngineFailure.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np

from engines.artifacts.checkpoints import StateStore
from engines.artifacts.journal import EventKind, JournalMismatch
from engines.artifacts.recorder import Recorder
from engines.broker import PaperBroker
from engines.charges import Side
from engines.clock import Clock
from engines.errors import EngineFailure
from engines.loss_watch import LossWatch
from engines.market.calendar import MINUTE_MS, iso
from engines.market.feed import Feed
from engines.market.instruments import Instrument
from engines.market.ticks import TickBatch
from engines.money import fmt_rupees
from engines.orders import Fill, Order, OrderTag, Rejection, Signal
from engines.portfolio import Book, Position
from engines.quotes import Quotes
from engines.risk import RiskManager, RiskState
from engines.strategies.base import Strategy
from engines.universe import Universe

HEARTBEAT_EVERY_S = 1.0
CHECKPOINT_EVERY_S = 1.0  # the journal holds every event: a checkpoint only saves re-running time
PROGRESS_EVERY_MS = 30 * MINUTE_MS
_NO_FLOOR = -(2**62)  # a loss floor that is never reached (the limit already acted)


class StopReason(StrEnum):
    CLOSE = "close"  # the session ended
    SIGNAL = "signal"  # asked to stop (SIGTERM/SIGINT)


class Status(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TradingHours:
    """The engine's day as epoch-ms moments; all of them fall on minute boundaries."""

    day: date
    open_ms: int
    square_off_ms: int
    close_ms: int
    fault_ms: int | None = None  # the faults testing aid: act at this moment ...
    fault_action: str = "fail"  # ... by failing, or by sending the process SIGTERM


class Engine:
    def __init__(
        self,
        name: str,
        hours: TradingHours,
        clock: Clock,
        feed: Feed,
        universe: Universe,
        strategy: Strategy,
        book: Book,
        quotes: Quotes,
        broker: PaperBroker,
        risk: RiskManager,
        recorder: Recorder,
        store: StateStore,
        log: logging.Logger,
    ) -> None:
        self.name = name
        self.hours = hours
        self.clock = clock
        self.feed = feed
        self.universe = universe
        self.strategy = strategy
        self.book = book
        self.quotes = quotes
        self.broker = broker
        self.risk = risk
        self.recorder = recorder
        self.store = store
        self.log = log
        self.status = Status.STARTING
        self.ticks = 0
        self.orders = 0  # orders placed today: the next order's number is this + 1
        self.rejections = 0
        self._done = hours.open_ms  # every tick and moment up to here is processed
        self._resumed = False
        self._restored: list[Instrument] = []
        self._watch = LossWatch()
        self._enforcing = False
        self._stop = threading.Event()
        self._dirty = False
        self._next_save = self._next_beat = 0.0
        self._next_progress = hours.open_ms + PROGRESS_EVERY_MS

    # --- lifecycle -------------------------------------------------------------------------------

    def restore(self, checkpoint: dict[str, Any], resolve: Callable[[int], Instrument | None]) -> None:
        """Continue from a checkpoint: book, risk, strategy, universe, quotes and counters."""
        instruments = [self._resolve(resolve, token) for token in checkpoint["quotes"]["tokens"]]
        self.quotes.restore(checkpoint["quotes"], instruments)
        for data in checkpoint["positions"]:
            instrument = self._resolve(resolve, data["token"])
            self.book.positions[instrument.symbol] = Position.from_json(instrument, data)
        self.risk.state = RiskState.from_json(checkpoint["risk"])
        self.strategy.restore(checkpoint["strategy"])
        self._restored = self.universe.restore(checkpoint["universe"])
        self.orders, self.rejections, self.ticks = (
            checkpoint["orders"],
            checkpoint["rejections"],
            checkpoint["ticks"],
        )
        self._done = checkpoint["done_ms"]
        self._resumed = True

    def _resolve(self, resolve: Callable[[int], Instrument | None], token: int) -> Instrument:
        instrument = resolve(token)
        if instrument is None:
            raise EngineFailure(
                f"{self.store.path}: the checkpoint holds instrument {token}, which today's instrument "
                f"master does not list; move the checkpoint aside to rebuild the day from the journal"
            )
        return instrument

    def run(self, stop: threading.Event) -> StopReason:
        self._stop = stop
        replaying = self.recorder.catching_up
        resumed = self._resumed or replaying
        subscribed = self._subscriptions()
        self.recorder.event(
            EventKind.RESUME if resumed else EventKind.START,
            self._done,
            day=self.hours.day.isoformat(),
            instruments=len(subscribed),
            from_ist=iso(self._done) if self._resumed else None,
            replaying_events=len(self.recorder.replay) if self.recorder.replay else 0,
        )
        self.log.info(
            "%s %s with %d instruments%s%s",
            "resuming" if resumed else "starting",
            self.hours.day,
            len(subscribed),
            f" from {iso(self._done)[11:19]}" if self._resumed else " from the open",
            f", re-running {len(self.recorder.replay or [])} journalled events" if replaying else "",
        )
        self.quotes.add(subscribed)
        self.feed.subscribe(subscribed)
        self.feed.open(self._done if self._resumed else self.hours.open_ms - 1)
        self.clock.restart_pacing_at(self._done)
        self._mark()
        self.status = Status.RUNNING
        try:
            reason = self._trade(stop)
        except Exception:
            self.status = Status.FAILED
            self._beat()
            raise
        self.status = Status.FINISHED if reason is StopReason.CLOSE else Status.STOPPED
        self.recorder.event(
            EventKind.STOP,
            self._done,
            reason=reason.value,
            net_pnl_paise=self.book.net_pnl,
            open_positions=len(self.book.open_positions()),
        )
        if not self.recorder.catching_up:
            self._save()
        self._beat()
        self.log.info(
            "%s at %s: %s",
            "finished the day" if reason is StopReason.CLOSE else "stopped",
            iso(self._done)[11:19],
            self._summary(),
        )
        return reason

    def _subscriptions(self) -> list[Instrument]:
        held = [p.instrument for p in self.book.open_positions()]
        wanted = self._restored if self._resumed else self.universe.initial()
        return list({i.token: i for i in [*wanted, *held]}.values())

    # --- the day, moment by moment ------------------------------------------------------------------

    def _trade(self, stop: threading.Event) -> StopReason:
        hours = self.hours
        while self._done < hours.close_ms:
            moment = min(hours.close_ms, (self._done // MINUTE_MS + 1) * MINUTE_MS)
            catching_up = self.recorder.catching_up
            through = moment if catching_up else self.clock.horizon(self._done, moment)
            if not catching_up:
                self.clock.wait_until(through, stop)
            if stop.is_set():
                return StopReason.SIGNAL
            ticks = self.feed.read(through, stop)
            if through == moment:
                before, at, _ = ticks.split_at(moment)
                self._ingest(before)
                self._moment(moment, at)
            else:
                self._ingest(ticks)
            self._done = through
            self._after_step(catching_up)
        if self.recorder.catching_up:
            raise JournalMismatch(
                f"{self.recorder.journal.path}: the day ended with {len(self.recorder.replay or [])} "
                f"journalled events the re-run did not make again; move the journal and checkpoint aside "
                f"to run the day afresh"
            )
        return StopReason.SIGNAL if stop.is_set() else StopReason.CLOSE

    def _moment(self, moment: int, at: TickBatch) -> None:
        bars = self.quotes.close_bars(moment - MINUTE_MS)
        self._ingest(at)
        hours = self.hours
        if moment == hours.fault_ms and hours.fault_action == "fail":
            self.recorder.event(EventKind.FAULT, moment, detail="injected by config faults.fail_engine")
            raise EngineFailure(f"injected fault at {iso(moment)[11:19]} (config: faults)")
        if moment == hours.square_off_ms:
            self._square_off(moment)
        self._follow_universe(moment)
        if not self.risk.state.trading_closed:
            for bar in bars:
                for decision in self.strategy.on_bar(bar):
                    self._act(decision, moment)
        if moment == hours.fault_ms and hours.fault_action == "sigterm":
            self.recorder.event(EventKind.FAULT, moment, detail="SIGTERM by config faults")
            os.kill(os.getpid(), signal.SIGTERM)
            self._stop.wait(5)  # the handler sets it: stop right after this moment, as the test aid promises

    def _ingest(self, ticks: TickBatch) -> None:
        """Fold ticks into quotes and bars, acting at the first tick of any moment that breaches a limit."""
        if not len(ticks):
            return
        slots = self.quotes.slots_of(ticks.token)
        known = slots >= 0
        if not known.all():
            ticks, slots = ticks.take(np.flatnonzero(known)), slots[known]
        self.ticks += len(ticks)
        limits, state = self.risk.limits, self.risk.state
        while len(ticks):
            hit = (
                self._watch.first_breach(
                    ticks,
                    slots,
                    self.quotes.last_price,
                    self.book.net_pnl,
                    _NO_FLOOR if state.halted else -limits.max_daily_loss,
                    -limits.per_symbol_max_loss,
                )
                if self.book.open_positions()
                else None
            )
            if hit is None:
                self.quotes.apply(ticks, slots)
                self._mark()
                return
            moment = int(ticks.ts[hit])
            end = int(np.searchsorted(ticks.ts, moment, side="right"))
            self.quotes.apply(ticks.take(slice(0, end)), slots[:end])
            self._mark()
            self._enforce_limits(moment)
            ticks, slots = ticks.take(slice(end, None)), slots[end:]

    def _mark(self) -> None:
        """Mark open positions at their last traded price (only positions: the rest cost nothing)."""
        for position in self.book.open_positions():
            self._mark_one(position)

    def _mark_one(self, position: Position) -> None:
        slot = self.quotes.slot(position.instrument.token)
        if slot is None:
            return
        if self.quotes.seen[slot]:
            position.last_price = int(self.quotes.last_price[slot])
        blocked = position.instrument.symbol in self.risk.state.blocked
        self._watch.set(slot, position.quantity, -_NO_FLOOR if blocked else position.pnl - position.charges)

    def _follow_universe(self, moment: int) -> None:
        spot = {}
        for instrument in self.quotes.instruments:
            slot = self.quotes.slot(instrument.token)
            if (
                instrument.underlying
                and not instrument.tradable
                and slot is not None
                and self.quotes.seen[slot]
            ):
                spot[instrument.underlying] = int(self.quotes.last_price[slot])
        change = self.universe.update(spot, {p.instrument.symbol for p in self.book.open_positions()})
        if not change:
            return
        self.quotes.add(change.subscribe)
        self.quotes.drop(change.unsubscribe)
        self.feed.subscribe(change.subscribe)
        self.feed.unsubscribe(change.unsubscribe)
        self.recorder.event(
            EventKind.UNIVERSE,
            moment,
            added=len(change.subscribe),
            removed=len(change.unsubscribe),
            moved=change.note,
        )
        self._dirty = True

    # --- trading ---------------------------------------------------------------------------------

    def _act(self, decision: Signal, moment: int) -> None:
        """Record the signal and move the position to its target: close first, then open."""
        self.recorder.signal(decision, moment)
        self._dirty = True
        instrument, target = decision.instrument, decision.target_quantity
        held = self.book.quantity(instrument.symbol)
        if held == target:
            return
        if held and (target == 0 or (held > 0) != (target > 0)):
            self._place(instrument, -held, OrderTag.EXIT, moment)
        now_held = self.book.quantity(instrument.symbol)
        if target and now_held != target:
            self._place(instrument, target - now_held, OrderTag.ENTRY, moment)

    def _place(self, instrument: Instrument, signed_quantity: int, tag: OrderTag, moment: int) -> None:
        """One order, or an exit sliced at the freeze quantity: each slice takes what is still held, so a
        limit that flattens the position between two slices ends the slicing."""
        side = Side.BUY if signed_quantity > 0 else Side.SELL
        if tag.adds_risk:
            self._place_one(instrument, side, abs(signed_quantity), tag, moment)
            return
        target = self.book.quantity(instrument.symbol) + signed_quantity
        while True:
            remaining = target - self.book.quantity(instrument.symbol)
            if not remaining or (remaining > 0) != (signed_quantity > 0):
                return
            (quantity, *_) = self.risk.slices(instrument, abs(remaining), tag)
            before = self.book.quantity(instrument.symbol)
            self._place_one(instrument, side, quantity, tag, moment)
            if self.book.quantity(instrument.symbol) == before:
                return  # refused (no quote): the next slice would be too

    def _place_one(
        self, instrument: Instrument, side: Side, quantity: int, tag: OrderTag, moment: int
    ) -> None:
        self.orders += 1
        order = Order(
            f"{self.name}-{self.hours.day:%Y%m%d}-{self.orders:06d}", moment, instrument, side, quantity, tag
        )
        self.recorder.order(order)
        outcome: Fill | Rejection
        price = self.broker.price(order)
        if price is None:
            outcome = Rejection(order, f"no {'offer' if side is Side.BUY else 'bid'} for {instrument.symbol}")
        else:
            fill = self.broker.fill(order, price)
            refusal = self.risk.refusal(self.book, order, price, fill.charges.total, self.broker.mark(order))
            outcome = fill if refusal is None else Rejection(order, refusal)
        event = self.recorder.outcome(outcome, moment)  # journalled before the book changes
        if isinstance(outcome, Fill):
            position = self.book.position(instrument)
            position.apply(side, quantity, outcome.price, outcome.charges.total)
            self._mark_one(position)
        else:
            self.rejections += 1
            self.log.debug("rejected %s %d %s: %s", side, quantity, instrument.symbol, outcome.reason)
        self.recorder.publish(event)
        self._dirty = True
        if isinstance(outcome, Fill):
            self._enforce_limits(moment)  # a fill that breaches a limit stops what would follow it

    def _flatten(self, symbols: Sequence[str], tag: OrderTag, moment: int) -> None:
        for symbol in symbols:
            position = self.book.positions.get(symbol)
            if position is not None and position.quantity:
                self._place(position.instrument, -position.quantity, tag, moment)

    def _enforce_limits(self, moment: int) -> None:
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
        self._flatten([p.instrument.symbol for p in self.book.open_positions()], OrderTag.RISK_EXIT, moment)

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
        self._flatten([symbol], OrderTag.RISK_EXIT, moment)
        self._mark_one(position)

    def _square_off(self, moment: int) -> None:
        self.risk.state.trading_closed = True
        symbols = [p.instrument.symbol for p in self.book.open_positions()]
        self.recorder.event(EventKind.SQUARE_OFF, moment, positions=symbols)
        self.log.info("square-off at %s: closing %d position(s)", iso(moment)[11:19], len(symbols))
        self._flatten(symbols, OrderTag.SQUARE_OFF, moment)
        self._dirty = True

    # --- state, heartbeat, progress ----------------------------------------------------------------

    def _after_step(self, was_catching_up: bool) -> None:
        if was_catching_up and not self.recorder.catching_up:
            self.recorder.event(
                EventKind.CAUGHT_UP,
                self._done,
                matched=self.recorder.replay.matched if self.recorder.replay is not None else 0,
            )
            self.log.info("caught up with the journal at %s", iso(self._done)[11:19])
            self.clock.restart_pacing_at(self._done)
        now = time.monotonic()
        if self._dirty and now >= self._next_save and not self.recorder.catching_up:
            self._save()
            self._next_save = now + CHECKPOINT_EVERY_S
        if now >= self._next_beat:
            self._beat()
            self._next_beat = now + HEARTBEAT_EVERY_S
        if self._done >= self._next_progress:
            self.log.info("%s | %s", iso(self._done)[11:16], self._summary())
            self._next_progress += PROGRESS_EVERY_MS

    def _summary(self) -> str:
        book = self.book
        return (
            f"{self.ticks:,} ticks | {self.orders} orders ({self.rejections} rejected) | "
            f"net P&L {fmt_rupees(book.net_pnl)} (realised {fmt_rupees(book.realised)}, "
            f"charges {fmt_rupees(book.charges)}) | {len(book.open_positions())} open"
        )

    def checkpoint(self) -> dict[str, Any]:
        book = self.book
        return {
            "schema": 2,
            "engine": self.name,
            "date": self.hours.day.isoformat(),
            "status": self.status.value,
            "as_of_ist": iso(self._done),
            "done_ms": self._done,
            "last_seq": self.recorder.last_seq,
            "orders": self.orders,
            "rejections": self.rejections,
            "ticks": self.ticks,
            "capital_paise": book.capital,
            "realised_paise": book.realised,
            "unrealised_paise": book.unrealised,
            "charges_paise": book.charges,
            "net_pnl_paise": book.net_pnl,
            "positions": [p.to_json() for p in book.positions.values()],
            "risk": self.risk.state.to_json(),
            "strategy": self.strategy.snapshot(),
            "universe": self.universe.snapshot(),
            "quotes": self.quotes.snapshot(),
        }

    def _save(self) -> None:
        self.store.save(self.checkpoint())
        self._dirty = False

    def _beat(self) -> None:
        self.store.beat(
            {
                "engine": self.name,
                "status": self.status.value,
                "date": self.hours.day.isoformat(),
                "sim_time_ist": iso(self._done),
                "ticks": self.ticks,
                "orders": self.orders,
                "rejections": self.rejections,
                "open_positions": len(self.book.open_positions()),
                "net_pnl": fmt_rupees(self.book.net_pnl),
                "realised_pnl": fmt_rupees(self.book.realised),
                "charges": fmt_rupees(self.book.charges),
            }
        )
