"""The day's figures: one pure function from the parsed artifacts to the report's dict.

Everything is summed in int paise and turned into rupee strings ("-1234.50", the CSV convention)
only when the dict is built, so the report repeats the ledger to the paisa. docs/eod-report.md
documents every key; a test holds the two together.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from engines.money import Paise, fmt_rupees
from engines.orders import OrderTag

REPORT_SCHEMA = 1


@dataclass(slots=True)
class Figures:
    """The additive figures of one engine, or of all of them (`combine`)."""

    realised: Paise = 0
    charges: Paise = 0
    unrealised: Paise = 0
    placed: int = 0
    filled: int = 0
    rejected: int = 0
    rejection_reasons: Counter[str] = field(default_factory=Counter)
    trade_pnls: list[Paise] = field(default_factory=list)  # closed trades, net of their charges
    open_trades: int = 0

    @classmethod
    def combine(cls, parts: Iterable[Figures]) -> Figures:
        total = cls()
        for part in parts:
            total.realised += part.realised
            total.charges += part.charges
            total.unrealised += part.unrealised
            total.placed += part.placed
            total.filled += part.filled
            total.rejected += part.rejected
            total.rejection_reasons.update(part.rejection_reasons)
            total.trade_pnls.extend(part.trade_pnls)
            total.open_trades += part.open_trades
        return total

    def to_json(self) -> dict[str, Any]:
        wins = sum(1 for pnl in self.trade_pnls if pnl > 0)
        closed = len(self.trade_pnls)
        return {
            "realised_pnl_rupees": fmt_rupees(self.realised),
            "charges_rupees": fmt_rupees(self.charges),
            "unrealised_pnl_rupees": fmt_rupees(self.unrealised),
            "net_pnl_rupees": fmt_rupees(self.realised - self.charges + self.unrealised),
            "orders_placed": self.placed,
            "orders_filled": self.filled,
            "orders_rejected": self.rejected,
            "rejection_reasons": dict(sorted(self.rejection_reasons.items())),
            "trades": closed,
            "trades_open": self.open_trades,
            "wins": wins,
            "losses": closed - wins,
            "win_rate": round(wins / closed, 4) if closed else None,
        }


def daily_report(
    day: date,
    orders: pd.DataFrame,
    checkpoints: Mapping[str, Mapping[str, Any]],
    session: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The report of `day` (docs/eod-report.md), from orders.csv as `inputs.read_orders` types it,
    the engines' checkpoints by engine name (those of other dates are ignored) and the session
    record (or None). Pure: no I/O, no clock; the caller adds `generated_at`."""
    todays = orders[orders["ts_ist"].str.startswith(day.isoformat())]
    todays = todays.sort_values(["engine", "seq"])
    dated = {name: cp for name, cp in checkpoints.items() if cp["date"] == day.isoformat()}
    names = sorted(set(todays["engine"]) | set(dated) | set(session["engines"] if session else ()))
    engines, figures = {}, []
    for name in names:
        engine_figures, engine_json = _engine(todays[todays["engine"] == name], dated.get(name))
        engines[name] = engine_json
        figures.append(engine_figures)
    return {
        "schema": REPORT_SCHEMA,
        "date": day.isoformat(),
        "session": dict(session) if session is not None else None,
        "engines": engines,
        "total": Figures.combine(figures).to_json(),
    }


def _engine(orders: pd.DataFrame, checkpoint: Mapping[str, Any] | None) -> tuple[Figures, dict[str, Any]]:
    fills = orders[orders["event"] == "fill"]
    rejections = orders[orders["event"] == "reject"]
    open_positions = [p for p in checkpoint["positions"] if p["quantity"]] if checkpoint else []
    trade_pnls, open_trades = trades(fills)
    figures = Figures(
        realised=int(fills["realised_paise"].sum()),
        charges=int(fills["charges_paise"].sum()),
        unrealised=sum(_unrealised(p) for p in open_positions),
        placed=orders["order_id"].nunique(),
        filled=len(fills),
        rejected=len(rejections),
        rejection_reasons=Counter(reason_prefix(r) for r in rejections["reason"]),
        trade_pnls=trade_pnls,
        open_trades=open_trades,
    )
    return figures, {
        "status": checkpoint["status"] if checkpoint else "missing",
        "as_of_ist": checkpoint["as_of_ist"] if checkpoint else None,
        **figures.to_json(),
        "squared_off": _fill_list(fills[fills["tag"] == OrderTag.SQUARE_OFF.value]),
        "risk_exits": _fill_list(fills[fills["tag"] == OrderTag.RISK_EXIT.value]),
        "open_positions": [
            {
                "symbol": p["symbol"],
                "quantity": p["quantity"],
                "last_price_rupees": fmt_rupees(p["last_price_paise"]),
                "unrealised_pnl_rupees": fmt_rupees(_unrealised(p)),
            }
            for p in open_positions
        ],
        "consistency": _consistency(figures, checkpoint, _repeated(orders)),
    }


