"""Records one engine's events: the journal first, then their projections into the shared CSVs.

Every event gets the engine's next sequence number, so CSV rows, journal lines and the checkpoint's
`last_seq` refer to each other. A CSV row is made from its journal event alone (`order_row`,
`signal_row`), so a row lost to a crash between the two writes is re-made from the journal at the next
start (`reconcile`). Market time (`ts_ist`) comes from the engine, so two runs of the same simulated day
write identical rows; `wall_time` is the only wall-clock column.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from engines.artifacts.files import SharedCsv
from engines.artifacts.journal import LIFECYCLE, EventKind, Journal, Replayed
from engines.artifacts.layout import ArtifactPaths
from engines.market.calendar import iso, now_ist
from engines.money import fmt_rupees
from engines.orders import Fill, OrderState, OrderStatus, Signal

ORDER_COLUMNS = (
    "ts_ist",
    "engine",
    "strategy",
    "seq",
    "order_id",
    "status",
    "symbol",
    "exchange",
    "instrument_type",
    "product",
    "order_type",
    "validity",
    "side",
    "quantity",
    "filled_quantity",
    "lots",
    "limit_price",
    "trigger_price",
    "touch_price",
    "average_price",
    "value",
    "charges",
    "brokerage",
    "stt",
    "exchange_charges",
    "sebi_charges",
    "stamp_duty",
    "gst",
    "dp_charges",
    "realised_pnl",
    "fills",
    "tag",
    "reason",
    "placed_ist",
    "wall_time",
)
SIGNAL_COLUMNS = (
    "ts_ist",
    "engine",
    "strategy",
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

    def signal(self, signal: Signal, ts_ms: int, strategy: str) -> None:
        event = self.event(
            EventKind.SIGNAL,
            ts_ms,
            strategy=strategy,
            symbol=signal.instrument.symbol,
            action=signal.action.value,
            target_quantity=signal.target_quantity,
            price=signal.price,
            reason=signal.reason,
        )
        if self._is_new(event):
            self._signals.append(signal_row(event))

    def order(self, state: OrderState) -> None:
        """An order placed: what it asks for and the best price on its side at that moment."""
        self.event(EventKind.ORDER, state.order.placed_ms, **_order_fields(state))

    def fill(self, state: OrderState, fill: Fill, ts_ms: int) -> dict[str, Any]:
        """Journal one execution; `state` already counts it. The caller books it, then `publish`es."""
        return self.event(
            EventKind.FILL,
            ts_ms,
            **_order_fields(state),
            fill_levels=[list(level) for level in fill.levels],
            fill_charges_paise=fill.charges.to_json(),
            fill_realised_paise=fill.realised,
        )

    def reject(self, state: OrderState, reason: str, ts_ms: int) -> dict[str, Any]:
        return self.event(
            EventKind.REJECT, ts_ms, **_order_fields(state, OrderStatus.REJECTED), reason=reason
        )

    def cancel(self, state: OrderState, reason: str, ts_ms: int) -> dict[str, Any]:
        """What the order has not filled is cancelled: an IOC remainder, the close, square-off, a request."""
        fields = _order_fields(state, OrderStatus.CANCELLED)
        return self.event(
            EventKind.CANCEL, ts_ms, **fields, cancelled_quantity=state.remaining, reason=reason
        )

    def triggered(self, state: OrderState, ts_ms: int) -> None:
        self.event(EventKind.TRIGGERED, ts_ms, **_order_fields(state))

    def modify(self, state: OrderState, ts_ms: int) -> None:
        self.event(EventKind.MODIFY, ts_ms, **_order_fields(state))

    def publish(self, event: dict[str, Any]) -> None:
        """Write the order's orders.csv row once the event ends it (complete, rejected or cancelled)."""
        if _ends_order(event) and self._is_new(event):
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
            if _ends_order(event) and event["seq"] not in have["orders"]:
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


