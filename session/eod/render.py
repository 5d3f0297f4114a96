"""The Markdown face of the daily report, rendered from the report's dict so the two never disagree.

Order: the summary (how the day went, one table of engines, the account's curve), the session, each
engine's figures and tables, P&L by symbol, the notable events, the backtest. Amounts are rupees with
thousands separators; times are HH:MM:SS of the report's date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from session.eod.backtest_render import backtest_lines

TOP_ROWS = 10  # per-symbol rows shown per engine (the JSON has them all)
_SUMMARY_COLUMNS = (
    ("net (₹)", "net_pnl_rupees"),
    ("realised (₹)", "realised_pnl_rupees"),
    ("charges (₹)", "charges_rupees"),
    ("unrealised (₹)", "unrealised_pnl_rupees"),
    ("orders", "orders_placed"),
    ("filled", "orders_filled"),
    ("rejected", "orders_rejected"),
    ("trades", "trades"),
    ("win rate", "win_rate"),
    ("profit factor", "profit_factor"),
    ("max drawdown (₹)", "max_drawdown_rupees"),
)
_GROUP_COLUMNS = (
    ("net (₹)", "net_pnl_rupees"),
    ("realised (₹)", "realised_pnl_rupees"),
    ("charges (₹)", "charges_rupees"),
    ("unrealised (₹)", "unrealised_pnl_rupees"),
    ("turnover (₹)", "turnover_rupees"),
    ("orders", "orders_placed"),
    ("rejected", "orders_rejected"),
    ("trades", "trades"),
    ("open", "trades_open"),
    ("win rate", "win_rate"),
    ("avg win (₹)", "average_win_rupees"),
    ("avg loss (₹)", "average_loss_rupees"),
    ("profit factor", "profit_factor"),
    ("slippage (₹)", "slippage_rupees"),
)
_ORDER_COLUMNS = (
    ("time", "ts_ist"),
    ("symbol", "symbol"),
    ("side", "side"),
    ("status", "status"),
    ("filled", "filled_quantity"),
    ("avg price (₹)", "average_price"),
    ("charges (₹)", "charges_rupees"),
    ("realised (₹)", "realised_pnl_rupees"),
)
_CHARGE_NAMES = (
    ("brokerage", "brokerage_rupees"),
    ("STT", "stt_rupees"),
    ("exchange", "exchange_charges_rupees"),
    ("SEBI", "sebi_charges_rupees"),
    ("stamp duty", "stamp_duty_rupees"),
    ("GST", "gst_rupees"),
    ("DP", "dp_charges_rupees"),
)


def render_markdown(report: Mapping[str, Any]) -> str:
    """The report for people."""
    day = report["date"]
    lines = [f"# Paperfleet daily report: {day}", "", "## Summary", ""]
    lines += _summary(report)
    lines += ["", "## Session", ""]
    lines += _session(report["session"], day)
    for name, engine in report["engines"].items():
        lines += ["", f"## Engine {name}", ""]
        lines += _engine(name, engine, report)
    lines += ["", "## P&L by symbol", ""]
    lines += _image(report, "pnl_by_symbol", None, "P&L by symbol")
    lines += ["", "## Notable events", ""]
    lines += _events(report)
    lines += ["", "## Backtest", ""]
    lines += backtest_lines(report.get("backtest"))
    return "\n".join(lines) + "\n"


def _summary(report: Mapping[str, Any]) -> list[str]:
    total, outcome = report["total"], report["outcome"]
    engines = report["engines"]
    lines = [
        f"Net P&L **₹{money(total['net_pnl_rupees'])}** across {len(engines)} engine(s) = realised "
        f"{money(total['realised_pnl_rupees'])} - charges {money(total['charges_rupees'])} + unrealised "
        f"{money(total['unrealised_pnl_rupees'])}. {total['orders_placed']} orders "
        f"({total['orders_filled']} filled, {total['orders_rejected']} rejected, "
        f"{total['orders_cancelled']} cancelled), {total['trades']} closed trades, win rate "
        f"{_cell('win_rate', total['win_rate'])}, max drawdown ₹{money(total['max_drawdown_rupees'])}"
        + (f" at {_time(total['max_drawdown_at_ist'])}." if total["max_drawdown_at_ist"] else "."),
        "",
        *(f"- {note}" for note in outcome["notes"]),
        "",
    ]
    header = ["engine", "status", *(title for title, _ in _SUMMARY_COLUMNS), "consistency"]
    rows = [
        [name, e["status"], *(_cell(k, e[k]) for _, k in _SUMMARY_COLUMNS), e["consistency"]["result"]]
        for name, e in engines.items()
    ]
    rows.append(["**total**", "", *(_cell(k, total[k]) for _, k in _SUMMARY_COLUMNS), ""])
    lines += table(header, rows)
    lines += ["", *_image(report, "equity", "account", "Account net P&L and drawdown")]
    return lines


def _session(session: Mapping[str, Any] | None, day: str) -> list[str]:
    if session is None:
        return [
            f"No session record (sessions/{day}.json): the engines ran outside the session controller, "
            "so there are no container exit codes to report."
        ]
    lines = [
        f"The session controller ran the day in the `{session['layout']}` layout from "
        f"{session['started_at']} to {session['ended_at']}; it ended by **{session['ended_by']}** "
        f"with exit code {session['exit_code']}.",
        "",
    ]
    rows = [
        [name, entry.get("service", ""), entry.get("container", ""), _text(entry.get("exit_code"))]
        for name, entry in sorted(session["engines"].items())
    ]
    return lines + table(["engine", "service", "container", "exit code"], rows)


def _engine(name: str, engine: Mapping[str, Any], report: Mapping[str, Any]) -> list[str]:
    lines = [*_status(engine), ""]
    lines.append(
        f"Net P&L **₹{money(engine['net_pnl_rupees'])}** = realised {money(engine['realised_pnl_rupees'])} "
        f"- charges {money(engine['charges_rupees'])} + unrealised {money(engine['unrealised_pnl_rupees'])}."
    )
    items = engine["charges_itemised"]
    lines += [
        "",
        "Charges ₹" + money(engine["charges_rupees"]) + ": "
        + ", ".join(f"{title} {money(items[key])}" for title, key in _CHARGE_NAMES) + ".",
        "",
    ]  # fmt: skip
    lines += table(["figure", "value"], _figure_rows(engine))
    lines += ["", *_image(report, "equity", name, f"{name} net P&L and drawdown")]
    strategies = [row for row in report["by_strategy"] if row["engine"] == name]
    lines += ["", "### By strategy", ""]
    lines += _group_table("strategy", strategies) if strategies else ["None."]
    symbols = [row for row in report["by_symbol"] if row["engine"] == name]
    lines += ["", "### By symbol", ""]
    if symbols:
        ranked = sorted(symbols, key=lambda r: abs(Decimal(r["net_pnl_rupees"])), reverse=True)
        lines += _group_table("symbol", ranked[:TOP_ROWS])
        if len(ranked) > TOP_ROWS:
            lines += ["", f"The {TOP_ROWS} largest by net P&L of {len(ranked)} symbols; the JSON lists all."]
    else:
        lines += ["None."]
    lines += ["", "### Squared off", "", *_orders(engine["squared_off"])]
    lines += ["", "### Risk exits", "", *_orders(engine["risk_exits"])]
    lines += ["", "### Open at stop", ""]
    rows = [
        [p["symbol"], str(p["quantity"]), money(p["last_price_rupees"]), money(p["unrealised_pnl_rupees"])]
        for p in engine["open_positions"]
    ]
    lines += table(["symbol", "quantity", "last price (₹)", "unrealised (₹)"], rows) if rows else ["None."]
    return lines


def _status(engine: Mapping[str, Any]) -> list[str]:
    consistency = engine["consistency"]
    if consistency["result"] == "unchecked":
        return ["Status **missing**: no checkpoint for this date; unrealised P&L and open positions unknown."]
    line = f"Status **{engine['status']}** as of {engine['as_of_ist']}; orders.csv and the checkpoint "
    if consistency["result"] == "ok":
        return [line + "agree."]
    lines = [line + "**disagree**:"]
    csv, checkpoint = consistency["orders_csv"], consistency["checkpoint"]
    if checkpoint is not None:
        lines.append(
            f"orders.csv gives realised {csv['realised_pnl_rupees']} and charges "
            f"{csv['charges_rupees']}, the checkpoint {checkpoint['realised_pnl_rupees']} and "
            f"{checkpoint['charges_rupees']}."
        )
    if consistency["repeated_order_ids"]:
        lines.append(
            "Order IDs with more than one row: " + ", ".join(consistency["repeated_order_ids"]) + "."
        )
    return lines


def _figure_rows(e: Mapping[str, Any]) -> list[list[str]]:
    drawdown = money(e["max_drawdown_rupees"])
    if e["max_drawdown_at_ist"]:
        drawdown += f" (peak {_time(e['max_drawdown_peak_ist'])}, trough {_time(e['max_drawdown_at_ist'])})"
    exposure = money(e["max_exposure_rupees"])
    if e["max_exposure_at_ist"]:
        exposure += f" at {_time(e['max_exposure_at_ist'])}"
    slippage = f"{money(e['slippage_rupees'])} over {e['slippage_orders']} orders"
    if e["slippage_bps"] is not None:
        slippage += f" ({e['slippage_bps']:.2f} bp of their value at the touch)"
    return [
        ["orders", f"{e['orders_placed']} ({e['orders_filled']} filled, {e['orders_partly_filled']} partly "
                   f"filled, {e['orders_cancelled']} cancelled, {e['orders_rejected']} rejected)"],
        ["trades", f"{e['trades']} closed ({e['wins']} won, {e['losses']} lost), {e['trades_open']} open"],
        ["win rate", _cell("win_rate", e["win_rate"])],
        ["average win / loss (₹)", f"{_cell('x_rupees', e['average_win_rupees'])} / "
                                   f"{_cell('x_rupees', e['average_loss_rupees'])}"],
        ["profit factor", _text(e["profit_factor"])],
        ["max drawdown (₹)", drawdown],
        ["max exposure (₹)", exposure],
        ["turnover (₹)", money(e["turnover_rupees"])],
        ["slippage against the touch (₹)", slippage],
    ]  # fmt: skip


def _group_table(key: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    header = [key, *(title for title, _ in _GROUP_COLUMNS)]
    body = [[_text(row[key]) or "(engine)", *(_cell(k, row[k]) for _, k in _GROUP_COLUMNS)] for row in rows]
    return table(header, body)


def _orders(orders: Sequence[Mapping[str, Any]]) -> list[str]:
    if not orders:
        return ["None."]
    return table(
        [title for title, _ in _ORDER_COLUMNS], [[_cell(k, o[k]) for _, k in _ORDER_COLUMNS] for o in orders]
    )


def _events(report: Mapping[str, Any]) -> list[str]:
    events = report["events"]
    lines: list[str] = []
    if events["items"]:
        counts = ", ".join(f"{kind} {count}" for kind, count in sorted(events["counts"].items()))
        lines += [f"From the journals ({counts}):", ""]
        rows = [[_time(e["ts_ist"]), e["engine"], e["event"], e["detail"]] for e in events["items"]]
        lines += table(["time", "engine", "event", "detail"], rows)
        if events["omitted"]:
            lines += ["", f"{events['omitted']} more not shown (the JSON's `events.counts` counts them all)."]
    else:
        lines += ["No risk stops, restarts, faults or feed events in the journals."]
    for title, key in (("Rejections", "rejection_reasons"), ("Cancellations", "cancellation_reasons")):
        rows = [
            [name, reason, str(count)]
            for name, engine in report["engines"].items()
            for reason, count in engine[key].items()
        ]
        lines += ["", f"### {title}", ""]
        lines += table(["engine", "reason", "orders"], rows) if rows else ["None."]
    return lines


def _image(report: Mapping[str, Any], kind: str, name: str | None, alt: str) -> list[str]:
    charts = report.get("charts")
    if not charts:
        return ["(No charts: see the job's log for why they could not be drawn.)"]
    path = charts[kind] if name is None else charts[kind].get(name)
    return [f"![{alt}]({path})"] if path else []


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(row) for row in rows)]


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key.endswith("_rupees"):
        return money(value)
    if key.endswith("_ist"):
        return _time(value)
    if key == "win_rate":
        return f"{value:.0%}"
    return _text(value)


def money(amount: str) -> str:
    """A rupee string with thousands separators: "-1234.50" -> "-1,234.50"."""
    return f"{Decimal(amount):,.2f}"


def _time(ts: str | None) -> str:
    return "n/a" if ts is None else str(ts)[11:19]  # the date is the report's


def _text(value: Any) -> str:
    return "n/a" if value is None else str(value)
