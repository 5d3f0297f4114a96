"""The end-of-day job: exact figures from hand-built artifacts, the CLI's contract, the docs, and one
real engine day."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.recorder import ORDER_COLUMNS
from session.eod.__main__ import main
from session.eod.inputs import ArtifactError, load_inputs, read_orders
from session.eod.stats import daily_report, reason_prefix, trades

REPO = Path(__file__).resolve().parents[1]
DAY = date(2026, 11, 27)
TS = "2026-11-27T10:{:02d}:00.000+05:30"


def order(
    engine: str,
    seq: int,
    symbol: str,
    side: str,
    quantity: int,
    tag: str = "entry",
    price: str = "100.00",
    charges: str = "0.00",
    realised: str = "0.00",
    reason: str = "",
    ts: str | None = None,
) -> dict[str, object]:
    """One orders.csv row; a non-empty reason makes it a rejection (no price, charges or P&L)."""
    rejected = bool(reason)
    return {
        "ts_ist": ts or TS.format(seq % 60),
        "engine": engine,
        "seq": seq,
        "order_id": f"{engine}-20261127-{seq:06d}",
        "symbol": symbol,
        "exchange": "NFO",
        "instrument_type": "FUT",
        "side": side,
        "quantity": quantity,
        "lots": 1,
        "tag": tag,
        "status": "REJECTED" if rejected else "COMPLETE",
        "price": "" if rejected else price,
        "charges": "" if rejected else charges,
        "realised_pnl": "" if rejected else realised,
        "reason": reason,
        "wall_time": "2026-11-29T01:00:00.000+05:30",
    }


def write_orders(root: Path, rows: list[dict[str, object]]) -> None:
    with ArtifactPaths(root).orders.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ORDER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def position(symbol: str, quantity: int, cost_paise: int, last_price_paise: int) -> dict[str, object]:
    return {
        "symbol": symbol,
        "quantity": quantity,
        "cost_paise": cost_paise,
        "last_price_paise": last_price_paise,
    }


def write_checkpoint(root: Path, engine: str, **overrides: object) -> None:
    data: dict[str, object] = {
        "schema": 1,
        "engine": engine,
        "date": DAY.isoformat(),
        "status": "finished",
        "as_of_ist": "2026-11-27T15:29:59+05:30",
        "realised_paise": 0,
        "unrealised_paise": 0,
        "charges_paise": 0,
        "positions": [],
        **overrides,
    }
    path = ArtifactPaths(root).checkpoint(engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


# fno's day: a risk exit that wins, a short that flips long through zero (charges 2.71 split 30:60 ->
# 0.90 + 1.81) and is squared off, two margin rejections, and a long still open at stop.
FNO_DAY = [
    order("fno", 2, "NIFTY", "BUY", 50, price="100.00", charges="1.00"),
    order("fno", 4, "NIFTY", "SELL", 50, "risk_exit", "110.00", "1.20", "500.00"),  # 500 - 2.20 = 497.80
    order("fno", 6, "BANK", "SELL", 30, price="200.00", charges="0.90"),
    order("fno", 8, "BANK", "BUY", 90, "exit", "205.00", "2.71", "-150.00"),  # -150 - 0.90 - 0.90 = -151.80
    order(
        "fno", 10, "BANK", "SELL", 60, "square_off", "206.00", "1.85", "60.00"
    ),  # -1.81 + 60 - 1.85 = 56.34
    order("fno", 12, "NIFTY", "BUY", 50, reason="insufficient margin: required 1000.00, available 10.00"),
    order("fno", 14, "BANK", "BUY", 30, reason="insufficient margin: required 2000.00, available 5.00"),
    order("fno", 16, "FIN", "BUY", 10, price="300.00", charges="0.50"),  # open at stop
]
FNO_CHECKPOINT: dict[str, Any] = {
    "status": "stopped",
    "realised_paise": 41000,  # 500 - 150 + 60
    "charges_paise": 816,  # 1.00 + 1.20 + 0.90 + 2.71 + 1.85 + 0.50
    "unrealised_paise": 10000,
    "positions": [
        position("NIFTY", 0, 0, 11000),
        position("BANK", 0, 0, 20600),
        position("FIN", 10, 300000, 31000),  # 10 x 310.00 - 3000.00 = 100.00
    ],
}


@pytest.fixture
def fno_day(tmp_path: Path) -> Path:
    rows = [
        order(
            "fno", 1, "NIFTY", "BUY", 50, realised="999.00", ts="2026-11-26T10:00:00.000+05:30"
        ),  # not today
        *FNO_DAY,
    ]
    write_orders(tmp_path, rows)
    write_checkpoint(tmp_path, "fno", **FNO_CHECKPOINT)
    return tmp_path


def report_of(root: Path) -> dict[str, Any]:
    inputs = load_inputs(ArtifactPaths(root), DAY)
    return daily_report(DAY, inputs.orders, inputs.checkpoints, inputs.session)


def todays_fills(root: Path) -> pd.DataFrame:
    orders = read_orders(ArtifactPaths(root).orders)
    return orders[orders["ts_ist"].str.startswith(DAY.isoformat()) & (orders["status"] == "COMPLETE")]


def run_cli(root: Path, *extra: str) -> int:
    return main(["--date", DAY.isoformat(), "--artifacts", str(root), *extra])


# --- the figures -------------------------------------------------------------------------------------


def test_engine_figures_are_exact(fno_day: Path) -> None:
    fno = report_of(fno_day)["engines"]["fno"]
    assert fno["status"] == "stopped"
    assert fno["realised_pnl_rupees"] == "410.00"
    assert fno["charges_rupees"] == "8.16"
    assert fno["unrealised_pnl_rupees"] == "100.00"
    assert fno["net_pnl_rupees"] == "501.84"
    assert (fno["orders_placed"], fno["orders_filled"], fno["orders_rejected"]) == (8, 6, 2)
    assert fno["rejection_reasons"] == {"insufficient margin": 2}


def test_flip_through_zero_closes_one_trade_and_opens_the_next(fno_day: Path) -> None:
    fno = report_of(fno_day)["engines"]["fno"]
    closed, still_open = trades(todays_fills(fno_day))
    assert sorted(closed) == [-15180, 5634, 49780]
    assert still_open == 1
    assert (fno["trades"], fno["trades_open"], fno["wins"], fno["losses"]) == (3, 1, 2, 1)
    assert fno["win_rate"] == 0.6667


def test_trades_and_open_trade_add_up_to_realised_minus_charges(fno_day: Path) -> None:
    closed, _ = trades(todays_fills(fno_day))
    open_trade_so_far = -50  # FIN's entry charges
    assert sum(closed) + open_trade_so_far == 41000 - 816


def test_squared_off_risk_exits_and_open_positions_are_listed(fno_day: Path) -> None:
    fno = report_of(fno_day)["engines"]["fno"]
    assert [(f["symbol"], f["side"], f["quantity"], f["price_rupees"], f["realised_pnl_rupees"])
            for f in fno["squared_off"]] == [("BANK", "SELL", 60, "206.00", "60.00")]  # fmt: skip
    assert [(f["symbol"], f["side"], f["quantity"], f["price_rupees"], f["realised_pnl_rupees"])
            for f in fno["risk_exits"]] == [("NIFTY", "SELL", 50, "110.00", "500.00")]  # fmt: skip
    assert fno["open_positions"] == [
        {"symbol": "FIN", "quantity": 10, "last_price_rupees": "310.00", "unrealised_pnl_rupees": "100.00"}
    ]


def test_consistency_ok_when_checkpoint_agrees(fno_day: Path) -> None:
    consistency = report_of(fno_day)["engines"]["fno"]["consistency"]
    assert consistency == {
        "result": "ok",
        "orders_csv": {"realised_pnl_rupees": "410.00", "charges_rupees": "8.16"},
        "checkpoint": {"realised_pnl_rupees": "410.00", "charges_rupees": "8.16"},
        "repeated_order_ids": [],
    }


def test_consistency_mismatch_reports_both_figures(fno_day: Path) -> None:
    write_checkpoint(fno_day, "fno", **{**FNO_CHECKPOINT, "charges_paise": 815})
    consistency = report_of(fno_day)["engines"]["fno"]["consistency"]
    assert consistency["result"] == "mismatch"
    assert consistency["orders_csv"]["charges_rupees"] == "8.16"
    assert consistency["checkpoint"]["charges_rupees"] == "8.15"
    assert run_cli(fno_day) == 0
    markdown = ArtifactPaths(fno_day).daily_report(DAY, "md").read_text()
    assert (
        "**disagree**:\norders.csv gives realised 410.00 and charges 8.16, the checkpoint 410.00 and 8.15."
        in markdown
    )


def test_engines_without_checkpoint_or_orders_still_appear(fno_day: Path) -> None:
    write_orders(
        fno_day,
        [
            *FNO_DAY,
            order("equity", 1, "INFY", "BUY", 10, price="1500.00", charges="2.00"),
            order("equity", 2, "INFY", "SELL", 10, "exit", "1499.00", "2.00", "-10.00"),
        ],
    )
    write_checkpoint(fno_day, "options", date="2026-11-26", status="finished")  # another day's
    report = report_of(fno_day)
    equity = report["engines"]["equity"]
    assert set(report["engines"]) == {"fno", "equity"}
    assert (equity["status"], equity["as_of_ist"], equity["consistency"]["result"]) == (
        "missing",
        None,
        "unchecked",
    )
    assert (equity["net_pnl_rupees"], equity["trades"], equity["losses"], equity["win_rate"]) == (
        "-14.00",
        1,
        1,
        0.0,
    )
    total = report["total"]
    assert (total["net_pnl_rupees"], total["orders_placed"], total["trades"], total["wins"]) == (
        "487.84",
        10,
        4,
        2,
    )
    assert total["win_rate"] == 0.5


def test_no_closed_trade_gives_a_null_win_rate(tmp_path: Path) -> None:
    write_orders(tmp_path, [order("fno", 1, "NIFTY", "BUY", 50, charges="1.00")])
    fno = report_of(tmp_path)["engines"]["fno"]
    assert (fno["trades"], fno["trades_open"], fno["win_rate"]) == (0, 1, None)


def test_a_breakeven_trade_is_a_loss(tmp_path: Path) -> None:
    write_orders(
        tmp_path,
        [
            order("fno", 1, "NIFTY", "BUY", 50, charges="0.50"),
            order("fno", 2, "NIFTY", "SELL", 50, "exit", "100.02", "0.50", "1.00"),  # 1.00 - 0.50 - 0.50 = 0
        ],
    )
    fno = report_of(tmp_path)["engines"]["fno"]
    assert (fno["trades"], fno["wins"], fno["losses"], fno["win_rate"]) == (1, 0, 1, 0.0)


def test_an_order_id_written_twice_is_a_consistency_mismatch(tmp_path: Path) -> None:
    write_orders(
        tmp_path,
        [
            order("fno", 1, "NIFTY", "BUY", 50, charges="9.99"),
            order("fno", 1, "NIFTY", "BUY", 50, charges="1.00"),
        ],
    )
    fno = report_of(tmp_path)["engines"]["fno"]
    assert (fno["orders_placed"], fno["charges_rupees"]) == (2, "10.99")  # every row counts
    assert fno["consistency"]["result"] == "mismatch"
    assert fno["consistency"]["repeated_order_ids"] == ["fno-20261127-000001"]


def test_reason_prefix_is_the_first_clause() -> None:
    assert reason_prefix("insufficient margin: required 1.00, available 0.50") == "insufficient margin"
    assert reason_prefix("daily loss limit (25000.00) breached today; no new entries") == (
        "daily loss limit (25000.00) breached today"
    )
    assert reason_prefix("max_open_positions (10) already open") == "max_open_positions (10) already open"


# --- the command line -----------------------------------------------------------------------------------


def test_cli_writes_both_reports_and_prints_the_json_path(
    fno_day: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(fno_day) == 0
    paths = ArtifactPaths(fno_day)
    json_path, md_path = paths.daily_report(DAY, "json"), paths.daily_report(DAY, "md")
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == str(json_path)
    assert str(json_path) in err and str(md_path) in err
    report = json.loads(json_path.read_text())
    assert report["engines"]["fno"]["net_pnl_rupees"] == "501.84"
    assert report["generated_at"].startswith("20")
    markdown = md_path.read_text()
    assert markdown.startswith("# Paperfleet daily report: 2026-11-27")
    assert "| fno | stopped | 410.00 | 8.16 | 100.00 | 501.84 |" in markdown
    assert "| insufficient margin | 2 |" in markdown
    assert not list(md_path.parent.glob(".*.tmp"))


def test_missing_session_record_is_null_and_said_in_markdown(fno_day: Path) -> None:
    assert run_cli(fno_day) == 0
    paths = ArtifactPaths(fno_day)
    assert json.loads(paths.daily_report(DAY, "json").read_text())["session"] is None
    assert "ran outside the session controller" in paths.daily_report(DAY, "md").read_text()


def test_session_record_is_included_verbatim_and_summarised(fno_day: Path) -> None:
    session = {
        "date": "2026-11-27",
        "layout": "containers",
        "started_at": "2026-11-27T09:00:00+05:30",
        "ended_at": "2026-11-27T15:35:00+05:30",
        "ended_by": "engine_failed",
        "engines": {
            "fno": {"service": "fno", "container": "pf-fno", "container_id": "abc", "exit_code": 0},
            "options": {
                "service": "options",
                "container": "pf-options",
                "container_id": "def",
                "exit_code": 1,
            },
        },
        "exit_code": 1,
    }
    path = ArtifactPaths(fno_day).session_outcome(DAY)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(session))
    assert run_cli(fno_day) == 0
    paths = ArtifactPaths(fno_day)
    report = json.loads(paths.daily_report(DAY, "json").read_text())
    assert report["session"] == session
    assert report["engines"]["options"]["status"] == "missing"  # in the session record only
    markdown = paths.daily_report(DAY, "md").read_text()
    assert "ended by **engine_failed**" in markdown
    assert "| options | options | pf-options | 1 |" in markdown


def test_no_orders_csv_means_zero_orders(tmp_path: Path) -> None:
    write_checkpoint(tmp_path, "fno")
    fno = report_of(tmp_path)["engines"]["fno"]
    assert (fno["orders_placed"], fno["trades"], fno["net_pnl_rupees"]) == (0, 0, "0.00")
    assert fno["consistency"]["result"] == "ok"


def test_malformed_orders_row_names_file_and_line(fno_day: Path, capsys: pytest.CaptureFixture[str]) -> None:
    orders = ArtifactPaths(fno_day).orders
    lines = orders.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace("1.20", "1.2")  # line 4 (header, yesterday's row, seq 2, seq 4)
    orders.write_text("".join(lines))
    assert run_cli(fno_day) == 1
    assert f"{orders}:4: column 'charges' is '1.2'" in capsys.readouterr().err
    assert not ArtifactPaths(fno_day).daily_report(DAY, "json").exists()


def test_row_with_too_many_fields_names_the_line(fno_day: Path) -> None:
    orders = ArtifactPaths(fno_day).orders
    orders.write_text(orders.read_text() + "a," * 20 + "\n")
    with pytest.raises(ArtifactError, match=r"orders\.csv: .*line 11"):
        load_inputs(ArtifactPaths(fno_day), DAY)


def test_truncated_row_names_the_line(fno_day: Path) -> None:
    orders = ArtifactPaths(fno_day).orders
    orders.write_text(orders.read_text() + "2026-11-27T15:00:00.000+05:30,fno,99,fno-1,NIFTY,NFO,FUT,BUY\n")
    with pytest.raises(ArtifactError, match=r"orders\.csv:11: column 'quantity' is ''"):
        load_inputs(ArtifactPaths(fno_day), DAY)


def test_malformed_checkpoint_names_file_and_line(fno_day: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = ArtifactPaths(fno_day).checkpoint("fno")
    checkpoint.write_text('{\n "date": "2026-11-27",\n "status": }\n')
    assert run_cli(fno_day) == 1
    assert f"{checkpoint}:3: not valid JSON" in capsys.readouterr().err


def test_checkpoint_missing_a_key_names_it(fno_day: Path) -> None:
    write_checkpoint(fno_day, "fno", charges_paise="8.16")
    with pytest.raises(
        ArtifactError, match=r"fno\.json: key 'charges_paise' is '8\.16', expected an integer"
    ):
        load_inputs(ArtifactPaths(fno_day), DAY)


@pytest.mark.parametrize("value", ["2026-13-01", "27-11-2026", "20261127", "today"])
def test_bad_date_is_a_usage_error(tmp_path: Path, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--date", value, "--artifacts", str(tmp_path)]) == 2
    assert f"--date (or PAPERFLEET_DATE): {value!r} is not a date" in capsys.readouterr().err


def test_date_is_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PAPERFLEET_DATE", raising=False)
    assert main(["--artifacts", str(tmp_path)]) == 2
    assert "--date is required" in capsys.readouterr().err


def test_environment_gives_the_defaults(fno_day: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFLEET_DATE", DAY.isoformat())
    monkeypatch.setenv("PAPERFLEET_ARTIFACTS", str(fno_day))
    assert main([]) == 0
    assert ArtifactPaths(fno_day).daily_report(DAY, "md").exists()


def test_missing_artifacts_directory_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(tmp_path / "nope") == 2
    assert "--artifacts:" in capsys.readouterr().err


def test_the_job_imports_nothing_from_the_host_side() -> None:
    """It runs in the slim engine image, which has no python-on-whales, docker or kiteconnect."""
    host_side = ("python_on_whales", "docker", "kiteconnect")
    probe = f"import sys, session.eod.__main__; print(sorted(m for m in {host_side} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- the docs --------------------------------------------------------------------------------------------


def documented_keys() -> dict[str, set[str]]:
    """Backticked keys in the first column of each key table of docs/eod-report.md, by heading."""
    sections: dict[str, set[str]] = defaultdict(set)
    heading = ""
    for line in (REPO / "docs" / "eod-report.md").read_text().splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif found := re.match(r"\| `([a-z_]+)` \|", line):
            sections[heading].add(found.group(1))
    return sections


def test_every_report_key_is_documented(fno_day: Path) -> None:
    assert run_cli(fno_day) == 0  # generated_at is added by the CLI
    report = json.loads(ArtifactPaths(fno_day).daily_report(DAY, "json").read_text())
    fno, docs = report["engines"]["fno"], documented_keys()
    assert set(report) == docs["Top-level keys"]
    assert set(fno) == docs["Per-engine keys (`engines.<name>`)"]
    assert set(report["total"]) < set(fno)
    assert set(fno["squared_off"][0]) == set(fno["risk_exits"][0])
    assert set(fno["squared_off"][0]) == docs["Items of `squared_off` and `risk_exits`"]
    assert set(fno["open_positions"][0]) == docs["Items of `open_positions`"]
    assert set(fno["consistency"]) == docs["`consistency`"]


# --- a real day ------------------------------------------------------------------------------------------


def recompute(orders_csv: Path, engine: str, day: str) -> dict[str, Any]:
    """The engine's figures straight from orders.csv with csv and Decimal: an independent check."""
    with orders_csv.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["engine"] == engine and r["ts_ist"].startswith(day)]
    fills = sorted((r for r in rows if r["status"] == "COMPLETE"), key=lambda r: int(r["seq"]))
    held: dict[str, int] = defaultdict(int)
    running: dict[str, Decimal] = defaultdict(Decimal)
    closed: list[Decimal] = []
    for fill in fills:  # the engines never flip through zero in one order, so no split is needed here
        signed = int(fill["quantity"]) * (1 if fill["side"] == "BUY" else -1)
        running[fill["symbol"]] += Decimal(fill["realised_pnl"]) - Decimal(fill["charges"])
        held[fill["symbol"]] += signed
        if held[fill["symbol"]] == 0:
            closed.append(running.pop(fill["symbol"]))
    return {
        "realised_pnl_rupees": str(sum((Decimal(f["realised_pnl"]) for f in fills), Decimal("0.00"))),
        "charges_rupees": str(sum((Decimal(f["charges"]) for f in fills), Decimal("0.00"))),
        "orders_placed": len(rows),
        "orders_filled": len(fills),
        "orders_rejected": sum(1 for r in rows if r["status"] == "REJECTED"),
        "trades": len(closed),
        "wins": sum(1 for pnl in closed if pnl > 0),
        "squared_off": sum(1 for f in fills if f["tag"] == "square_off"),
    }


@pytest.mark.slow
def test_real_fno_day_report_matches_orders_csv(tmp_path: Path) -> None:
    day = DAY.isoformat()
    engine = subprocess.run(
        [sys.executable, "-m", "engines.fno", "--config", "configs/dev.yaml", "--artifacts", str(tmp_path),
         "--date", day],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert engine.returncode == 0, engine.stderr[-2000:]
    eod = subprocess.run(
        [sys.executable, "-m", "session.eod", "--date", day, "--artifacts", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert eod.returncode == 0, eod.stderr[-2000:]
    paths = ArtifactPaths(tmp_path)
    json_path = paths.daily_report(DAY, "json")
    assert eod.stdout.splitlines()[-1] == str(json_path)
    assert paths.daily_report(DAY, "md").is_file()
    fno = json.loads(json_path.read_text())["engines"]["fno"]
    expected = recompute(paths.orders, "fno", day)
    assert expected["orders_placed"] > 0 and expected["trades"] > 0
    assert {key: fno[key] for key in expected if key != "squared_off"} == {
        k: v for k, v in expected.items() if k != "squared_off"
    }
    assert len(fno["squared_off"]) == expected["squared_off"]
    assert fno["status"] == "finished"
    assert fno["consistency"]["result"] == "ok"
