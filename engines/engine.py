"""The engine: one trading day of one strategy, driven by the clock and fed by any feed.

Everything it talks to is injected (clock, feed, universe, strategy, desk, recorder), so the same code runs
on the simulator, a recorded replay, the live Kite feed and a backtest. The day is a sequence of moments,
one per minute boundary from the open to the close. Between two moments the engine reads the feed's ticks
and folds them into quotes and bars in batches, stopping at any tick where a working order may fill or a
loss limit may be breached. At each moment:

    close every bar of the minute -> fold the ticks stamped at the moment -> square-off (at its time)
    -> universe follows spot -> strategy.on_bars (the minute's bars as columns) -> orders -> risk
    -> paper fill -> journal -> book -> CSVs -> loss limits -> strategy.on_fill / on_order_update

so an order decided at a moment reaches the market with the quotes current at that moment (or, with a
latency, the first quote after it), never earlier ones. The day ends at the close (status `finished`),
on a stop request (SIGTERM/SIGINT: status `stopped`, resumable), or with an EngineFailure.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np

from engines.artifacts.checkpoints import StateStore
from engines.artifacts.journal import EventKind, JournalMismatch
from engines.artifacts.recorder import Recorder
from engines.clock import Clock
from engines.desk import Desk
from engines.errors import EngineFailure, StopRequested
from engines.market.calendar import MINUTE_MS, iso
from engines.market.feed import Feed
from engines.market.instruments import Instrument
from engines.market.recording import MarketRecorder
from engines.market.ticks import TickBatch
from engines.money import fmt_rupees
from engines.orders import OrderStatus, Product
from engines.portfolio import Position
from engines.quotes import Bar, MinuteBars, Quotes
from engines.risk import RiskState
from engines.strategies.api import Quote, Strategy
from engines.strategies.context import Context
from engines.universe import Universe

HEARTBEAT_EVERY_S = 1.0
CHECKPOINT_SCHEMA = 4  # 4: quotes as base64 columns
CHECKPOINT_EVERY_S = 1.0  # the journal holds every event: a checkpoint only saves re-running time
PROGRESS_EVERY_MS = 30 * MINUTE_MS
_MAX_CALLBACK_ROUNDS = 100  # a strategy answering its own fills with orders must settle


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
        context: Context,
        desk: Desk,
        quotes: Quotes,
        recorder: Recorder,
        store: StateStore,
        log: logging.Logger,
        market_recorder: MarketRecorder | None = None,
        history: Callable[[Instrument, int], list[Bar]] | None = None,
    ) -> None:
        self.name = name
        self.hours = hours
        self.clock = clock
        self.feed = feed
        self.universe = universe
        self.strategy = strategy
        self.context = context
        self.desk = desk
        self.book = desk.book
        self.risk = desk.risk
        self.quotes = quotes
        self.recorder = recorder
        self.store = store
        self.log = log
        self.market_recorder = market_recorder
        self.history = history  # an instrument's minute bars before the day, for Strategy.warmup
        self.status = Status.STARTING
        self.ticks = 0
        self._done = hours.open_ms  # every tick and moment up to here is processed
        self._resumed = False
        self.error: str | None = None  # what failed the day, once it has
        self._restored: list[Instrument] = []
        self._stop = threading.Event()
        self._next_save = self._next_beat = 0.0
        self._next_progress = hours.open_ms + PROGRESS_EVERY_MS

    @property
    def orders(self) -> int:
        return self.desk.orders

    @property
    def rejections(self) -> int:
        return self.desk.rejections

    # --- lifecycle -------------------------------------------------------------------------------

    def restore(self, checkpoint: dict[str, Any], resolve: Callable[[int], Instrument | None]) -> None:
        """Continue from a checkpoint: book, orders, risk, strategy, universe, quotes and counters."""

        def instrument(token: int) -> Instrument:
            found = resolve(token)
            if found is None:
                raise EngineFailure(
                    f"{self.store.path}: the checkpoint holds instrument {token}, which today's instrument "
                    f"master does not list; move the checkpoint aside to rebuild the day from the journal"
                )
            return found

        self.quotes.restore(checkpoint["quotes"], [instrument(t) for t in checkpoint["quotes"]["tokens"]])
        for data in checkpoint["positions"]:
            self.book.positions[data["symbol"]] = Position.from_json(instrument(data["token"]), data)
        self.desk.restore(checkpoint["desk"], instrument)
        self.risk.state = RiskState.from_json(checkpoint["risk"])
        self.strategy.state = checkpoint["strategy"]
        self._restored = self.universe.restore(checkpoint["universe"])
        self.ticks = checkpoint["ticks"]
        self._done = checkpoint["done_ms"]
        self._resumed = True

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
        self.desk.mark_all()
        self.status = Status.RUNNING
        try:
            if not self._resumed:  # a resumed strategy has its state back: it already started today
                self._call(self.hours.open_ms, self.strategy.on_start)
                self._warm_up(subscribed)
            reason = self._trade(stop)
        except StopRequested:  # during the warm-up, before the open: nothing to save, the day starts over
            self.status = Status.STOPPED
            self._beat()
            raise
        except Exception as exc:
            self.status = Status.FAILED
            self.error = f"{type(exc).__name__}: {exc}"[:500]  # for `session status`
            self._beat()
            raise
        self.status = Status.FINISHED if reason is StopReason.CLOSE else Status.STOPPED
        self.context.stopping = True
        self.strategy.on_stop()
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

    def close(self) -> None:
        """Close the files: the journal and CSVs, and the market record (complete up to the last moment
        processed; what a failed step had read is left for the restart to record again)."""
        self.recorder.close()
        if self.market_recorder is not None:
            self.market_recorder.close(None if self.status is Status.FAILED else self._done)

    def _subscriptions(self) -> list[Instrument]:
        held = [p.instrument for p in self.book.open_positions()]
        working = [s.order.instrument for s in self.desk.working.values()]
        wanted = self._restored if self._resumed else self.universe.initial()
        return list({i.token: i for i in [*wanted, *held, *working]}.values())

    # --- the day, moment by moment ------------------------------------------------------------------

    def _trade(self, stop: threading.Event) -> StopReason:
        hours = self.hours
        while self._done < hours.close_ms:
            moment = min(hours.close_ms, (self._done // MINUTE_MS + 1) * MINUTE_MS)
            catching_up = self.recorder.catching_up
            through = moment if catching_up else self.clock.horizon(self._done, moment)
            if not catching_up:
                while not self.clock.wait_until(through, stop) and not stop.is_set():
                    self._beat()  # a live engine before the open: still alive
            if stop.is_set():
                return StopReason.SIGNAL
            ticks = self.feed.read(through, stop)
            for event in self.feed.events():
                self.recorder.event(EventKind.FEED, through, what=event.what, **event.detail)
            if self.market_recorder is not None:
                self.market_recorder.add(ticks)
            if through == moment:
                before, at, _ = ticks.split_at(moment)
                self._ingest(before)
                self._moment(moment, at)
            else:
                self._ingest(ticks)
            self._done = through
            if self.market_recorder is not None:
                self.market_recorder.flush(through)
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
            intraday = [p.instrument.symbol for p in self.book.open_positions() if p.product is Product.MIS]
            self.desk.square_off(moment, intraday)
        self._follow_universe(moment)
        if not self.risk.state.trading_closed and len(bars):
            self._call(moment, self.strategy.on_bars, bars)
        if moment == hours.close_ms:
            self.desk.close(moment)
            self._deliver(moment)
        if moment == hours.fault_ms and hours.fault_action == "sigterm":
            self.recorder.event(EventKind.FAULT, moment, detail="SIGTERM by config faults")
            os.kill(os.getpid(), signal.SIGTERM)
            self._stop.wait(5)  # the handler sets it: stop right after this moment, as the test aid promises

    def _ingest(self, ticks: TickBatch) -> None:
        """Fold ticks into quotes and bars, stopping at each moment where a working order may fill or a
        loss limit may be breached, to act on it with that moment's quotes."""
        if not len(ticks):
            return
        slots = self.quotes.slots_of(ticks.token)
        known = slots >= 0
        if not known.all():
            ticks, slots = ticks.take(np.flatnonzero(known)), slots[known]
        self.ticks += len(ticks)
        desk, limits = self.desk, self.risk.limits
        while len(ticks):
            candidates = [desk.first_candidate(ticks, slots) if desk.working else None]
            if self.book.open_positions():
                candidates.append(
                    desk.watch.first_breach(
                        ticks,
                        slots,
                        self.quotes.last_price,
                        self.book.net_pnl,
                        desk.day_floor(),
                        -limits.per_symbol_max_loss,
                    )
                )
            hits = [c for c in candidates if c is not None]
            end = len(ticks)
            if hits:
                end = int(np.searchsorted(ticks.ts, ticks.ts[min(hits)], side="right"))
            if self.strategy.wants_ticks:
                end = int(np.searchsorted(ticks.ts, ticks.ts[0], side="right"))  # one moment at a time
            part = ticks.take(slice(0, end))
            self.quotes.apply(part, slots[:end])
            desk.mark_all()
            moment = int(part.ts[-1])
            if self.strategy.wants_ticks:
                self._ticks_to_strategy(part, moment)
            if hits or desk.working:
                desk.work_due(moment)
                desk.enforce_limits(moment)
                self._deliver(moment)
            ticks, slots = ticks.take(slice(end, None)), slots[end:]

    def _ticks_to_strategy(self, ticks: TickBatch, moment: int) -> None:
        for token in ticks.token.tolist():
            slot = self.quotes.slot(token)
            instrument = self.quotes.instruments[slot] if slot is not None else None
            quote = self.context.quote(instrument) if instrument is not None else None
            if quote is not None:
                self._call(moment, self.strategy.on_tick, quote)

    def _warm_up(self, instruments: list[Instrument]) -> None:
        """Feed on_bar the bars before the day that the strategy asks for, in time order, orders refused."""
        if self.history is None:
            return
        bars: list[Bar] = []
        for instrument in instruments:
            if (count := self.strategy.warmup(instrument)) > 0:
                bars += self.history(instrument, count)  # rate-limited on Kite: keep beating meanwhile
                if time.monotonic() >= self._next_beat:
                    self._beat()
                    self._next_beat = time.monotonic() + HEARTBEAT_EVERY_S
        if not bars:
            return
        minutes: dict[int, list[Bar]] = {}
        for bar in bars:
            minutes.setdefault(bar.start_ms, []).append(bar)
        self.context.warming_up = True
        try:
            for start in sorted(minutes):
                self.context.now_ms = start + MINUTE_MS
                self.strategy.on_bars(MinuteBars.of(start, minutes[start]))
        finally:
            self.context.warming_up = False
            self.context.now_ms = self.hours.open_ms
        self.log.info(
            "warmed up on %d bars of %d instruments, from %s",
            len(bars), len({bar.instrument.token for bar in bars}), iso(min(minutes))[:16],
        )  # fmt: skip

    def _call(self, moment: int, hook: Callable[..., None], *args: MinuteBars | Quote) -> None:
        """Run a strategy hook at `moment`, then hand it what its orders did."""
        self.context.now_ms = moment
        hook(*args)
        self._deliver(moment)

    def _deliver(self, moment: int) -> None:
        self.context.now_ms = moment
        for _ in range(_MAX_CALLBACK_ROUNDS):
            updates, self.desk.updates = self.desk.updates, []
            if not updates:
                return
            for update in updates:
                if update.fill_quantity:
                    self.strategy.on_fill(update)
                elif update.status is not OrderStatus.COMPLETE:
                    self.strategy.on_order_update(update)
        raise EngineFailure(f"{self.name}: the strategy kept answering its own order updates with orders")

    def _follow_universe(self, moment: int) -> None:
        spot = {}
        for underlying, index in self.universe.indices.items():
            slot = self.quotes.slot(index.token)
            if slot is not None and self.quotes.seen[slot]:
                spot[underlying] = int(self.quotes.last_price[slot])
        held = {p.instrument.symbol for p in self.book.open_positions()}
        held |= {s.order.instrument.symbol for s in self.desk.working.values()}
        change = self.universe.update(spot, held)
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

    # --- state, heartbeat, progress ----------------------------------------------------------------

    def _after_step(self, was_catching_up: bool) -> None:
        replay = self.recorder.replay
        if was_catching_up and not self.recorder.catching_up:
            self.recorder.event(
                EventKind.CAUGHT_UP, self._done, matched=replay.matched if replay is not None else 0
            )
            self.log.info("caught up with the journal at %s", iso(self._done)[11:19])
            self.clock.restart_pacing_at(self._done)
        now = time.monotonic()
        if now >= self._next_save and not self.recorder.catching_up:  # quotes, bars and indicators move too
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
            "schema": CHECKPOINT_SCHEMA,
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
            "desk": self.desk.snapshot(),
            "risk": self.risk.state.to_json(),
            "strategy": self.strategy.state,
            "universe": self.universe.snapshot(),
            "quotes": self.quotes.snapshot(),
        }

    def _save(self) -> None:
        self.store.save(self.checkpoint())

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
                "error": self.error,
            }
        )
