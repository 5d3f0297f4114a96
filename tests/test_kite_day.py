"""A whole Kite-fed day in one process (`python -m engines`, the single layout's process) against the emulator
on loopback: the token checks pass, ticks reach all three engines through the official client, the
strategies are warmed up from Kite's history, orders are paper-filled, the end-of-day job reports, and the
emulator saw one ticker connection and no order route. The canary token appears in no output or artifact.
The same day through the containers, in both layouts, is in test_docker_kite.py."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engines.config import load_config
from engines.kite.emulator.facade import KiteEmulator
from session import checks
from session.checks import CheckContext, Status
from tests.helpers import ROOT
from tests.kite_day import API_KEY, API_SECRET, CANARY, STOCKS, files_holding, write_kite_day

pytestmark = pytest.mark.slow


def engines_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFLEET_")}
    return env | {"PYTHONPATH": str(ROOT)}


def test_a_kite_fed_day_runs_in_one_process_against_the_emulator(tmp_path: Path) -> None:
    log = tmp_path / "emulator-requests.jsonl"
    with KiteEmulator(api_key=API_KEY, api_secret=API_SECRET, access_token=CANARY, log_path=log) as emu:
        # Four minutes: the options engine centres its chain at the first minute boundary after the index
        # ticks, which leaves it two minutes before the square-off to trade.
        day = write_kite_day(tmp_path / "day", emu.rest_root, emu.ws_root, minutes=4)
        config = load_config(day.config)
        context = CheckContext(ROOT, day.config, config, None, ("single",), None, 0, 0, True)  # type: ignore[arg-type]
        for check in (checks.check_time, checks.check_secrets, checks.check_token):
            result = check(context)
            assert result.status is Status.PASS, result
        engines = subprocess.run(
            [sys.executable, "-m", "engines", "--config", str(day.config)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=420,
            env=engines_env(),
        )
        assert engines.returncode == 0, engines.stderr[-4000:]
        requests = emu.log()
    summaries = {s["engine"]: s for s in map(json.loads, engines.stdout.splitlines())}
    assert {(name, s["status"]) for name, s in summaries.items()} == {
        ("fno", "finished"),
        ("equity", "finished"),
        ("options", "finished"),
    }
    assert all(s["ticks"] > 0 for s in summaries.values()), summaries

    # One ticker connection for the process's three engines; history asked for; no order route, ever.
    assert [r["status"] for r in requests if r.get("event") == "connect"] == [101]
    assert any(r.get("route") == "/instruments/historical/{instrument_token}/{interval}" for r in requests)
    assert sum(1 for r in requests if r.get("route") == "/instruments") == 1  # one dump for the day
    assert [r for r in requests if r.get("order_route")] == []

    with (day.artifacts / "orders.csv").open() as handle:
        orders = list(csv.DictReader(handle))
    for engine in ("fno", "equity", "options"):
        filled = [o for o in orders if o["engine"] == engine and o["status"] == "COMPLETE"]
        journal = day.artifacts / "journal" / day.date / f"{engine}.jsonl"
        assert {o["tag"] for o in filled} >= {"entry"}, (
            [o for o in orders if o["engine"] == engine],
            journal.read_text()[-3000:],
            [line for line in engines.stderr.splitlines() if engine in line][-30:],
        )
    assert {o["symbol"] for o in orders if o["engine"] == "equity"} <= set(STOCKS)
    checkpoints = {
        e: json.loads((day.artifacts / "checkpoints" / f"{e}.json").read_text())
        for e in ("fno", "equity", "options")
    }
    assert checkpoints["fno"]["strategy"]["warmup_bars"] == 5  # the one future, 5 bars of history
    assert checkpoints["equity"]["strategy"]["warmup_bars"] == 5 * len(STOCKS)
    assert all(c["strategy"]["live_bars"] > 0 for c in checkpoints.values())
    for engine in ("fno", "equity", "options"):
        journal = day.artifacts / "journal" / day.date / f"{engine}.jsonl"
        feed_events = [e for e in map(json.loads, journal.read_text().splitlines()) if e["event"] == "feed"]
        assert any(e["what"] == "connected" for e in feed_events), feed_events

    eod = subprocess.run(
        [sys.executable, "-m", "session.eod", "--date", day.date, "--artifacts", str(day.artifacts)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=engines_env() | {"PAPERFLEET_CONFIG": str(day.config)},
    )
    assert eod.returncode == 0, eod.stderr[-3000:]
    report = json.loads((day.artifacts / "reports" / "daily" / f"{day.date}.json").read_text())
    assert set(report["engines"]) == {"fno", "equity", "options"}
    # The daily backtest replays the recorded Kite day (warm-up bars from the day's cache) and compares.
    assert report["backtest"]["status"] == "ok", report["backtest"]

    assert CANARY not in engines.stdout + engines.stderr + eod.stdout + eod.stderr
    assert files_holding(day.artifacts, CANARY) == [] and CANARY not in log.read_text()
