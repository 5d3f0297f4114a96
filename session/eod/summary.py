"""The report's summary for a terminal (`session report`): plain text, fixed-width columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

_COLUMNS = (
    ("net ₹", "net_pnl_rupees"),
    ("realised ₹", "realised_pnl_rupees"),
    ("charges ₹", "charges_rupees"),
    ("unrealised ₹", "unrealised_pnl_rupees"),
    ("orders", "orders_placed"),
    ("rejected", "orders_rejected"),
    ("trades", "trades"),
    ("win rate", "win_rate"),
    ("max DD ₹", "max_drawdown_rupees"),
)


def summary_text(report: Mapping[str, Any], markdown_path: str = "") -> str:
    """The day in a few lines: net P&L, how the day went, one row per engine, the backtest's verdict."""
    total = report["total"]
    lines = [
        f"Paperfleet {report['date']}: net P&L ₹{_money(total['net_pnl_rupees'])} "
        f"(realised {_money(total['realised_pnl_rupees'])} - charges {_money(total['charges_rupees'])} "
        f"+ unrealised {_money(total['unrealised_pnl_rupees'])})",
        *(f"  {note}" for note in report["outcome"]["notes"]),
        "",
    ]
    rows = [
        [
            name,
            engine["status"],
            *(_cell(key, engine[key]) for _, key in _COLUMNS),
            engine["consistency"]["result"],
        ]
        for name, engine in report["engines"].items()
    ]
    rows.append(["total", "", *(_cell(key, total[key]) for _, key in _COLUMNS), ""])
    lines += _columns(["engine", "status", *(title for title, _ in _COLUMNS), "consistency"], rows)
    events = report["events"]["counts"]
    if events:
        lines += ["", "notable events: " + ", ".join(f"{kind} {n}" for kind, n in sorted(events.items()))]
    backtest = report.get("backtest") or {}
    if backtest.get("status") == "ok":
        verdict = (
            "no divergence"
            if not backtest["divergent_orders"]
            else f"{backtest['divergent_orders']} divergent order(s); first: "
            + "; ".join(
                f"{name} {e['first_divergence']['order_id']} ({e['first_divergence']['cause_kind']})"
                for name, e in backtest["engines"].items()
                if e["first_divergence"]
            )
        )
        lines.append(f"backtest: {verdict}")
    elif backtest:
        lines.append(f"backtest: {backtest['status']}: {backtest['detail']}")
    if markdown_path:
        lines += ["", f"full report: {markdown_path}"]
    return "\n".join(lines) + "\n"


def _columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(
            str(c).ljust(w) if i < 2 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key.endswith("_rupees"):
        return _money(value)
    if key == "win_rate":
        return f"{value:.0%}"
    return str(value)


def _money(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"
