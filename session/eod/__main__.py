"""`python -m session.eod --date YYYY-MM-DD [--artifacts DIR]`: write the day's report.

Reads the artifacts (docs/artifacts.md), writes reports/daily/<date>.json and .md and the charts
beside them atomically (readers see the old report or the new one, never half of one), logs the
paths and prints the JSON's path as the last line of stdout. Exit codes as the engines': 0 written,
1 an artifact is unreadable or malformed, 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from engines.artifacts.files import ArtifactWriteError, write_atomic, write_json_atomic
from engines.artifacts.layout import ArtifactPaths
from engines.config import Config, load_config
from engines.errors import ConfigError, PaperfleetError
from engines.logs import add_log_level, setup_logging
from engines.market.calendar import now_ist
from session.eod.analytics import todays_orders
from session.eod.backtest import NO_BACKTEST, daily_backtest
from session.eod.diff import PaperDay
from session.eod.inputs import ArtifactError, DayInputs, load_inputs
from session.eod.render import render_markdown
from session.eod.report import analyse

log = logging.getLogger("eod")


def _parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m session.eod",
        description="Write the end-of-day report (reports/daily/<date>.json and .md) from the artifacts.",
        epilog="Exit codes: 0 report written, 1 an artifact is unreadable or malformed, 2 usage error. "
        "PAPERFLEET_DATE and PAPERFLEET_ARTIFACTS give defaults.",
    )
    parser.add_argument(
        "--date",
        default=env("PAPERFLEET_DATE") or None,
        help="trading date YYYY-MM-DD (default: PAPERFLEET_DATE; one of the two is required)",
    )
    parser.add_argument(
        "--artifacts",
        default=env("PAPERFLEET_ARTIFACTS") or "artifacts",
        help="artifacts directory (default: PAPERFLEET_ARTIFACTS, else %(default)s)",
    )
    parser.add_argument(
        "--config",
        default=env("PAPERFLEET_CONFIG") or "configs/dev.yaml",
        help="the config the day ran with, for the daily backtest (default: PAPERFLEET_CONFIG, else "
        "%(default)s)",
    )
    parser.add_argument(
        "--no-backtest",
        action="store_true",
        help="skip the daily backtest (the config's eod.backtest: false does the same)",
    )
    add_log_level(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # usage errors exit 2 here
    setup_logging(args.log_level)
    try:
        day = parse_day(args.date)
        root = Path(args.artifacts)
        if not root.is_dir():
            raise ConfigError(
                f"--artifacts: {str(root)!r} is not a directory; pass the day's artifacts directory"
            )
        json_path = write_report(ArtifactPaths(root), day, None if args.no_backtest else Path(args.config))
    except PaperfleetError as exc:
        log.error("%s: %s", "usage error" if isinstance(exc, ConfigError) else "failed", exc)
        return int(exc.exit_code)
    print(json_path)
    return 0


def write_report(
    paths: ArtifactPaths, day: date, config_path: Path | None = None, backtest: dict[str, Any] | None = None
) -> Path:
    """Compute the day's report, run the daily backtest with the config at `config_path` (None: no
    backtest; or `backtest`, the key made by the caller) and write the JSON, Markdown and charts;
    returns the JSON's path."""
    from session.eod.charts import write_charts

    inputs = load_inputs(paths, day)
    analysis = analyse(day, inputs)
    report = analysis.report
    report["backtest"] = backtest or _backtest(paths, day, config_path, inputs, report)
    json_path, md_path = paths.daily_report(day, "json"), paths.daily_report(day, "md")
    try:
        report["charts"] = write_charts(
            json_path.parent, day.isoformat(), analysis.curves, report["by_symbol"]
        )
    except (ArtifactWriteError, OSError, ValueError) as exc:  # pictures must never cost the report
        log.warning("could not draw the charts: %s", exc)
        report["charts"] = None
    # The one wall-clock value in the report: everything else is a function of the artifacts.
    report["generated_at"] = now_ist().isoformat(timespec="milliseconds")
    try:
        write_json_atomic(json_path, report, durable=True)
        write_atomic(md_path, render_markdown(report).encode(), durable=True)
    except ArtifactWriteError as exc:
        raise ArtifactError(f"{json_path.parent}: cannot write the report ({exc.__cause__ or exc})") from None
    for name, engine in report["engines"].items():
        if engine["consistency"]["result"] == "mismatch":
            log.warning("%s: orders.csv and its checkpoint disagree: %s", name, engine["consistency"])
    log.info("wrote %s", json_path)
    log.info("wrote %s", md_path)
    return json_path


def _backtest(
    paths: ArtifactPaths, day: date, config_path: Path | None, inputs: DayInputs, report: dict[str, Any]
) -> dict[str, Any]:
    if config_path is None:
        return {**NO_BACKTEST, "status": "off", "detail": "turned off (--no-backtest)"}
    try:
        config: Config | None = load_config(config_path, {"market_data.sim.date": day.isoformat()})
        why = ""
    except ConfigError as exc:
        config, why = None, str(exc)
        log.warning("daily backtest skipped: %s", exc)
    paper_days = {
        name: PaperDay(
            engine["status"],
            engine["as_of_ist"],
            engine["net_pnl_rupees"],
            tuple(e["ts_ist"] for e in inputs.journals.get(name, ()) if e["event"] == "fault"),
            tuple(e["ts_ist"] for e in inputs.journals.get(name, ()) if e["event"] == "resume"),
        )
        for name, engine in report["engines"].items()
    }
    orders = todays_orders(inputs.orders, day.isoformat())
    result = daily_backtest(paths, day, config, why, report, orders, paper_days)
    log.info("daily backtest: %s (%s)", result["status"], result["detail"])
    return result


def parse_day(value: str | None) -> date:
    if value is None:
        raise ConfigError("--date is required (or set PAPERFLEET_DATE): the trading date as YYYY-MM-DD")
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--date (or PAPERFLEET_DATE): {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-27"
        ) from None


if __name__ == "__main__":
    sys.exit(main())
