"""Records one engine's events: a journal line for every event, a CSV row for signals and orders.

Every event gets the engine's next sequence number, so CSV rows, journal lines and the checkpoint's
`last_seq` refer to each other. Market time (`ts_ist`) comes from the injected clock, so two runs of
the same simulated day write identical rows; `wall_time` is the only wall-clock column.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from engines.artifacts.files import AppendOnlyFile, SharedCsv
from engines.artifacts.layout import ArtifactPaths
from engines.clock import Clock
from engines.money import fmt_rupees
from engines.nse_calendar import now_ist
from engines.orders import Fill, OrderStatus, Rejection, Signal

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


class EventKind(StrEnum):
    START = "start"
    RESUME = "resume"
    SIGNAL = "signal"
    ORDER = "order"
    FILL = "fill"
    REJECT = "reject"
    SQUARE_OFF = "square_off"
    RISK_HALT = "risk_halt"
    SYMBOL_BLOCKED = "symbol_blocked"
    FAULT = "fault"
    STOP = "stop"


class Recorder:
    def __init__(self, engine: str, paths: ArtifactPaths, day: date, clock: Clock, last_seq: int = 0) -> None:
        self.engine = engine
        self.last_seq = last_seq
        self._clock = clock
        self._journal = AppendOnlyFile(paths.journal(day, engine))
        self._orders = SharedCsv(paths.orders, ORDER_COLUMNS)
        self._signals = SharedCsv(paths.signals, SIGNAL_COLUMNS)

    def event(self, kind: EventKind, **fields: Any) -> int:
        """Journal one event; returns its sequence number."""
        self.last_seq += 1
        line = {
            "seq": self.last_seq,
            "ts_ist": _iso(self._clock.now()),
            "engine": self.engine,
            "event": kind.value,
            **fields,
            "wall_time": _iso(now_ist()),
        }
        self._journal.append(json.dumps(line, separators=(",", ":")).encode() + b"\n")
        return self.last_seq

    def signal(self, signal: Signal) -> None:
        symbol = signal.instrument.symbol
        seq = self.event(
            EventKind.SIGNAL,
            symbol=symbol,
            action=signal.action.value,
            target_quantity=signal.target_quantity,
            price=signal.price,
            reason=signal.reason,
        )
        self._signals.append(
            {
                "ts_ist": _iso(self._clock.now()),
                "engine": self.engine,
                "seq": seq,
                "symbol": symbol,
                "action": signal.action.value,
                "target_quantity": signal.target_quantity,
                "price": f"{signal.price:.2f}",
                "reason": signal.reason,
                "wall_time": _iso(now_ist()),
            }
        )

    def order(self, outcome: Fill | Rejection) -> None:
        order = outcome.order
        instrument = order.instrument
        self.event(
            EventKind.ORDER,
            order_id=order.order_id,
            symbol=instrument.symbol,
            side=order.side.value,
            quantity=order.quantity,
            tag=order.tag.value,
        )
        if isinstance(outcome, Fill):
            c = outcome.charges
            seq = self.event(
                EventKind.FILL,
                order_id=order.order_id,
                symbol=instrument.symbol,
                side=order.side.value,
                quantity=order.quantity,
                price_paise=outcome.price,
                charges_paise={
                    "brokerage": c.brokerage,
                    "stt": c.stt,
                    "exchange": c.exchange,
                    "sebi": c.sebi,
                    "stamp": c.stamp,
                    "gst": c.gst,
                    "total": c.total,
                },
                realised_paise=outcome.realised,
                tag=order.tag.value,
            )
            status, price, charges, realised, reason = (
                OrderStatus.COMPLETE,
                fmt_rupees(outcome.price),
                fmt_rupees(c.total),
                fmt_rupees(outcome.realised),
                "",
            )
        else:
            seq = self.event(
                EventKind.REJECT,
                order_id=order.order_id,
                symbol=instrument.symbol,
                side=order.side.value,
                quantity=order.quantity,
                reason=outcome.reason,
                tag=order.tag.value,
            )
            status, price, charges, realised, reason = OrderStatus.REJECTED, "", "", "", outcome.reason
        lot = max(instrument.lot_size, 1)
        self._orders.append(
            {
                "ts_ist": _iso(order.placed_at),
                "engine": self.engine,
                "seq": seq,
                "order_id": order.order_id,
                "symbol": instrument.symbol,
                "exchange": instrument.exchange,
                "instrument_type": instrument.kind.value,
                "side": order.side.value,
                "quantity": order.quantity,
                "lots": order.quantity // lot if instrument.lot_size > 1 else "",
                "tag": order.tag.value,
                "status": status.value,
                "price": price,
                "charges": charges,
                "realised_pnl": realised,
                "reason": reason,
                "wall_time": _iso(now_ist()),
            }
        )

    def close(self) -> None:
        self._journal.close()
        self._orders.close()
        self._signals.close()


def journal_last_seq(path: Path) -> int:
    """The sequence number of the journal's last complete line (0 when there is none)."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 65_536))
            tail = handle.read().split(b"\n")
    except FileNotFoundError:
        return 0
    for line in reversed(tail):
        try:
            return int(json.loads(line)["seq"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line, or the cut-off first one
    return 0


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")
