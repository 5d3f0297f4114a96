"""The backtest's diff against the paper day, order by order, and the causes it names; the EOD job's
backtest step when it is off or cannot run. (Whole days replayed: tests/test_eod_day.py.)"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from engines.artifacts.layout import ArtifactPaths
from session.eod.__main__ import main
from session.eod.diff import PaperDay, diff_orders, explain, order_number, relevant, settings_diff
from session.eod.inputs import read_orders
from tests.eod_fixtures import order, write_orders
from tests.helpers import write_config

DAY = date(2026, 11, 27)
FINISHED = PaperDay("finished", "2026-11-27T15:30:00.000+05:30")


def frame(tmp_path: Path, name: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    return read_orders(write_orders(tmp_path / name, rows))


PAPER = [
    order("fno", 1, "NIFTY", "BUY", 50, price="100.00", charges="1.00"),
    order("fno", 2, "NIFTY", "SELL", 50, "exit", "110.00", "1.20", "500.00"),
    order("fno", 3, "BANK", "SELL", 30, price="200.00", charges="0.90"),
]


def test_identical_orders_do_not_diverge(tmp_path: Path) -> None:
    assert diff_orders(frame(tmp_path, "p", PAPER), frame(tmp_path, "b", PAPER), "fno") == []


def test_every_divergence_is_listed_by_order_number_with_its_fields(tmp_path: Path) -> None:
    backtest = [
        PAPER[0],
        order("fno", 2, "NIFTY", "SELL", 50, "exit", "109.50", "1.19", "475.00"),  # another price
        order("fno", 4, "FIN", "BUY", 10, price="300.00"),  # only the backtest placed it
    ]
    found = diff_orders(frame(tmp_path, "p", PAPER), frame(tmp_path, "b", backtest), "fno")
    assert [(d.order_id, d.kind) for d in found] == [
        ("fno-20261127-000002", "changed"),
        ("fno-20261127-000003", "paper_only"),
        ("fno-20261127-000004", "backtest_only"),
    ]
    assert found[0].differences == (
        ("average_price", "110.0000", "109.5000"),
        ("charges", "1.20", "1.19"),
        ("realised_pnl", "500.00", "475.00"),
    )
    assert found[0].to_json()["differences"][0] == {"field": "average_price", "paper": "110.0000",
                                                    "backtest": "109.5000"}  # fmt: skip
    assert order_number("fno-20261127-000012") == 12


def test_different_parameters_are_the_cause_and_name_the_keys(tmp_path: Path) -> None:
    paper = {"engines": {"fno": {"params": {"fast_ema": 9}}, "equity": {"params": {"fast_ema": 9}}}}
    backtest = {"engines": {"fno": {"params": {"fast_ema": 5}}, "equity": {"params": {"fast_ema": 9}}}}
    settings = settings_diff(paper, backtest)
    assert settings == ["engines.fno.params.fast_ema: 9 -> 5"]
    assert relevant(settings, "equity") == []
    first = diff_orders(frame(tmp_path, "p", PAPER), frame(tmp_path, "b", PAPER[:2]), "fno")[0]
    assert explain(first, FINISHED, relevant(settings, "fno")) == (
        "settings",
        "the settings differ: engines.fno.params.fast_ema: 9 -> 5",
    )
    latency = ["execution.latency_ms: 0 -> 250"]
    assert explain(first, FINISHED, latency) == (
        "latency",
        "the latency differs (execution.latency_ms: 0 -> 250)",
    )


def test_a_paper_day_that_stopped_early_explains_the_backtests_later_orders(tmp_path: Path) -> None:
    first = diff_orders(frame(tmp_path, "p", PAPER[:2]), frame(tmp_path, "b", PAPER), "fno")[0]
    failed = PaperDay("failed", "2026-11-27T12:00:00.000+05:30", faults=("2026-11-27T12:00:00.000+05:30",))
    assert explain(first, failed, []) == (
        "paper_day_incomplete",
        "the paper day stopped early (status failed at 12:00:00); the backtest traded on to the close",
    )


def test_partial_fills_timing_and_restarts_are_named(tmp_path: Path) -> None:
    partial = order("fno", 3, "BANK", "SELL", 30, price="200.00", status="CANCELLED", filled=10, reason="IOC")
    first = diff_orders(frame(tmp_path, "p", [*PAPER[:2], partial]), frame(tmp_path, "b", PAPER), "fno")[0]
    assert explain(first, FINISHED, []) == (
        "partial_fill",
        "partial fills: paper filled 10 of 30 in 1 fill(s), the backtest 30 of 30 in 1",
    )
    late = {**PAPER[2], "ts_ist": "2026-11-27T10:03:01.000+05:30", "average_price": "200.0500"}
    first = diff_orders(frame(tmp_path, "p", [*PAPER[:2], late]), frame(tmp_path, "b", PAPER), "fno")[0]
    assert explain(first, FINISHED, [])[0] == "timing"
    assert (
        "filled at 10:03:01.000 on paper and 10:03:00.000 in the backtest" in explain(first, FINISHED, [])[1]
    )
    paper = [*PAPER[:2], {**PAPER[2], "charges": "0.91", "brokerage": "0.91"}]
    first = diff_orders(frame(tmp_path, "p", paper), frame(tmp_path, "b", PAPER), "fno")[0]
    resumed = PaperDay("finished", None, resumes=("2026-11-27T10:01:00.000+05:30",))
    assert explain(first, resumed, []) == (
        "resumed",
        "the paper engine was restarted at 10:01:00 and resumed from its journal",
    )
    assert explain(first, FINISHED, [])[0] == "unknown"


def report_backtest(root: Path) -> dict[str, object]:
    report = json.loads(ArtifactPaths(root).daily_report(DAY, "json").read_text())
    backtest: dict[str, object] = report["backtest"]
    return backtest


@pytest.mark.parametrize(
    ("extra", "patch", "status", "detail"),
    [
        (["--no-backtest"], None, "off", "turned off (--no-backtest)"),
        ([], {"eod": {"backtest": False}}, "off", "turned off (eod.backtest: false in the config)"),
        ([], {"engines": {"fno": {"enabled": False}}}, "skipped", "none of the day's engines is enabled"),
    ],
)
def test_the_backtest_step_can_be_turned_off_and_says_why_it_did_not_run(
    tmp_path: Path, extra: list[str], patch: dict[str, object] | None, status: str, detail: str
) -> None:
    write_orders(tmp_path, PAPER)
    config = write_config(tmp_path / "cfg", patch)
    assert (
        main(["--date", DAY.isoformat(), "--artifacts", str(tmp_path), "--config", str(config), *extra]) == 0
    )
    backtest = report_backtest(tmp_path)
    assert backtest["status"] == status and str(backtest["detail"]).startswith(detail)
    assert not (tmp_path / "backtest").exists()
    markdown = ArtifactPaths(tmp_path).daily_report(DAY, "md").read_text()
    assert f"## Backtest\n\n**{status}**: {detail}" in markdown


def test_a_missing_config_skips_the_backtest_not_the_report(tmp_path: Path) -> None:
    write_orders(tmp_path, PAPER)
    assert (
        main(["--date", DAY.isoformat(), "--artifacts", str(tmp_path), "--config", str(tmp_path / "no.yaml")])
        == 0
    )
    backtest = report_backtest(tmp_path)
    assert backtest["status"] == "skipped"
    assert "no config to replay the day with: " in str(backtest["detail"]) and "no.yaml" in str(
        backtest["detail"]
    )
