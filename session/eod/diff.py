"""The backtest's orders against the paper day's, order by order: a pure function of two orders.csv
frames (as session/eod/inputs.py types them) and what is known about how each was made.

With identical settings over the same market the two make the same orders with the same IDs, so any
difference in an order's status, side, quantity, filled quantity, average price, charges or realised
P&L is a divergence. The first one (by order number) is explained when the cause is known: different
settings (a parameter, the latency), a paper day that stopped early, a fault, a partial fill, a fill
at another time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

COMPARED = (
    "symbol",
    "status",
    "side",
    "quantity",
    "filled_quantity",
    "average_price",
    "charges",
    "realised_pnl",
)
MAX_LISTED = 100  # divergences listed in the report; the counts cover all


@dataclass(frozen=True, slots=True)
class PaperDay:
    """What the report knows about how one engine's paper day went."""

    status: str  # the checkpoint's status, or "missing"
    as_of_ist: str | None
    net_pnl_rupees: str = "0.00"
    faults: tuple[str, ...] = ()  # ts_ist of the journal's fault events
    resumes: tuple[str, ...] = ()  # ts_ist of its resume events


@dataclass(frozen=True, slots=True)
class Divergence:
    engine: str
    order_id: str
    kind: str  # changed, paper_only, backtest_only
    differences: tuple[tuple[str, str, str], ...]  # (column, paper, backtest)
    paper: Mapping[str, Any] | None = field(default=None, repr=False)
    backtest: Mapping[str, Any] | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "order_id": self.order_id,
            "kind": self.kind,
            "symbol": (self.paper or self.backtest or {}).get("symbol", ""),
            "differences": [{"field": f, "paper": p, "backtest": b} for f, p, b in self.differences],
        }


def order_number(order_id: str) -> int:
    """n of `<engine>-<YYYYMMDD>-<n>`: the engine's orders in the order they were placed."""
    tail = order_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def diff_orders(paper: pd.DataFrame, backtest: pd.DataFrame, engine: str) -> list[Divergence]:
    """Every order of `engine` that differs between the two, by order number."""
    mine = _by_id(paper, engine)
    theirs = _by_id(backtest, engine)
    found = []
    for order_id in sorted(set(mine) | set(theirs), key=lambda o: (order_number(o), o)):
        p, b = mine.get(order_id), theirs.get(order_id)
        if p is None or b is None:
            kind = "paper_only" if b is None else "backtest_only"
            found.append(Divergence(engine, order_id, kind, (), p, b))
            continue
        differences = tuple((c, str(p[c]), str(b[c])) for c in COMPARED if str(p[c]) != str(b[c]))
        if differences:
            found.append(Divergence(engine, order_id, "changed", differences, p, b))
    return found


def _by_id(orders: pd.DataFrame, engine: str) -> dict[str, dict[str, Any]]:
    rows = orders[orders["engine"] == engine].to_dict("records")
    return {str(row["order_id"]): {str(k): v for k, v in row.items()} for row in rows}


def settings_diff(paper: Mapping[str, Any], backtest: Mapping[str, Any], prefix: str = "") -> list[str]:
    """`key: paper -> backtest` for every leaf that differs between two config dicts."""
    out = []
    for key in sorted(set(paper) | set(backtest)):
        a, b = paper.get(key), backtest.get(key)
        dotted = f"{prefix}{key}"
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += settings_diff(a, b, dotted + ".")
        elif a != b:
            out.append(f"{dotted}: {a!r} -> {b!r}")
    return out


def relevant(settings: Sequence[str], engine: str) -> list[str]:
    """The differences that can change `engine`'s orders: its own section and everything shared."""
    shared = ("trading.", "execution.", "session.", "market_data.sim.seed", "market_data.sim.tick_interval_s")
    return [s for s in settings if s.startswith((f"engines.{engine}.", *shared))]


def explain(first: Divergence, paper_day: PaperDay, settings: Sequence[str]) -> tuple[str, str]:
    """(cause kind, one sentence) for the first divergence of an engine."""
    latency = [s for s in settings if s.startswith("execution.latency_ms")]
    if latency:
        return "latency", f"the latency differs ({latency[0]})"
    if settings:
        return "settings", "the settings differ: " + "; ".join(settings)
    p, b = first.paper, first.backtest
    when = str((p or b or {}).get("ts_ist", ""))
    if first.kind == "backtest_only" and paper_day.status != "finished":
        upto = f" at {paper_day.as_of_ist[11:19]}" if paper_day.as_of_ist else ""
        return (
            "paper_day_incomplete",
            f"the paper day stopped early (status {paper_day.status}{upto}); "
            "the backtest traded on to the close",
        )
    earlier_faults = [ts for ts in paper_day.faults if not when or ts <= when]
    if earlier_faults:
        return "fault", f"a fault was injected into the paper day at {earlier_faults[0][11:19]}"
    if p is not None and b is not None:
        partial = [r for r in (p, b) if int(r["filled_quantity"]) < int(r["quantity"]) or int(r["fills"]) > 1]
        if partial:
            return (
                "partial_fill",
                f"partial fills: paper filled {p['filled_quantity']} of {p['quantity']} in {p['fills']} "
                f"fill(s), the backtest {b['filled_quantity']} of {b['quantity']} in {b['fills']}",
            )
        if p["ts_ist"] != b["ts_ist"]:
            return (
                "timing",
                f"filled at {str(p['ts_ist'])[11:23]} on paper and {str(b['ts_ist'])[11:23]} in the backtest "
                "(latency, or a tick the other did not see)",
            )
    earlier_resumes = [ts for ts in paper_day.resumes if not when or ts <= when]
    if earlier_resumes:
        return (
            "resumed",
            f"the paper engine was restarted at {earlier_resumes[0][11:19]} and resumed from its journal",
        )
    return "unknown", "no known cause: same settings and a complete paper day; compare the two journals"