def trades(fills: pd.DataFrame) -> tuple[list[Paise], int]:
    """Round trips per symbol: (P&L of each closed trade net of charges, trades still open).

    Walking one symbol's fills in seq order, a trade opens when the signed position leaves 0 and
    closes when it returns to 0. A fill that flips through zero closes one trade and opens the next;
    its charges are split between the two by quantity (rounded half up), so the trades' charges add
    up to the day's charges exactly."""
    closed: list[Paise] = []
    still_open = 0
    for _, group in fills.sort_values("seq").groupby("symbol", sort=True):
        position, pnl = 0, 0
        for side, quantity, realised, charges in zip(
            group["side"], group["quantity"], group["realised_paise"], group["charges_paise"], strict=True
        ):
            signed = int(quantity) if side == "BUY" else -int(quantity)
            after = position + signed
            if position and after and (position > 0) != (after > 0):  # flips through zero
                closing_charges = _share(int(charges), abs(position), abs(signed))
                closed.append(pnl + int(realised) - closing_charges)
                pnl = -(int(charges) - closing_charges)
            elif position and not after:  # returns to zero
                closed.append(pnl + int(realised) - int(charges))
                pnl = 0
            else:  # opens, adds to or reduces the trade
                pnl += int(realised) - int(charges)
            position = after
        still_open += 1 if position else 0
    return closed, still_open


def reason_prefix(reason: str) -> str:
    """A rejection reason's first clause, which names the rule ("insufficient margin: required ...")."""
    return re.split(r"[:;]", reason, maxsplit=1)[0].strip() or "(no reason given)"


def _share(amount: Paise, part: int, whole: int) -> Paise:
    return int((Decimal(amount) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _unrealised(position: Mapping[str, Any]) -> Paise:
    # Kite's arithmetic, as engines/portfolio.py books it: quantity x last price - cost of the open quantity.
    return int(position["quantity"]) * int(position["last_price_paise"]) - int(position["cost_paise"])


def _fill_list(fills: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "order_id": row["order_id"],
            "ts_ist": row["ts_ist"],
            "symbol": row["symbol"],
            "side": row["side"],
            "quantity": int(row["quantity"]),
            "price_rupees": fmt_rupees(int(row["price_paise"])),
            "charges_rupees": fmt_rupees(int(row["charges_paise"])),
            "realised_pnl_rupees": fmt_rupees(int(row["realised_paise"])),
        }
        for row in fills.to_dict("records")
    ]


def _repeated(orders: pd.DataFrame) -> list[str]:
    """Order IDs with more than one row: each order has exactly one outcome row, so any repeat is a
    duplicated order (or a row written twice)."""
    counts = orders["order_id"].value_counts()
    return sorted(str(order_id) for order_id in counts[counts > 1].index)


def _consistency(
    figures: Figures, checkpoint: Mapping[str, Any] | None, repeated: list[str]
) -> dict[str, Any]:
    """orders.csv against the checkpoint: both come from the same journalled fills, so any difference means
    rows lost or duplicated; and no order ID may appear twice."""
    from_orders = {
        "realised_pnl_rupees": fmt_rupees(figures.realised),
        "charges_rupees": fmt_rupees(figures.charges),
    }
    if checkpoint is None:
        result = "mismatch" if repeated else "unchecked"
        return {
            "result": result,
            "orders_csv": from_orders,
            "checkpoint": None,
            "repeated_order_ids": repeated,
        }
    from_checkpoint = {
        "realised_pnl_rupees": fmt_rupees(checkpoint["realised_paise"]),
        "charges_rupees": fmt_rupees(checkpoint["charges_paise"]),
    }
    result = "ok" if from_orders == from_checkpoint and not repeated else "mismatch"
    return {
        "result": result,
        "orders_csv": from_orders,
        "checkpoint": from_checkpoint,
        "repeated_order_ids": repeated,
    }
