"""Running `session backtest`: every (parameter set, day) as a joblib task across the cores, a tqdm
progress bar as they finish, each run's daily report (the EOD job's, on the run's own artifacts, its
`backtest` key comparing it with the paper day when there is one), then a comparison across the sets.

    runs -> joblib workers: backtest day -> its report -> a summary -> comparison.json / .md
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from joblib import Parallel, delayed
from tqdm import tqdm

from engines.artifacts.files import write_atomic, write_json_atomic
from engines.artifacts.layout import ArtifactPaths
from engines.config import load_config
from engines.money import fmt_rupees
from session.backtest.plan import Run
from session.eod.analytics import todays_orders
from session.eod.backtest import NO_BACKTEST, compare, config_dict, recording_of, run_backtest
from session.eod.diff import PaperDay, settings_diff
from session.eod.inputs import read_checkpoint, read_orders
from session.eod.render import table

log = logging.getLogger("session")


@dataclass(frozen=True, slots=True)
class Outcome:
    run: Run
    summary: dict[str, Any]  # the run's report figures the comparison needs, or {"error": ...}
    pid: int = 0  # the worker process that ran it
    cpu_s: float = 0.0  # the CPU time it took in that process


def run_all(runs: Sequence[Run], jobs: int) -> list[Outcome]:
    """Every run in parallel (joblib, `jobs` processes; -1: one per core), with a progress bar on stderr."""
    results: list[Outcome] = []
    tasks = Parallel(n_jobs=jobs, return_as="generator_unordered")(delayed(run_one)(run) for run in runs)
    with tqdm(total=len(runs), desc="backtests", unit="run", dynamic_ncols=True) as bar:
        for outcome in tasks:
            results.append(outcome)
            bar.set_postfix_str(f"{outcome.run.param_set.name} {outcome.run.day}", refresh=False)
            bar.update()
    return sorted(results, key=lambda o: (o.run.param_set.name, o.run.day))


def run_one(run: Run) -> Outcome:
    """One backtest and its report, in a worker process (quiet: the progress bar is the parent's)."""
    from session.eod.__main__ import write_report

    for name in ("", "backtest"):
        logging.getLogger(name).setLevel(logging.ERROR)  # the engines' warnings are in each run's report
    began = time.process_time()
    try:
        config = run.config()
        source = run_backtest(
            config, run.day, run.out_dir, run.engines, recording_of(ArtifactPaths(run.paper_root), run.day)
        )
        paths = ArtifactPaths(run.out_dir)
        report_path = write_report(paths, run.day, backtest=_against_paper(run, config_dict(config)))
        report = json.loads(report_path.read_text())
    except Exception as exc:  # one bad run must not sink the others: the comparison shows it
        return Outcome(
            run, {"error": f"{type(exc).__name__}: {exc}"}, os.getpid(), time.process_time() - began
        )
    summary = {"source": source, "report": str(report_path.with_suffix(".md")), **_summary(report)}
    return Outcome(run, summary, os.getpid(), time.process_time() - began)


def _against_paper(run: Run, settings: dict[str, Any]) -> dict[str, Any]:
    """The run's `backtest` key: its orders against the paper day's, when the artifacts hold that day."""
    paper = ArtifactPaths(run.paper_root)
    orders = todays_orders(read_orders(paper.orders), run.day.isoformat())
    engines = sorted(set(orders["engine"]) & {e.value for e in (run.engines or _enabled(run))})
    if not engines:
        return {**NO_BACKTEST, "detail": f"no paper day of {run.day} in {run.paper_root} to compare with"}
    paper_config = load_config(run.config_path, {"market_data.sim.date": run.day})
    paper_days = {}
    for name in engines:
        checkpoint = read_checkpoint(paper.checkpoint(name))
        dated = checkpoint if checkpoint and checkpoint["date"] == run.day.isoformat() else None
        mine = orders[orders["engine"] == name]
        net = int(mine["realised_paise"].sum()) - int(mine["charges_paise"].sum())
        if dated:
            net += int(dated["unrealised_paise"])
        status, as_of = (dated["status"], dated["as_of_ist"]) if dated else ("missing", None)
        paper_days[name] = PaperDay(status, as_of, fmt_rupees(net))
    differences = settings_diff(config_dict(paper_config), settings)
    return {
        **NO_BACKTEST,
        **compare(orders, run.out_dir, run.day, engines, paper_days, differences),
        "status": "ok",
        "detail": f"this run ({run.param_set.label()}) against the paper day in {run.paper_root}",
        "source": "recording" if recording_of(paper, run.day) else "simulator",
        "directory": ".",
        "settings_differences": differences,
    }


def _enabled(run: Run) -> Sequence[Any]:
    return run.config().engines.enabled()


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    total = report["total"]
    keys = ("net_pnl_rupees", "charges_rupees", "orders_placed", "trades", "wins", "max_drawdown_rupees")
    backtest = report["backtest"]
    return {
        **{key: total[key] for key in keys},
        "engines": {name: e["net_pnl_rupees"] for name, e in report["engines"].items()},
        "divergent_orders": backtest["divergent_orders"] if backtest["status"] == "ok" else None,
    }


def comparison(outcomes: Sequence[Outcome], days: Sequence[date]) -> dict[str, Any]:
    """Per parameter set, its days added up; and every run's net P&L. Money summed in paise."""
    sets = []
    for name in sorted({o.run.param_set.name for o in outcomes}):
        mine = [o for o in outcomes if o.run.param_set.name == name]
        done = [o.summary for o in mine if "error" not in o.summary]
        nets = [_paise(s["net_pnl_rupees"]) for s in done]
        trades, wins = sum(s["trades"] for s in done), sum(s["wins"] for s in done)
        sets.append(
            {
                "name": name,
                "overrides": mine[0].run.param_set.label(),
                "days": len(done),
                "failed_days": len(mine) - len(done),
                "net_pnl_rupees": fmt_rupees(sum(nets)),
                "mean_day_rupees": fmt_rupees(round(sum(nets) / len(nets))) if nets else None,
                "best_day_rupees": fmt_rupees(max(nets)) if nets else None,
                "worst_day_rupees": fmt_rupees(min(nets)) if nets else None,
                "charges_rupees": fmt_rupees(sum(_paise(s["charges_rupees"]) for s in done)),
                "worst_drawdown_rupees": fmt_rupees(
                    max((_paise(s["max_drawdown_rupees"]) for s in done), default=0)
                ),
                "orders": sum(s["orders_placed"] for s in done),
                "trades": trades,
                "win_rate": round(wins / trades, 4) if trades else None,
            }
        )
    runs = [
        {
            "set": o.run.param_set.name,
            "date": o.run.day.isoformat(),
            "directory": str(o.run.out_dir),
            **o.summary,
        }
        for o in outcomes
    ]
    return {"days": [d.isoformat() for d in days], "sets": sets, "runs": runs}


def _paise(rupees: str) -> int:
    return int(Decimal(rupees) * 100)


def write_comparison(out: Path, data: dict[str, Any]) -> Path:
    write_json_atomic(out / "comparison.json", data, durable=True)
    path = out / "comparison.md"
    write_atomic(path, comparison_markdown(data).encode(), durable=True)
    return path


def comparison_markdown(data: dict[str, Any]) -> str:
    lines = [
        f"# Paperfleet backtest: {len(data['sets'])} parameter set(s) over {len(data['days'])} day(s)",
        "",
    ]
    lines += [f"Days: {', '.join(data['days'])}.", "", "## Parameter sets", ""]
    header = ["set", "overrides", "days", "net (₹)", "mean day (₹)", "best (₹)", "worst (₹)", "charges (₹)",
              "worst drawdown (₹)", "orders", "trades", "win rate"]  # fmt: skip
    money = ("net_pnl_rupees", "mean_day_rupees", "best_day_rupees", "worst_day_rupees", "charges_rupees",
             "worst_drawdown_rupees")  # fmt: skip
    rows = [
        [s["name"], s["overrides"], _days(s), *(_money(s[k]) for k in money), str(s["orders"]),
         str(s["trades"]), "n/a" if s["win_rate"] is None else f"{s['win_rate']:.0%}"]
        for s in data["sets"]
    ]  # fmt: skip
    lines += table(header, rows)
    lines += ["", "## Runs", ""]
    rows = [
        [r["set"], r["date"], r.get("error") or _money(r["net_pnl_rupees"]),
         _text(r.get("divergent_orders")), f"[report]({os.path.relpath(r['report'], data.get('out', '.'))})"
         if "report" in r else ""]
        for r in data["runs"]
    ]  # fmt: skip
    lines += table(["set", "date", "net (₹)", "divergent orders vs paper", "report"], rows)
    return "\n".join(lines) + "\n"


def _days(row: dict[str, Any]) -> str:
    return f"{row['days']} ({row['failed_days']} failed)" if row["failed_days"] else str(row["days"])


def _money(amount: str | None) -> str:
    return "n/a" if amount is None else f"{Decimal(amount):,.2f}"


def _text(value: object) -> str:
    return "n/a" if value is None else str(value)
