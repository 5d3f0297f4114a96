"""The day's report as one dict (docs/eod-report.md documents every key; a test holds the two together).

`analyse` is pure: parsed artifacts in, the report and the full-resolution equity curves (for the
charts) out; no I/O, no clock. Amounts are int paise until here and rupee strings ("-1234.50", the
CSV convention) in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from engines.money import Paise, fmt_rupees
from engines.orders import OrderStatus, OrderTag
from session.eod import analytics as an
from session.eod.events import notable_events, outcome
from session.eod.inputs import FILL_COLUMNS, DayInputs, fills_from_journal, fills_from_orders

REPORT_SCHEMA = 2
ACCOUNT = "account"  # the curves' key for all engines together
_WORKING_CHARGES = ("brokerage", "stt", "exchange", "sebi", "stamp", "igst", "cgst", "sgst", "dp")


@dataclass(frozen=True, slots=True)
class Analysis:
    report: dict[str, Any]
    curves: dict[str, pd.DataFrame]  # engine name (and ACCOUNT) -> equity curve, start and end included


def analyse(day: date, inputs: DayInputs) -> Analysis:
    """The report of `day` from its artifacts (checkpoints of other dates are ignored); the caller
    adds `generated_at` and, when it ran one, `backtest`."""
    iso_day = day.isoformat()
    orders = an.todays_orders(inputs.orders, iso_day)
    checkpoints = {n: cp for n, cp in inputs.checkpoints.items() if cp["date"] == iso_day}
    session = inputs.session
    journals = {n: events for n, events in inputs.journals.items() if events}
    names = sorted(
        set(orders["engine"]) | set(checkpoints) | set(session["engines"] if session else ()) | set(journals)
    )
    fills = _fills(names, orders, journals, inputs.single_fills)
    trades, attributed = an.trades(fills)
    orders = orders.assign(group_strategy=an.strategy_of_orders(orders, attributed))
    open_positions = {
        name: [p for p in checkpoints[name]["positions"] if p["quantity"]] if name in checkpoints else []
        for name in names
    }
    unrealised = {(n, p["symbol"]): unrealised_of(p) for n, ps in open_positions.items() for p in ps}

    engines: dict[str, Any] = {}
    curves: dict[str, pd.DataFrame] = {}
    for name in names:
        mine = orders[orders["engine"] == name]
        figures = an.figures(mine, trades[trades["engine"] == name], _sum(unrealised, engine=name))
        checkpoint = checkpoints.get(name)
        curves[name] = an.framed(
            an.equity_curve(fills[fills["engine"] == name]),
            _start(journals.get(name)),
            checkpoint["as_of_ist"] if checkpoint else None,
            figures.net,
            sum(abs(p["quantity"]) * p["last_price_paise"] for p in open_positions[name]),
        )
        engines[name] = {
            "status": checkpoint["status"] if checkpoint else "missing",
            "as_of_ist": checkpoint["as_of_ist"] if checkpoint else None,
            "strategies": sorted(s for s in set(mine["strategy"]) if s),
            **_engine_figures(mine, figures, curves[name]),
            "squared_off": _order_list(mine[mine["tag"] == OrderTag.SQUARE_OFF.value]),
            "risk_exits": _order_list(mine[mine["tag"] == OrderTag.RISK_EXIT.value]),
            "open_positions": [_position(p) for p in open_positions[name]],
            "consistency": _consistency(figures, checkpoint, _repeated(mine)),
        }
    total = an.figures(orders, trades, _sum(unrealised))
    starts = [c["ts_ist"].iloc[0] for c in curves.values() if not c.empty]
    ends = [cp["as_of_ist"] for cp in checkpoints.values()]
    curves[ACCOUNT] = an.framed(
        an.equity_curve(fills),
        min(starts) if starts else None,
        max(ends) if ends else None,
        total.net,
        sum(abs(p["quantity"]) * p["last_price_paise"] for ps in open_positions.values() for p in ps),
    )
    return Analysis(
        {
            "schema": REPORT_SCHEMA,
            "date": iso_day,
            "session": dict(session) if session is not None else None,
            "outcome": outcome(session, names, checkpoints, journals),
            "total": _engine_figures(orders, total, curves[ACCOUNT]),
            "engines": engines,
            "by_strategy": _groups(orders, trades, unrealised, "strategy"),
            "by_symbol": _groups(orders, trades, unrealised, "symbol"),
            "events": notable_events(journals),
        },
        curves,
    )


def _fills(
    names: list[str],
    orders: pd.DataFrame,
    journals: Mapping[str, list[dict[str, Any]]],
    single_fills: Mapping[str, frozenset[str]],
) -> pd.DataFrame:
    """Every engine's executions: from its journal (each fill at its own time; an order of one fill from
    its orders.csv row, which is that fill), else from orders.csv (each order's fills as one, at its end)."""
    parts = []
    for name in names:
        mine = orders[orders["engine"] == name]
        if name in journals:
            parts.append(fills_from_journal(journals[name]))
            mine = mine[mine["order_id"].isin(single_fills.get(name, frozenset()))]
        parts.append(fills_from_orders(mine))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return fills_from_journal([])
    return pd.concat(parts, ignore_index=True)[list(FILL_COLUMNS)].sort_values(
        ["engine", "seq"], kind="stable"
    )


def _start(events: list[dict[str, Any]] | None) -> str | None:
    return str(events[0]["ts_ist"]) if events else None


def unrealised_of(position: Mapping[str, Any]) -> Paise:
    """Kite's arithmetic, as engines/portfolio.py books it: units x last price - cost of the open units."""
    return int(position["quantity"]) * int(position["last_price_paise"]) - int(position["cost_paise"])


def _sum(unrealised: Mapping[tuple[str, str], Paise], engine: str | None = None) -> Paise:
    return sum(v for (name, _), v in unrealised.items() if engine is None or name == engine)


# --- figures as JSON -------------------------------------------------------------------------------


def figures_json(f: an.Figures) -> dict[str, Any]:
    """The keys every row of figures has (an engine, the total, a strategy, a symbol)."""
    stats = f.stats
    return {
        "net_pnl_rupees": fmt_rupees(f.net),
        "realised_pnl_rupees": fmt_rupees(f.realised),
        "charges_rupees": fmt_rupees(f.charges),
        "unrealised_pnl_rupees": fmt_rupees(f.unrealised),
        "turnover_rupees": fmt_rupees(f.turnover),
        "orders_placed": f.placed,
        "orders_filled": f.filled,
        "orders_partly_filled": f.partly_filled,
        "orders_cancelled": f.cancelled,
        "orders_rejected": f.rejected,
        "trades": stats.trades,
        "trades_open": f.trades_open,
        "wins": stats.wins,
        "losses": stats.losses,
        "win_rate": stats.win_rate,
        "average_win_rupees": _rupees_or_none(stats.average_win),
        "average_loss_rupees": _rupees_or_none(stats.average_loss),
        "profit_factor": stats.profit_factor,
        "slippage_rupees": fmt_rupees(f.slippage),
        "slippage_bps": f.slippage_bps,
        "slippage_orders": f.slippage_orders,
    }


def _engine_figures(orders: pd.DataFrame, f: an.Figures, curve: pd.DataFrame) -> dict[str, Any]:
    """An engine's (or the account's) figures: the row keys plus itemised charges, reasons, the
    drawdown and exposure of its equity curve, and the curve sampled every 5 minutes."""
    dd = an.drawdown(curve)
    top = int(curve["exposure_paise"].to_numpy().argmax()) if not curve.empty else None
    sampled = an.sampled(curve)
    return {
        **figures_json(f),
        "charges_itemised": {f"{item}_rupees": fmt_rupees(v) for item, v in f.charge_items.items()},
        "rejection_reasons": an.reasons(orders, OrderStatus.REJECTED),
        "cancellation_reasons": an.reasons(orders, OrderStatus.CANCELLED),
        "max_drawdown_rupees": fmt_rupees(dd.amount),
        "max_drawdown_peak_ist": dd.peak_ist,
        "max_drawdown_at_ist": dd.trough_ist,
        "max_exposure_rupees": fmt_rupees(int(curve["exposure_paise"].iloc[top]) if top is not None else 0),
        "max_exposure_at_ist": str(curve["ts_ist"].iloc[top]) if top is not None else None,
        "equity_curve": [
            {"ts_ist": ts, "net_pnl_rupees": fmt_rupees(int(equity))}
            for ts, equity in zip(sampled["ts_ist"], sampled["equity_paise"], strict=True)
        ],
    }


def _groups(
    orders: pd.DataFrame, trades: pd.DataFrame, unrealised: Mapping[tuple[str, str], Paise], by: str
) -> list[dict[str, Any]]:
    """A row of figures per (engine, strategy) or (engine, symbol), by engine then net P&L (worst first)."""
    held: dict[tuple[str, str], Paise] = dict(unrealised)
    if by == "strategy":  # an open position's unrealised P&L belongs to the strategy of its open trade
        open_trades = trades[~trades["closed"]]
        owner = {(e, s): st for e, s, st in zip(open_trades["engine"], open_trades["symbol"],
                                                 open_trades["strategy"], strict=True)}  # fmt: skip
        held = {}
        for (engine, symbol), amount in unrealised.items():
            key = (engine, owner.get((engine, symbol), ""))
            held[key] = held.get(key, 0) + amount
    order_key = "group_strategy" if by == "strategy" else "symbol"
    groups = an.group_figures(orders, trades, order_key, by, held)
    ranked = sorted(groups.items(), key=lambda kv: (kv[0][0], kv[1].net, kv[0][1]))
    return [{"engine": engine, by: value, **figures_json(f)} for (engine, value), f in ranked]


def _rupees_or_none(paise: Paise | None) -> str | None:
    return None if paise is None else fmt_rupees(paise)


def _order_list(orders: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "order_id": row["order_id"],
            "ts_ist": row["ts_ist"],
            "symbol": row["symbol"],
            "side": row["side"],
            "status": row["status"],
            "filled_quantity": int(row["filled_quantity"]),
            "average_price": row["average_price"] or None,
            "charges_rupees": fmt_rupees(int(row["charges_paise"])),
            "realised_pnl_rupees": fmt_rupees(int(row["realised_paise"])),
        }
        for row in orders.to_dict("records")
    ]


