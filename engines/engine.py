"""The engine: one trading day of one strategy on one feed, through risk and the paper broker.

Everything it talks to is injected (clock, feed, broker, strategy, risk, recorder), so the same code
runs on the simulator, a recorded replay, the live feed or a backtest. Per batch of ticks:

    close the previous minute's bars -> fold the ticks into the bars -> strategy on each closed bar
    -> signals -> orders -> risk -> paper fill -> book -> artifacts -> loss limits -> square-off

The day ends at the close (status `finished`), on a stop request (SIGTERM/SIGINT: status `stopped`,
resumable from the checkpoint), or with an EngineFailure.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from engines.artifacts.files import write_json_atomic
from engines.artifacts.recorder import EventKind, Recorder
from engines.bars import BarBuilder
from engines.broker import PaperBroker
from engines.charges import Side
from engines.clock import Clock
from engines.errors import EngineFailure
from engines.instruments import Instrument
from engines.market.feed import Feed
from engines.money import fmt_rupees, price_to_paise
from engines.nse_calendar import now_ist
from engines.orders import Fill, Order, OrderTag, Rejection, Signal
from engines.portfolio import Book, Position
from engines.risk import RiskManager, RiskState
from engines.strategies.base import Strategy

HEARTBEAT_EVERY_S = 1.0
PROGRESS_EVERY_MINUTES = 30


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
class DayPlan:
    day: date
    square_off: datetime  # the session's close is where the feed ends
    fail_at: datetime | None = None  # the faults testing aid


class Engine:
    def __init__(
        self,
        name: str,
        plan: DayPlan,
        clock: Clock,
        feed: Feed,
        strategy: Strategy,
        book: Book,
        broker: PaperBroker,
        risk: RiskManager,
        recorder: Recorder,
        checkpoint_path: Path,
        heartbeat_path: Path,
        log: logging.Logger,
    ) -> None:
        self.name = name
        self.plan = plan
        self.clock = clock
        self.feed = feed
        self.strategy = strategy
        self.book = book
        self.broker = broker
        self.risk = risk
        self.recorder = recorder
        self.log = log
        self.status = Status.STARTING
        self.ticks = 0
        self.orders = 0
        self.rejections = 0
        self._checkpoint_path = checkpoint_path
        self._heartbeat_path = heartbeat_path
        self._bars = BarBuilder()
        self._instruments = {i.token: i for i in feed.instruments}
        self._resume_after: datetime | None = None
        self._checkpoint_seq = recorder.last_seq  # a resumed checkpoint may trail the journal (SIGKILL)
        self._dirty = False
        self._next_beat = 0.0
        self._next_progress: datetime | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def resume_from(self, checkpoint: dict[str, Any]) -> None:
        """Restore the book, risk state, strategy state and counters of an interrupted day."""
        by_symbol = {i.symbol: i for i in self.feed.instruments}
        for data in checkpoint["positions"]:
            instrument = by_symbol.get(data["symbol"])
            if instrument is None:
                raise EngineFailure(
                    f"checkpoint holds {data['symbol']}, which is not in today's universe; "
                    f"move {self._checkpoint_path} aside to start the day afresh"
                )
            self.book.positions[instrument.symbol] = Position.from_json(instrument, data)
        self.risk.state = RiskState.from_json(checkpoint["risk"])
        self.strategy.restore(checkpoint["strategy"])
        self.orders, self.rejections = checkpoint["orders"], checkpoint["rejections"]
        self._resume_after = datetime.fromisoformat(checkpoint["as_of_ist"])
        self._checkpoint_seq = checkpoint["last_seq"]

    def run(self, stop: threading.Event) -> StopReason:
        resumed = self._resume_after is not None
        self.status = Status.RUNNING
        kind = EventKind.RESUME if resumed else EventKind.START
        self.recorder.event(
            kind,
            day=self.plan.day.isoformat(),
            instruments=len(self._instruments),
            as_of_ist=self._resume_after.isoformat() if self._resume_after else None,
            unapplied_events=self.recorder.last_seq - self._checkpoint_seq,
        )
        self.log.info(
            "%s %s with %d instruments%s",
            "resuming" if resumed else "starting",
            self.plan.day,
            len(self._instruments),
            f" after {self._resume_after:%H:%M:%S}" if resumed else "",
        )
        self._save()
        try:
            reason = self._trade(stop)
        except Exception:
            self.status = Status.FAILED
            self._save_after_failure()
            raise
        self.status = Status.FINISHED if reason is StopReason.CLOSE else Status.STOPPED
        self.recorder.event(
            EventKind.STOP,
            reason=reason.value,
            net_pnl_paise=self.book.net_pnl,
            open_positions=len(self.book.open_positions()),
        )
        self._save()
        self._beat()
        self.log.info(
            "%s at %s: %s",
            "finished the day" if reason is StopReason.CLOSE else "stopped",
            f"{self.clock.now():%H:%M:%S}",
            self._summary(),
        )
        return reason

    def _trade(self, stop: threading.Event) -> StopReason:
        plan, bars, strategy = self.plan, self._bars, self.strategy
        for moment, ticks in self.feed.batches(stop, after=self._resume_after):
            self.clock.advance_to(moment, stop)
            if stop.is_set():
                return StopReason.SIGNAL
            if plan.fail_at is not None and moment >= plan.fail_at:
                self.recorder.event(EventKind.FAULT, detail="injected by config faults.fail_engine")
                raise EngineFailure(f"injected fault at {moment:%H:%M:%S} (config: faults)")
            closed = bars.roll(moment)
            bars.add(ticks)
            self.ticks += len(ticks)
            if closed and not self.risk.state.trading_closed:
                for bar in closed:
                    for signal in strategy.on_bar(bar):
                        self._act(signal)
            if self.book.open_positions():
                self._watch_limits()
            if moment >= plan.square_off and not self.risk.state.trading_closed:
                self._square_off()
            self._after_batch(moment)
        return StopReason.SIGNAL if stop.is_set() else StopReason.CLOSE

    # --- trading ---------------------------------------------------------------------------------

    def _act(self, signal: Signal) -> None:
        """Record the signal and move the position to its target: close first, then open."""
        self.recorder.signal(signal)
        self._dirty = True
        instrument, target = signal.instrument, signal.target_quantity
        held = self.book.quantity(instrument.symbol)
        if held == target:
            return
        if held and (target == 0 or (held > 0) != (target > 0)):
            self._place(instrument, -held, OrderTag.EXIT)
        if target and self.book.quantity(instrument.symbol) != target:
            self._place(instrument, target - self.book.quantity(instrument.symbol), OrderTag.ENTRY)

    def _place(self, instrument: Instrument, signed_quantity: int, tag: OrderTag) -> None:
        self.orders += 1
        side = Side.BUY if signed_quantity > 0 else Side.SELL
        order = Order(
            f"{self.name}-{self.plan.day:%Y%m%d}-{self.orders:06d}",
            self.clock.now(),
            instrument,
            side,
            abs(signed_quantity),
            tag,
        )
        tick = self._bars.latest.get(instrument.token)
        price = self.broker.touch(order, tick)
        refusal = None if price is None else self.risk.refusal(self.book, order, price)
        outcome = Rejection(order, refusal) if refusal is not None else self.broker.execute(order, tick)
        if not isinstance(outcome, Fill):
            self.rejections += 1
            self.log.debug("rejected %s %d %s: %s", side, order.quantity, instrument.symbol, outcome.reason)
        self.recorder.order(outcome)
        self._dirty = True

    def _flatten(self, positions: Sequence[Position], tag: OrderTag) -> None:
        for position in positions:
            self._place(position.instrument, -position.quantity, tag)

    def _watch_limits(self) -> None:
        latest = self._bars.latest
        for position in self.book.open_positions():
            tick = latest.get(position.instrument.token)
            if tick is not None:
                position.last_price = price_to_paise(tick["last_price"], position.instrument.tick)
        daily, symbols = self.risk.breaches(self.book)
        if daily:
            self.risk.state.halted = True
            self.recorder.event(
                EventKind.RISK_HALT,
                net_pnl_paise=self.book.net_pnl,
                limit_paise=self.risk.limits.max_daily_loss,
            )
            self.log.warning(
                "daily loss limit breached (net P&L %s): squaring off and halting new entries",
                fmt_rupees(self.book.net_pnl),
            )
            self._flatten(self.book.open_positions(), OrderTag.RISK_EXIT)
            return
        for symbol in symbols:
            position = self.book.positions[symbol]
            self.risk.state.blocked.add(symbol)
            self.recorder.event(
                EventKind.SYMBOL_BLOCKED,
                symbol=symbol,
                pnl_paise=position.pnl - position.charges,
                limit_paise=self.risk.limits.per_symbol_max_loss,
            )
            self.log.warning(
                "%s breached its loss limit: squaring it off and blocking it for the day", symbol
            )
            self._flatten([position], OrderTag.RISK_EXIT)

    def _square_off(self) -> None:
        self.risk.state.trading_closed = True
        open_positions = self.book.open_positions()
        self.recorder.event(EventKind.SQUARE_OFF, positions=[p.instrument.symbol for p in open_positions])
        self.log.info(
            "square-off at %s: closing %d position(s)", f"{self.clock.now():%H:%M:%S}", len(open_positions)
        )
        self._flatten(open_positions, OrderTag.SQUARE_OFF)
        self._dirty = True

    # --- state, heartbeat, progress ----------------------------------------------------------------

    def _after_batch(self, moment: datetime) -> None:
        if self._dirty:
            self._save()
        now = time.monotonic()
        if now >= self._next_beat:
            self._beat()
            self._next_beat = now + HEARTBEAT_EVERY_S
        if self._next_progress is None:
            self._next_progress = moment.replace(
                minute=moment.minute - moment.minute % PROGRESS_EVERY_MINUTES, second=0, microsecond=0
            )
        if moment >= self._next_progress:
            self.log.info("%s | %s", f"{moment:%H:%M}", self._summary())
            self._next_progress += timedelta(minutes=PROGRESS_EVERY_MINUTES)

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
            "schema": 1,
            "engine": self.name,
            "date": self.plan.day.isoformat(),
            "status": self.status.value,
            "as_of_ist": self.clock.now().isoformat(),
            "last_seq": self.recorder.last_seq,
            "capital_paise": book.capital,
            "realised_paise": book.realised,
            "unrealised_paise": book.unrealised,
            "charges_paise": book.charges,
            "net_pnl_paise": book.net_pnl,
            "available_paise": book.available,
            "positions": [p.to_json() for p in book.positions.values()],
            "open_orders": [],  # market orders fill or are rejected at once: nothing ever rests
            "orders": self.orders,
            "rejections": self.rejections,
            "risk": self.risk.state.to_json(),
            "strategy": self.strategy.snapshot(),
        }

    def _save_after_failure(self) -> None:
        """Keep what can be kept; the failure itself may be the artifacts disk."""
        try:
            self._save()
            self._beat()
        except OSError as exc:
            self.log.error("could not write the final checkpoint: %s", exc)

    def _save(self) -> None:
        write_json_atomic(self._checkpoint_path, self.checkpoint(), durable=True)
        self._dirty = False

    def _beat(self) -> None:
        book = self.book
        write_json_atomic(
            self._heartbeat_path,
            {
                "engine": self.name,
                "status": self.status.value,
                "date": self.plan.day.isoformat(),
                "sim_time_ist": self.clock.now().isoformat(),
                "wall_time": now_ist().isoformat(),
                "ticks": self.ticks,
                "orders": self.orders,
                "rejections": self.rejections,
                "open_positions": len(book.open_positions()),
                "net_pnl": fmt_rupees(book.net_pnl),
                "realised_pnl": fmt_rupees(book.realised),
                "charges": fmt_rupees(book.charges),
            },
            durable=False,
        )
