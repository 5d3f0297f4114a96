"""Records one engine's events: the journal first, then their projections into the shared CSVs.

Every event gets the engine's next sequence number, so CSV rows, journal lines and the checkpoint's
`last_seq` refer to each other. A CSV row is made from its journal event alone (`order_row`,
`signal_row`), so a row lost to a crash between the two writes is re-made from the journal at the next
start (`reconcile`). Market time (`ts_ist`) comes from the engine, so two runs of the same simulated day
write identical rows; `wall_time` is the only wall-clock column.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from engines.artifacts.files import SharedCsv
from engines.artifacts.journal import LIFECYCLE, EventKind, Journal, Replayed
from engines.artifacts.layout import ArtifactPaths
from engines.market.calendar import iso, now_ist
from engines.money import fmt_rupees
from engines.orders import Fill, Order, OrderStatus, Rejection, Signal

ORDER_COLUMNS = (
    "ts_ist",
    "engine",
    "seq",
    "order_id",
    "symbol",
    "exchange",
    "instrument_type",
    "side",
    "quantity",
    "lots",
    "tag",
    "status",
    "price",
    "charges",
    "realised_pnl",
    "reason",
    "wall_time",
)
SIGNAL_COLUMNS = (
    "ts_ist",
    "engine",
    "seq",
    "symbol",
    "action",
    "target_quantity",
    "price",
    "reason",
    "wall_time",
)


class Recorder:
    def __init__(
        self,
        engine: str,
        day: date,
        paths: ArtifactPaths,
        journal: Journal,
        history: list[dict[str, Any]],
        replay: Replayed | None = None,
    ) -> None:
        self.engine = engine
        self.day = day
        self.journal = journal
        self.last_seq = int(history[-1]["seq"]) if history else 0
        self._journalled_before = self.last_seq  # events up to here were written by an earlier run
        self.replay = replay
        self._orders = SharedCsv(paths.orders, ORDER_COLUMNS)
        self._signals = SharedCsv(paths.signals, SIGNAL_COLUMNS)

    @property
    def catching_up(self) -> bool:
        return self.replay is not None and len(self.replay) > 0

    def event(self, kind: EventKind, ts_ms: int, **fields: Any) -> dict[str, Any]:
        """Journal one event (or match it against the journal when re-running); returns it with its seq."""
        event: dict[str, Any] = {
            "seq": 0,
            "ts_ist": iso(ts_ms),
            "engine": self.engine,
            "event": kind.value,
            **fields,
            "wall_time": now_ist().isoformat(timespec="milliseconds"),
        }
        if kind not in LIFECYCLE and self.replay is not None and len(self.replay):
            event["seq"] = self.replay.match(event)
            return event
        self.last_seq += 1
        event["seq"] = self.last_seq
        self.journal.append(event)
        return event

    # --- the trading events ------------------------------------------------------------------

    def signal(self, signal: Signal, ts_ms: int) -> None:
        event = self.event(
            EventKind.SIGNAL,
            ts_ms,
            symbol=signal.instrument.symbol,
            action=signal.action.value,
            target_quantity=signal.target_quantity,
            price=signal.price,
            reason=signal.reason,
        )
        if self._is_new(event):
            self._signals.append(signal_row(event))

    def order(self, order: Order) -> None:
        self.event(
            EventKind.ORDER,
            order.placed_ms,
            order_id=order.order_id,
            symbol=order.instrument.symbol,
            side=order.side.value,
            quantity=order.quantity,
            tag=order.tag.value,
        )

    def outcome(self, outcome: Fill | Rejection, ts_ms: int) -> dict[str, Any]:
        """Journal a fill or a rejection; the caller books it, then `publish`es the event's CSV row."""
        order = outcome.order
        instrument = order.instrument
        common = {
            "order_id": order.order_id,
            "placed_ist": iso(order.placed_ms),
            "symbol": instrument.symbol,
            "exchange": instrument.exchange,
            "instrument_type": instrument.kind.value,
            "side": order.side.value,
            "quantity": order.quantity,
            "lots": instrument.lots(order.quantity) if instrument.lot_size > 1 else "",
            "tag": order.tag.value,
        }
        if isinstance(outcome, Fill):
            return self.event(
                EventKind.FILL,
                ts_ms,
                **common,
                price_paise=outcome.price,
                charges_paise=outcome.charges.to_json(),
                realised_paise=outcome.realised,
            )
        return self.event(EventKind.REJECT, ts_ms, **common, reason=outcome.reason)

    def publish(self, event: dict[str, Any]) -> None:
        if self._is_new(event):
            self._orders.append(order_row(event))

    def _is_new(self, event: dict[str, Any]) -> bool:
        """False for an event matched against the journal: its CSV row exists (or `reconcile` made it)."""
        return int(event["seq"]) > self._journalled_before

    # --- after a crash -----------------------------------------------------------------------

    def reconcile(self, history: list[dict[str, Any]]) -> int:
        """Append the CSV rows of journalled events that a crash kept out of the CSVs; returns how many."""
        day = self.day.isoformat()
        have: dict[str, set[int]] = {"orders": set(), "signals": set()}
        for name, csv_file in (("orders", self._orders), ("signals", self._signals)):
            for row in csv_file.rows():
                if row.get("engine") == self.engine and row.get("ts_ist", "").startswith(day):
                    have[name].add(int(row["seq"]))
        added = 0
        for event in history:
            kind = event["event"]
            if kind in (EventKind.FILL, EventKind.REJECT) and event["seq"] not in have["orders"]:
                self._orders.append(order_row(event))
                added += 1
            elif kind == EventKind.SIGNAL and event["seq"] not in have["signals"]:
                self._signals.append(signal_row(event))
                added += 1
        return added

    def close(self) -> None:
        self.journal.close()
        self._orders.close()
        self._signals.close()


def order_row(event: dict[str, Any]) -> dict[str, object]:
    filled = event["event"] == EventKind.FILL
    return {
        "ts_ist": event["placed_ist"],
        "engine": event["engine"],
        "seq": event["seq"],
        "order_id": event["order_id"],
        "symbol": event["symbol"],
        "exchange": event["exchange"],
        "instrument_type": event["instrument_type"],
        "side": event["side"],
        "quantity": event["quantity"],
        "lots": event["lots"],
        "tag": event["tag"],
        "status": (OrderStatus.COMPLETE if filled else OrderStatus.REJECTED).value,
        "price": fmt_rupees(event["price_paise"]) if filled else "",
        "charges": fmt_rupees(event["charges_paise"]["total"]) if filled else "",
        "realised_pnl": fmt_rupees(event["realised_paise"]) if filled else "",
        "reason": "" if filled else event["reason"],
        "wall_time": event["wall_time"],
    }


def signal_row(event: dict[str, Any]) -> dict[str, object]:
    return {
        "ts_ist": event["ts_ist"],
        "engine": event["engine"],
        "seq": event["seq"],
        "symbol": event["symbol"],
        "action": event["action"],
        "target_quantity": event["target_quantity"],
        "price": f"{event['price']:.2f}",
        "reason": event["reason"],
        "wall_time": event["wall_time"],
    }