_ITEMS = (  # orders.csv column <- Charges.to_json() key
    ("brokerage", "brokerage"),
    ("stt", "stt"),
    ("exchange_charges", "exchange"),
    ("sebi_charges", "sebi"),
    ("stamp_duty", "stamp"),
    ("gst", "gst"),
    ("dp_charges", "dp"),
)
_ENDS = frozenset({OrderStatus.COMPLETE.value, OrderStatus.REJECTED.value, OrderStatus.CANCELLED.value})


def _ends_order(event: dict[str, Any]) -> bool:
    kind = event["event"]
    return kind in (EventKind.FILL, EventKind.REJECT, EventKind.CANCEL) and event["status"] in _ENDS


def _order_fields(state: OrderState, status: OrderStatus | None = None) -> dict[str, Any]:
    """What every order event carries: the order, its status and what it has filled so far, so that the
    event that ends an order makes its orders.csv row alone."""
    order, instrument = state.order, state.order.instrument
    return {
        "order_id": order.order_id,
        "placed_ist": iso(order.placed_ms),
        "strategy": order.strategy,
        "symbol": instrument.symbol,
        "exchange": instrument.exchange,
        "instrument_type": instrument.kind.value,
        "product": order.product.value,
        "order_type": order.order_type.value,
        "validity": order.validity.value,
        "side": order.side.value,
        "quantity": order.quantity,
        "lot_size": instrument.lot_size,
        "price_paise": order.price,
        "trigger_price_paise": order.trigger_price,
        "touch_paise": state.touch,
        "tag": order.tag.value,
        "status": (status or state.status).value,
        "filled_quantity": state.filled,
        "value_paise": state.value,
        "charges_paise": state.charges.to_json(),
        "realised_paise": state.realised,
        "fills": state.fills,
    }


def order_row(event: dict[str, Any]) -> dict[str, object]:
    """The orders.csv row of the event that ends an order (docs/artifacts.md documents each column)."""
    filled, lot = event["filled_quantity"], event["lot_size"]
    charges = event["charges_paise"]
    return {
        "ts_ist": event["ts_ist"],
        "engine": event["engine"],
        "strategy": event["strategy"],
        "seq": event["seq"],
        "order_id": event["order_id"],
        "status": event["status"],
        "symbol": event["symbol"],
        "exchange": event["exchange"],
        "instrument_type": event["instrument_type"],
        "product": event["product"],
        "order_type": event["order_type"],
        "validity": event["validity"],
        "side": event["side"],
        "quantity": event["quantity"],
        "filled_quantity": filled,
        "lots": filled // lot if lot > 1 else "",
        "limit_price": _rupees(event["price_paise"]),
        "trigger_price": _rupees(event["trigger_price_paise"]),
        "touch_price": _rupees(event["touch_paise"]),
        "average_price": f"{Decimal(event['value_paise']) / filled / 100:.4f}" if filled else "",
        "value": fmt_rupees(event["value_paise"]),
        "charges": fmt_rupees(charges["total"]),
        **{column: fmt_rupees(charges.get(key, 0)) for column, key in _ITEMS},
        "realised_pnl": fmt_rupees(event["realised_paise"]),
        "fills": event["fills"],
        "tag": event["tag"],
        "reason": event.get("reason", ""),
        "placed_ist": event["placed_ist"],
        "wall_time": event["wall_time"],
    }


def _rupees(paise: int | None) -> str:
    return fmt_rupees(paise) if paise else ""


def signal_row(event: dict[str, Any]) -> dict[str, object]:
    return {
        "ts_ist": event["ts_ist"],
        "engine": event["engine"],
        "strategy": event["strategy"],
        "seq": event["seq"],
        "symbol": event["symbol"],
        "action": event["action"],
        "target_quantity": event["target_quantity"],
        "price": f"{event['price']:.2f}",
        "reason": event["reason"],
        "wall_time": event["wall_time"],
    }
