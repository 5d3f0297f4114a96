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
    eod = subprocess.run(
        [sys.executable, "-m", "session.eod", "--date", DAY, "--artifacts", str(artifacts)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert eod.returncode == 0, eod.stderr[-3000:]
    assert eod.stdout.splitlines()[-1] == str(artifacts / "reports" / "daily" / f"{DAY}.json")
    return artifacts


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
