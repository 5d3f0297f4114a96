"""Builders of hand-made artifacts for the end-of-day tests: orders.csv rows, checkpoints, journals."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.recorder import ORDER_COLUMNS

DAY = "2026-11-27"
TS = "2026-11-27T10:{:02d}:00.000+05:30"


def order(
    engine: str,
    seq: int,
    symbol: str,
    side: str,
    quantity: int,
    tag: str = "entry",
    price: str = "100.00",
    charges: str = "0.00",
    realised: str = "0.00",
    *,
    status: str = "COMPLETE",
    filled: int | None = None,
    touch: str = "",
    reason: str = "",
    strategy: str | None = None,
    ts: str | None = None,
    order_type: str = "MARKET",
) -> dict[str, object]:
    """One orders.csv row. The charges are all brokerage; `price` is the average fill price. A REJECTED
    row fills nothing; a CANCELLED one fills `filled` (default 0)."""
    if filled is None:
        filled = quantity if status == "COMPLETE" else 0
    value = Decimal(price) * filled
    return {
        "ts_ist": ts or TS.format(seq % 60),
        "engine": engine,
        "strategy": ("" if tag in ("risk_exit", "square_off") else "ema_cross")
        if strategy is None
        else strategy,
        "seq": seq,
        "order_id": f"{engine}-20261127-{seq:06d}",
        "status": status,
        "symbol": symbol,
        "exchange": "NFO",
        "instrument_type": "FUT",
        "product": "MIS",
        "order_type": order_type,
        "validity": "DAY",
        "side": side,
        "quantity": quantity,
        "filled_quantity": filled,
        "lots": 1,
        "limit_price": price if order_type == "LIMIT" else "",
        "trigger_price": "",
        "touch_price": touch,
        "average_price": f"{Decimal(price):.4f}" if filled else "",
        "value": f"{value:.2f}",
        "charges": charges if filled else "0.00",
        "brokerage": charges if filled else "0.00",
        "stt": "0.00",
        "exchange_charges": "0.00",
        "sebi_charges": "0.00",
        "stamp_duty": "0.00",
        "gst": "0.00",
        "dp_charges": "0.00",
        "realised_pnl": realised if filled else "0.00",
        "fills": 1 if filled else 0,
        "tag": tag,
        "reason": reason,
        "placed_ist": ts or TS.format(seq % 60),
        "wall_time": "2026-11-29T01:00:00.000+05:30",
    }


def write_orders(root: Path, rows: list[dict[str, object]]) -> Path:
    path = ArtifactPaths(root).orders
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ORDER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def position(symbol: str, quantity: int, cost_paise: int, last_price_paise: int) -> dict[str, object]:
    return {
        "symbol": symbol,
        "quantity": quantity,
        "cost_paise": cost_paise,
        "last_price_paise": last_price_paise,
    }


def write_checkpoint(root: Path, engine: str, **overrides: object) -> None:
    data: dict[str, object] = {
        "schema": 4,
        "engine": engine,
        "date": DAY,
        "status": "finished",
        "as_of_ist": "2026-11-27T15:29:59.000+05:30",
        "realised_paise": 0,
        "unrealised_paise": 0,
        "charges_paise": 0,
        "positions": [],
        "desk": {"orders": 0, "rejections": 0, "working": []},
        **overrides,
    }
    path = ArtifactPaths(root).checkpoint(engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def fill_event(
    engine: str,
    seq: int,
    ts: str,
    symbol: str,
    side: str,
    levels: list[list[int]],
    realised: int,
    charges: int,
    strategy: str = "ema_cross",
) -> dict[str, Any]:
    return {
        "seq": seq,
        "ts_ist": ts,
        "engine": engine,
        "event": "fill",
        "order_id": f"{engine}-20261127-{seq:06d}",
        "strategy": strategy,
        "symbol": symbol,
        "side": side,
        "status": "COMPLETE",
        "fill_levels": levels,
        "fill_charges_paise": {"brokerage": charges, "total": charges},
        "fill_realised_paise": realised,
        "wall_time": "2026-11-29T01:00:00.000+05:30",
    }


def event(engine: str, seq: int, ts: str, kind: str, **keys: object) -> dict[str, Any]:
    return {"seq": seq, "ts_ist": ts, "engine": engine, "event": kind, **keys, "wall_time": "w"}


def write_journal(root: Path, engine: str, events: list[dict[str, Any]]) -> Path:
    path = ArtifactPaths(root).journal(date.fromisoformat(DAY), engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def write_session(root: Path, **overrides: object) -> dict[str, Any]:
    session: dict[str, Any] = {
        "date": DAY,
        "layout": "multi",
        "started_at": "2026-11-27T09:00:00+05:30",
        "ended_at": "2026-11-27T15:35:00+05:30",
        "ended_by": "close",
        "engines": {"fno": {"service": "fno", "container": "pf-fno", "container_id": "abc", "exit_code": 0}},
        "exit_code": 0,
        **overrides,
    }
    path = ArtifactPaths(root).session_outcome(date.fromisoformat(DAY))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(session))
    return session
