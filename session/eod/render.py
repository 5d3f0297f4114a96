"""The Markdown face of the daily report, rendered from the report's dict so the two never disagree."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

_FIGURE_COLUMNS = (
    ("realised (₹)", "realised_pnl_rupees"),
    ("charges (₹)", "charges_rupees"),
    ("unrealised (₹)", "unrealised_pnl_rupees"),
    ("net (₹)", "net_pnl_rupees"),
    ("orders", "orders_placed"),
    ("filled", "orders_filled"),
    ("rejected", "orders_rejected"),
    ("trades", "trades"),
    ("wins", "wins"),
    ("losses", "losses"),
    ("win rate", "win_rate"),
)
_FILL_COLUMNS = (
    ("time (IST)", "ts_ist"),
    ("symbol", "symbol"),
    ("side", "side"),
    ("quantity", "quantity"),
    ("price (₹)", "price_rupees"),
    ("charges (₹)", "charges_rupees"),
    ("realised (₹)", "realised_pnl_rupees"),
)


def render_markdown(report: dict[str, Any]) -> str:
    """The report for people: session outcome, one table of figures, then each engine's detail."""
    lines = [f"# Paperfleet daily report: {report['date']}", "", "## Session", ""]
    lines += _session(report["session"], report["date"])
    lines += ["", "## Figures", ""]
    lines += _figures(report["engines"], report["total"])
    for name, engine in report["engines"].items():
        lines += ["", f"## {name}", ""]
        lines += _engine(engine)
    return "\n".join(lines) + "\n"


def _session(session: dict[str, Any] | None, day: str) -> list[str]:
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
    return lines + _table(["engine", "service", "container", "exit code"], rows)


def _figures(engines: dict[str, Any], total: dict[str, Any]) -> list[str]:
    header = ["engine", "status", *(title for title, _ in _FIGURE_COLUMNS), "consistency"]
    rows = [
        [name, e["status"], *(_cell(key, e[key]) for _, key in _FIGURE_COLUMNS), e["consistency"]["result"]]
        for name, e in engines.items()
    ]
    rows.append(["**total**", "", *(_cell(key, total[key]) for _, key in _FIGURE_COLUMNS), ""])
    return _table(header, rows)


def _engine(engine: dict[str, Any]) -> list[str]:
    consistency = engine["consistency"]
    if consistency["result"] == "unchecked":
        lines = [
            "Status **missing**: no checkpoint for this date; unrealised P&L and open positions unknown."
        ]
    else:
        lines = [f"Status **{engine['status']}** as of {engine['as_of_ist']}; orders.csv and the checkpoint "]
        lines[0] += "agree." if consistency["result"] == "ok" else "**disagree**:"
    if consistency["result"] == "mismatch":
        csv, checkpoint = consistency["orders_csv"], consistency["checkpoint"]
        lines.append(
            f"orders.csv gives realised {csv['realised_pnl_rupees']} and charges "
            f"{csv['charges_rupees']}, the checkpoint {checkpoint['realised_pnl_rupees']} and "
            f"{checkpoint['charges_rupees']}."
        )
    lines += ["", "### Squared off", "", *_fills(engine["squared_off"])]
    lines += ["", "### Risk exits", "", *_fills(engine["risk_exits"])]
    lines += ["", "### Open at stop", ""]
    rows = [
        [
            p["symbol"],
            str(p["quantity"]),
            _rupees(p["last_price_rupees"]),
            _rupees(p["unrealised_pnl_rupees"]),
        ]
        for p in engine["open_positions"]
    ]
    lines += _table(["symbol", "quantity", "last price (₹)", "unrealised (₹)"], rows) if rows else ["None."]
    lines += ["", "### Rejections", ""]
    reasons = [[reason, str(count)] for reason, count in engine["rejection_reasons"].items()]
    lines += _table(["reason", "count"], reasons) if reasons else ["None."]
    return lines


def _fills(fills: list[dict[str, Any]]) -> list[str]:
    if not fills:
        return ["None."]
    return _table(
        [title for title, _ in _FILL_COLUMNS], [[_cell(k, f[k]) for _, k in _FILL_COLUMNS] for f in fills]
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(row) for row in rows)]


def _cell(key: str, value: Any) -> str:
    if key.endswith("_rupees"):
        return _rupees(value)
    if key == "ts_ist":
        return str(value)[11:19]  # the date is the report's; HH:MM:SS is what a reader scans for
    if key == "win_rate":
        return "n/a" if value is None else f"{value:.0%}"
    return _text(value)


def _rupees(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"


def _text(value: Any) -> str:
    return "n/a" if value is None else str(value)
