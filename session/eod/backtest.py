"""The daily backtest: the day replayed through the same strategies, risk and execution model, and its
orders diffed against the paper day's (session/eod/diff.py).

    config + the day's recording (or the simulator) -> engines.backtest.backtest_day -> <out_dir>/
    -> its orders.csv against the day's orders.csv -> the report's `backtest` key

The replay writes only under its own directory (artifacts/backtest/<date>/ for the EOD job): it never
appends to the day's orders.csv and never reads or writes the day's checkpoints. A backtest that cannot
run (no config, a live-feed day without a recording) or fails is reported, never fatal: the day's
report matters more.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from engines.artifacts.layout import ArtifactPaths
from engines.backtest import backtest_day
from engines.config import Config, EngineName, FeedKind
from engines.errors import PaperfleetError
from engines.money import fmt_rupees
from session.eod.diff import MAX_LISTED, PaperDay, diff_orders, explain, relevant
from session.eod.inputs import read_checkpoint, read_orders

log = logging.getLogger("eod")


NO_BACKTEST: dict[str, Any] = {  # the `backtest` key of a report whose backtest did not run
    "status": "skipped",
    "detail": "",
    "source": None,
    "directory": None,
    "wall_s": None,
    "settings_differences": [],
    "engines": {},
    "divergent_orders": 0,
    "divergences": [],
}


class BacktestUnavailable(PaperfleetError):
    """The backtest cannot run here (the message says why); reported as skipped."""


def backtest_dir(paths: ArtifactPaths, day: date) -> Path:
    return paths.root / "backtest" / day.isoformat()


def recording_of(paths: ArtifactPaths, day: date) -> Path | None:
    """The artifacts directory to replay `day` from (engines.backtest's `recording`): `paths.root` when
    it holds the day's recorded ticks (market/<date>/ticks/), else None (the simulator)."""
    ticks = paths.market(day) / "ticks"
    return paths.root if ticks.is_dir() and any(ticks.rglob("*.parquet")) else None


def run_backtest(
    config: Config,
    day: date,
    out_dir: Path,
    engines: Sequence[EngineName] | None = None,
    recording: Path | None = None,
) -> str:
    """Replay `day` into `out_dir` with engines.backtest (which clears an earlier backtest there and refuses
    any other non-empty directory); returns the market it ran over: `recording` or `simulator`."""
    if recording is None and config.market_data.feed is not FeedKind.SIM:
        raise BacktestUnavailable(
            f"no recording of {day} to replay (market/{day}/ticks/), and the day's feed is not the simulator"
        )
    backtest_day(config, day, out_dir, engines=engines, recording=recording)
    return "recording" if recording is not None else "simulator"


def compare(
    paper_orders: Any,
    out_dir: Path,
    day: date,
    engines: Sequence[str],
    paper_days: Mapping[str, PaperDay],
    settings: Sequence[str],
) -> dict[str, Any]:
    """The `backtest` keys that compare: per engine and the listed divergences, from the backtest's
    artifacts in `out_dir` against the paper day's orders (inputs.read_orders' frame, the day's rows)."""
    iso_day = day.isoformat()
    backtest_orders = read_orders(ArtifactPaths(out_dir).orders)
    backtest_orders = backtest_orders[backtest_orders["ts_ist"].str.startswith(iso_day)]
    per_engine: dict[str, Any] = {}
    listed: list[dict[str, Any]] = []
    total = 0
    for name in engines:
        divergences = diff_orders(paper_orders, backtest_orders, name)
        total += len(divergences)
        first = None
        if divergences:
            kind, cause = explain(divergences[0], paper_days[name], relevant(settings, name))
            first = {**divergences[0].to_json(), "cause_kind": kind, "cause": cause}
        mine = paper_orders[paper_orders["engine"] == name]
        theirs = backtest_orders[backtest_orders["engine"] == name]
        per_engine[name] = {
            "paper_orders": len(mine),
            "backtest_orders": len(theirs),
            "divergent_orders": len(divergences),
            "paper_net_pnl_rupees": paper_days[name].net_pnl_rupees,
            "backtest_net_pnl_rupees": fmt_rupees(
                _net(theirs, read_checkpoint(ArtifactPaths(out_dir).checkpoint(name)), iso_day)
            ),
            "first_divergence": first,
        }
        listed += [d.to_json() for d in divergences[: max(0, MAX_LISTED - len(listed))]]
    return {"engines": per_engine, "divergent_orders": total, "divergences": listed}


def _net(orders: Any, checkpoint: Mapping[str, Any] | None, day: str) -> int:
    """realised - charges of the rows, + the checkpoint's unrealised when it is of `day`."""
    net = int(orders["realised_paise"].sum()) - int(orders["charges_paise"].sum())
    if checkpoint is not None and checkpoint["date"] == day:
        net += sum(
            int(p["quantity"]) * int(p["last_price_paise"]) - int(p["cost_paise"])
            for p in checkpoint["positions"]
            if p["quantity"]
        )
    return net


def daily_backtest(
    paths: ArtifactPaths,
    day: date,
    config: Config | None,
    why_no_config: str,
    report: Mapping[str, Any],
    paper_orders: Any,
    paper_days: Mapping[str, PaperDay],
) -> dict[str, Any]:
    """The EOD job's step: replay the day's engines (those of the report enabled in the config) under
    artifacts/backtest/<date>/ and compare; returns the report's `backtest` key."""
    out_dir = backtest_dir(paths, day)
    base = NO_BACKTEST
    if config is None:
        return {**base, "detail": f"no config to replay the day with: {why_no_config}"}
    if not config.eod.backtest:
        return {**base, "status": "off", "detail": "turned off (eod.backtest: false in the config)"}
    enabled = {e.value for e in config.engines.enabled()}
    names = [n for n in report["engines"] if n in enabled]
    if not names:
        return {**base, "detail": "none of the day's engines is enabled in the config"}
    began = time.monotonic()
    logging.getLogger("backtest").setLevel(logging.WARNING)  # its progress lines would bury the job's
    try:
        source = run_backtest(config, day, out_dir, [EngineName(n) for n in names], recording_of(paths, day))
        compared = compare(paper_orders, out_dir, day, names, paper_days, [])
    except BacktestUnavailable as exc:
        return {**base, "detail": str(exc)}
    except Exception as exc:  # a failed replay must not cost the day's report; the log keeps the traceback
        log.exception("the daily backtest failed")
        return {**base, "status": "failed", "detail": f"{type(exc).__name__}: {exc}"}
    return {
        **base,
        **compared,
        "status": "ok",
        "detail": f"replayed {', '.join(names)} over the {source}",
        "source": source,
        "directory": str(out_dir.relative_to(paths.root)),
        "wall_s": round(time.monotonic() - began, 2),
    }


def config_dict(config: Config) -> dict[str, Any]:
    """The settings that decide the orders, as plain data (paths and the speed do not)."""
    data: dict[str, Any] = config.model_dump(mode="json", exclude={"artifacts_dir", "secrets_dir", "eod"})
    data.get("market_data", {}).get("sim", {}).pop("speed", None)
    return data
