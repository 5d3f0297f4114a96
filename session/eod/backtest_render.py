"""The Markdown of the report's `backtest` key: how the replay went and where it first left the paper day."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def backtest_lines(backtest: Mapping[str, Any] | None) -> list[str]:
    if backtest is None:
        return ["Not run."]
    if backtest["status"] != "ok":
        return [f"**{backtest['status']}**: {backtest['detail']}."]
    took = f" in {backtest['wall_s']} s" if backtest["wall_s"] is not None else ""
    where = (
        f" (its artifacts: `{backtest['directory']}/`)" if backtest["directory"] not in (None, ".") else ""
    )
    detail = backtest["detail"][:1].upper() + backtest["detail"][1:]
    lines = [
        f"{detail}{took}{where}. Orders compared with the paper day's one by one: status, side, quantity, "
        "filled quantity, average price, charges, realised P&L.",
        "",
    ]
    if backtest["settings_differences"]:
        lines += ["Settings that differ from the paper day's:", ""]
        lines += [f"- `{s}`" for s in backtest["settings_differences"]] + [""]
    header = ["engine", "paper orders", "backtest orders", "divergent", "paper net (₹)", "backtest net (₹)"]
    rows = [
        [
            name,
            str(e["paper_orders"]),
            str(e["backtest_orders"]),
            str(e["divergent_orders"]),
            _money(e["paper_net_pnl_rupees"]),
            _money(e["backtest_net_pnl_rupees"]),
        ]
        for name, e in backtest["engines"].items()
    ]
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("")
    if not backtest["divergent_orders"]:
        lines.append("**No divergence**: the backtest made every order of the paper day, and nothing else.")
        return lines
    lines += [f"**{backtest['divergent_orders']} divergent order(s).** The first of each engine:", ""]
    for name, e in backtest["engines"].items():
        first = e["first_divergence"]
        if first is None:
            continue
        lines.append(f"- **{name}** `{first['order_id']}` ({first['symbol']}): {describe(first)}. "
                     f"Cause ({first['cause_kind']}): {first['cause']}.")  # fmt: skip
    return lines


def describe(divergence: Mapping[str, Any]) -> str:
    if divergence["kind"] == "paper_only":
        return "only the paper day has it"
    if divergence["kind"] == "backtest_only":
        return "only the backtest has it"
    return ", ".join(f"{d['field']} {d['paper'] or '(empty)'} -> {d['backtest'] or '(empty)'}"
                     for d in divergence["differences"])  # fmt: skip


def _money(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"
