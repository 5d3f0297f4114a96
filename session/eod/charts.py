"""The report's PNG charts: each engine's (and the account's) equity curve over its drawdown, and P&L by
symbol. matplotlib's object API with the Agg canvas (no pyplot state, no display); each file is written
atomically. Floats are fine here: a chart is a picture of the exact figures, never a source of them.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure

from engines.artifacts.files import write_atomic
from session.eod.analytics import drawdown_series

TOP_SYMBOLS = 25
MAX_POINTS = 2000  # above this, an equity chart draws one point per minute
_GREEN, _RED, _BLUE = "#2e7d32", "#c62828", "#1f4e9a"


def chart_paths(day: str, names: Sequence[str]) -> dict[str, Any]:
    """The charts' paths relative to the report's directory, as the report's `charts` key holds them."""
    return {
        "equity": {name: f"{day}/equity-{name}.png" for name in names},
        "pnl_by_symbol": f"{day}/pnl-by-symbol.png",
    }


def write_charts(
    directory: Path, day: str, curves: Mapping[str, pd.DataFrame], by_symbol: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Draw every chart under `directory` (the report's); returns their relative paths (chart_paths)."""
    paths = chart_paths(day, list(curves))
    for name, curve in curves.items():
        _save(_equity(name, day, curve), directory / paths["equity"][name])
    _save(_pnl_by_symbol(day, by_symbol), directory / paths["pnl_by_symbol"])
    return paths


def per_minute(curve: pd.DataFrame) -> tuple[np.ndarray[Any, Any], pd.Series, pd.Series]:
    """Market times (datetime64, IST wall time), net P&L and drawdown in rupees; a curve of more points
    than a chart can show is cut to each minute's last net P&L and deepest drawdown, so the picture keeps
    every low while drawing a few hundred points instead of tens of thousands."""
    fall = drawdown_series(curve)
    frame = pd.DataFrame(
        {"ts": curve["ts_ist"].str.slice(0, 23), "equity": curve["equity_paise"], "fall": fall}
    )
    if len(frame) > MAX_POINTS:
        frame = frame.groupby(frame["ts"].str.slice(0, 16), sort=False).agg(
            ts=("ts", "last"), equity=("equity", "last"), fall=("fall", "min")
        )
    times = np.array(frame["ts"].tolist(), dtype="datetime64[ms]")
    return times, frame["equity"] / 100, frame["fall"] / 100


def _equity(name: str, day: str, curve: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(10, 5.5), dpi=100, layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    times, equity, fall = per_minute(curve)
    top.step(times, equity, where="post", color=_BLUE, linewidth=1.2)
    top.axhline(0, color="grey", linewidth=0.6)
    top.set_title(f"{name}: net P&L through {day} (₹, marked at each fill; last point from the checkpoint)")
    top.set_ylabel("net P&L (₹)")
    bottom.fill_between(times, fall, 0, step="post", color=_RED, alpha=0.35, linewidth=0)
    bottom.set_ylabel("drawdown (₹)")
    bottom.xaxis.set_major_formatter(DateFormatter("%H:%M"))  # type: ignore[no-untyped-call]
    for axes in (top, bottom):
        axes.grid(True, alpha=0.3)
    if curve.empty:
        top.text(0.5, 0.5, "no fills", transform=top.transAxes, ha="center")
    return figure


def _pnl_by_symbol(day: str, rows: Sequence[Mapping[str, Any]]) -> Figure:
    ranked = sorted(rows, key=lambda r: abs(Decimal(r["net_pnl_rupees"])), reverse=True)[:TOP_SYMBOLS]
    ranked.reverse()  # barh draws bottom-up: the largest at the top
    height = max(2.5, 0.32 * len(ranked) + 1.2)
    figure = Figure(figsize=(10, height), dpi=100, layout="constrained")
    axes = figure.subplots()
    values = [float(Decimal(r["net_pnl_rupees"])) for r in ranked]
    labels = [f"{r['engine']}  {r['symbol']}" for r in ranked]
    axes.barh(range(len(ranked)), values, color=[_GREEN if v > 0 else _RED for v in values])
    axes.set_yticks(range(len(ranked)), labels, fontsize=8)
    axes.axvline(0, color="grey", linewidth=0.6)
    axes.set_xlabel("net P&L (₹): realised - charges + unrealised")
    more = f" (top {TOP_SYMBOLS} of {len(rows)} by size)" if len(rows) > TOP_SYMBOLS else ""
    axes.set_title(f"P&L by symbol, {day}{more}")
    axes.grid(True, axis="x", alpha=0.3)
    if not ranked:
        axes.text(0.5, 0.5, "no orders", transform=axes.transAxes, ha="center")
    return figure


def _save(figure: Figure, path: Path) -> None:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    write_atomic(path, buffer.getvalue(), durable=False)
