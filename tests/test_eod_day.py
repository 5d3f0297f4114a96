"""The end-of-day job after a real simulated day: the report's money reconciles exactly with orders.csv
and the checkpoints, recomputed here with the csv module and Decimal (none of the report's code)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DAY, ROOT, write_config
from tests.test_eod import documented_keys

ENGINES = ("equity", "fno", "options")


def recompute(orders_csv: Path, checkpoints: Path) -> dict[str, dict[str, Any]]:
    """Per engine: net P&L = sum(realised_pnl) - sum(charges) + unrealised (checkpoint: units x last price
    - cost), the charges by item, and the order counts, straight from the files."""
    out: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "realised": Decimal("0.00"),
            "charges": Decimal("0.00"),
            "orders": 0,
            "rejected": 0,
            "items": defaultdict(lambda: Decimal("0.00")),
        }
    )
    with orders_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["ts_ist"].startswith(DAY):
                continue
            engine = out[row["engine"]]
            engine["realised"] += Decimal(row["realised_pnl"])
            engine["charges"] += Decimal(row["charges"])
            engine["orders"] += 1
            engine["rejected"] += row["status"] == "REJECTED"
            for item in (
                "brokerage",
                "stt",
                "exchange_charges",
                "sebi_charges",
                "stamp_duty",
                "gst",
                "dp_charges",
            ):
                engine["items"][item] += Decimal(row[item])
    for name, engine in out.items():
        checkpoint = json.loads((checkpoints / f"{name}.json").read_text())
        engine["unrealised"] = sum(
            (
                Decimal(p["quantity"] * p["last_price_paise"] - p["cost_paise"]) / 100
                for p in checkpoint["positions"]
                if p["quantity"]
            ),
            Decimal("0.00"),
        )
        engine["net"] = engine["realised"] - engine["charges"] + engine["unrealised"]
    return out


def grouped(amount: Decimal) -> str:
    return f"{amount:,.2f}"


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole simulated day of the three engines (dev config), then the end-of-day job."""
    root = tmp_path_factory.mktemp("day")
    config = write_config(root / "cfg")
    artifacts = root / "artifacts"
    command = ["--config", str(config), "--artifacts", str(artifacts), "--date", DAY]
    engines = subprocess.run(
        [sys.executable, "-m", "engines", *command], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert engines.returncode == 0, engines.stderr[-3000:]
    before = fingerprint(artifacts)
    eod = run_eod(artifacts, config)
    assert eod.stdout.splitlines()[-1] == str(artifacts / "reports" / "daily" / f"{DAY}.json")
    assert fingerprint(artifacts) == before  # the backtest wrote none of the day's artifacts
    return artifacts


def run_eod(artifacts: Path, config: Path) -> subprocess.CompletedProcess[str]:
    command = ["--date", DAY, "--artifacts", str(artifacts), "--config", str(config)]
    eod = subprocess.run(
        [sys.executable, "-m", "session.eod", *command], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert eod.returncode == 0, eod.stderr[-3000:]
    return eod


def fingerprint(artifacts: Path) -> dict[str, bytes]:
    """The day's own artifacts, byte for byte: orders.csv, signals.csv, checkpoints and journals."""
    files = [artifacts / "orders.csv", artifacts / "signals.csv"]
    files += sorted((artifacts / "checkpoints").glob("*.json")) + sorted(
        (artifacts / "journal").rglob("*.jsonl")
    )
    return {str(path): path.read_bytes() for path in files}


@pytest.mark.slow
def test_the_markdown_names_each_engines_net_pnl_and_charges_as_orders_csv_gives_them(day: Path) -> None:
    expected = recompute(day / "orders.csv", day / "checkpoints")
    assert set(expected) == set(ENGINES) and all(e["orders"] > 0 for e in expected.values())
    markdown = (day / "reports" / "daily" / f"{DAY}.md").read_text()
    for name in ENGINES:
        e = expected[name]
        section = markdown.split(f"## Engine {name}\n", 1)[1].split("\n## ", 1)[0]
        assert (
            f"Net P&L **₹{grouped(e['net'])}** = realised {grouped(e['realised'])} - charges "
            f"{grouped(e['charges'])} + unrealised {grouped(e['unrealised'])}."
        ) in section
        assert (
            f"Charges ₹{grouped(e['charges'])}: brokerage {grouped(e['items']['brokerage'])}, STT " in section
        )
        figures = " | ".join(grouped(e[k]) for k in ("net", "realised", "charges"))
        assert f"| {name} | finished | {figures} |" in markdown
    total = sum((e["net"] for e in expected.values()), Decimal("0.00"))
    assert re.search(rf"Net P&L \*\*₹{re.escape(grouped(total))}\*\* across 3 engine", markdown)


@pytest.mark.slow
def test_the_json_repeats_the_ledger_and_every_engine_is_consistent(day: Path) -> None:
    expected = recompute(day / "orders.csv", day / "checkpoints")
    report = json.loads((day / "reports" / "daily" / f"{DAY}.json").read_text())
    for name in ENGINES:
        engine, e = report["engines"][name], expected[name]
        assert (engine["net_pnl_rupees"], engine["charges_rupees"]) == (str(e["net"]), str(e["charges"]))
        assert (engine["orders_placed"], engine["orders_rejected"]) == (e["orders"], e["rejected"])
        assert {k: Decimal(v) for k, v in engine["charges_itemised"].items()} == {
            f"{k}_rupees": v for k, v in e["items"].items()
        }
        assert engine["consistency"]["result"] == "ok"
        assert engine["equity_curve"][-1]["net_pnl_rupees"] == str(e["net"])
        by_symbol = [r for r in report["by_symbol"] if r["engine"] == name]
        assert sum(Decimal(r["net_pnl_rupees"]) for r in by_symbol) == e["net"]
    assert report["outcome"]["complete"] is True
    for chart in [report["charts"]["pnl_by_symbol"], *report["charts"]["equity"].values()]:
        assert (day / "reports" / "daily" / chart).stat().st_size > 10_000


@pytest.mark.slow
def test_with_identical_settings_the_daily_backtest_makes_the_same_orders(day: Path) -> None:
    report = json.loads((day / "reports" / "daily" / f"{DAY}.json").read_text())
    backtest = report["backtest"]
    assert (backtest["status"], backtest["source"], backtest["directory"]) == (
        "ok",
        "recording",  # every feed records the ticks its engines consumed: the replay is of those
        f"backtest/{DAY}",
    )
    assert backtest["divergent_orders"] == 0 and backtest["divergences"] == []
    for name in ENGINES:
        engine = backtest["engines"][name]
        assert engine["first_divergence"] is None
        assert engine["backtest_orders"] == engine["paper_orders"] == report["engines"][name]["orders_placed"]
        assert engine["backtest_net_pnl_rupees"] == engine["paper_net_pnl_rupees"]
    assert (day / "backtest" / DAY / "orders.csv").is_file()
    markdown = (day / "reports" / "daily" / f"{DAY}.md").read_text()
    assert "**No divergence**: the backtest made every order of the paper day, and nothing else." in markdown


@pytest.mark.slow
def test_a_failed_day_is_reported_and_the_backtest_names_where_it_stopped(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", {"faults": {"fail_engine": "fno", "at_ist": "12:30"}})
    artifacts = tmp_path / "artifacts"
    command = ["--config", str(config), "--artifacts", str(artifacts), "--date", DAY]
    fno = subprocess.run(
        [sys.executable, "-m", "engines.fno", *command], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert fno.returncode == 1, fno.stderr[-2000:]
    run_eod(artifacts, config)
    report = json.loads((artifacts / "reports" / "daily" / f"{DAY}.json").read_text())
    assert list(report["engines"]) == ["fno"]
    status = report["engines"]["fno"]["status"]
    assert status in ("failed", "running")  # a fault stops it like a crash: its last checkpoint says running
    assert report["outcome"]["complete"] is False
    notes = report["outcome"]["notes"]
    assert any(
        note.startswith("fno: did not finish the day (its last checkpoint, of ")
        and f"says {status}); the report covers what it did up to its last journal event, at 12:30:00."
        in note
        for note in notes
    )
    assert report["events"]["counts"].get("fault") == 1
    backtest = report["backtest"]
    first = backtest["engines"]["fno"]["first_divergence"]
    assert backtest["status"] == "ok" and backtest["divergent_orders"] > 0
    assert (first["kind"], first["cause_kind"]) == ("backtest_only", "paper_day_incomplete")
    assert first["order_id"] == f"fno-20261127-{backtest['engines']['fno']['paper_orders'] + 1:06d}"
    docs = documented_keys()
    assert set(first) == docs["Items of `backtest.divergences` (and `first_divergence`)"]
    assert set(backtest["divergences"][0]) == set(first) - {"cause_kind", "cause"}
    assert set(backtest["engines"]["fno"]) == docs["`backtest.engines.<name>`"]
    markdown = (artifacts / "reports" / "daily" / f"{DAY}.md").read_text()
    line = f"- **fno** `{first['order_id']}` ({first['symbol']}): only the backtest has it. Cause (paper_day_"
    assert line in markdown