def _position(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "symbol": p["symbol"],
        "quantity": p["quantity"],
        "last_price_rupees": fmt_rupees(p["last_price_paise"]),
        "unrealised_pnl_rupees": fmt_rupees(unrealised_of(p)),
    }


def _repeated(orders: pd.DataFrame) -> list[str]:
    """Order IDs with more than one row: each order has exactly one row, so any repeat is a
    duplicated order (or a row written twice)."""
    counts = orders["order_id"].value_counts()
    return sorted(str(order_id) for order_id in counts[counts > 1].index)


def _consistency(f: an.Figures, checkpoint: Mapping[str, Any] | None, repeated: list[str]) -> dict[str, Any]:
    """orders.csv (plus the fills of orders still working, which have no row yet) against the
    checkpoint: both come from the same journalled fills, so any difference means rows lost or
    duplicated; and no order ID may appear twice."""
    from_orders = {"realised_pnl_rupees": fmt_rupees(f.realised), "charges_rupees": fmt_rupees(f.charges)}
    if checkpoint is None:
        return {
            "result": "mismatch" if repeated else "unchecked",
            "orders_csv": from_orders,
            "working_orders": None,
            "checkpoint": None,
            "repeated_order_ids": repeated,
        }
    working = [w for w in checkpoint.get("desk", {}).get("working", []) if w["filled"]]
    working_realised = sum(int(w["realised"]) for w in working)
    working_charges = sum(int(w["charges"].get(k, 0)) for w in working for k in _WORKING_CHARGES)
    from_checkpoint = {
        "realised_pnl_rupees": fmt_rupees(checkpoint["realised_paise"]),
        "charges_rupees": fmt_rupees(checkpoint["charges_paise"]),
    }
    agree = (f.realised + working_realised, f.charges + working_charges) == (
        checkpoint["realised_paise"],
        checkpoint["charges_paise"],
    )
    return {
        "result": "ok" if agree and not repeated else "mismatch",
        "orders_csv": from_orders,
        "working_orders": {
            "orders": len(working),
            "realised_pnl_rupees": fmt_rupees(working_realised),
            "charges_rupees": fmt_rupees(working_charges),
        },
        "checkpoint": from_checkpoint,
        "repeated_order_ids": repeated,
    }
