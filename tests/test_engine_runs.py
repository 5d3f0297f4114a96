"""Whole simulated days in real processes: the engines' contract with the controller.

These run engines as subprocesses (the way containers run them) and take seconds each; they are
marked `slow` so `pytest -m "not slow and not docker"` stays a quick unit run.
"""

from __future__ import annotations

import ast
import csv
import json
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from engines.artifacts.recorder import ORDER_COLUMNS, SIGNAL_COLUMNS
from tests.helpers import DAY, DEV_CONFIG, ROOT, SMALL, merge, run_engine, start_engine, write_config

pytestmark = pytest.mark.slow
ENGINES = ("fno", "equity", "options")


def read_rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Every row, after checking the file has exactly one header and no malformed line."""
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(columns)
    assert lines.count(lines[0]) == 1
    rows = list(csv.reader(lines[1:]))
    malformed = [r for r in rows if len(r) != len(columns)]
    assert malformed == []
    return [dict(zip(columns, r, strict=True)) for r in rows]


def journal(artifacts: Path, engine: str) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in (artifacts / "journal" / DAY / f"{engine}.jsonl").read_text().splitlines()
    ]


def checkpoint(artifacts: Path, engine: str) -> dict[str, Any]:
    return json.loads((artifacts / "checkpoints" / f"{engine}.json").read_text())


def assert_checkpoint_matches_journal(artifacts: Path, engine: str) -> dict[str, Any]:
    """Replaying the journal's fills gives the checkpoint's positions, P&L and charges exactly."""
    state = checkpoint(artifacts, engine)
    events = journal(artifacts, engine)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert state["last_seq"] == events[-1]["seq"]
    replay: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in (e for e in events if e["event"] == "fill"):
        p = replay[e["symbol"]]
        for units, price in e["fill_levels"]:
            p["quantity"] += units if e["side"] == "BUY" else -units
            p["buy_value_paise" if e["side"] == "BUY" else "sell_value_paise"] += units * price
        p["realised_paise"] += e["fill_realised_paise"]
        p["charges_paise"] += e["fill_charges_paise"]["total"]
    for position in state["positions"]:
        expected = replay[position["symbol"]]
        for key in ("quantity", "buy_value_paise", "sell_value_paise", "realised_paise", "charges_paise"):
            assert position[key] == expected[key], (engine, position["symbol"], key)
    assert {p["symbol"] for p in state["positions"]} == set(replay)
    assert state["realised_paise"] == sum(p["realised_paise"] for p in replay.values())
    return state


def assert_full_day(artifacts: Path, engines: tuple[str, ...] = ENGINES) -> list[dict[str, str]]:
    orders = read_rows(artifacts / "orders.csv", ORDER_COLUMNS)
    read_rows(artifacts / "signals.csv", SIGNAL_COLUMNS)
    assert {r["engine"] for r in orders} == set(engines)
    for engine in engines:
        state = assert_checkpoint_matches_journal(artifacts, engine)
        assert state["status"] == "finished"
        assert state["positions"] and all(p["quantity"] == 0 for p in state["positions"])  # squared off
        assert journal(artifacts, engine)[-1]["event"] == "stop"
    return orders


def test_three_engines_in_one_process_run_the_default_day(tmp_path: Path) -> None:
    result = run_engine("engines", DEV_CONFIG, tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_full_day(tmp_path)
    for engine in ENGINES:  # every log line names its engine
        assert f" {engine:<7} | finished the day at 15:30:00" in result.stderr
    summaries = [json.loads(line) for line in result.stdout.splitlines()]  # one JSON line per engine
    assert sorted(s["engine"] for s in summaries) == sorted(ENGINES)
    assert all(s["status"] == "finished" and s["ticks"] > 0 and s["ticks_per_s"] > 0 for s in summaries)


def test_three_engine_processes_started_together_run_the_default_day(tmp_path: Path) -> None:
    processes = [start_engine(f"engines.{engine}", DEV_CONFIG, tmp_path) for engine in ENGINES]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-3000:]
    orders = assert_full_day(tmp_path)
    assert len(orders) > 100


def comparable(path: Path, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Rows without the wall-clock column, ordered by (engine, seq) since writers interleave."""
    rows = read_rows(path, columns)
    return sorted(
        (tuple(v for k, v in r.items() if k != "wall_time") for r in rows),
        key=lambda r: (r[columns.index("engine")], int(r[columns.index("seq")])),
    )


def test_same_seed_and_date_give_identical_orders_and_signals(tmp_path: Path, small_config: Path) -> None:
    for run in ("a", "b"):
        result = run_engine("engines", small_config, tmp_path / run, timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
    for name, columns in (("orders.csv", ORDER_COLUMNS), ("signals.csv", SIGNAL_COLUMNS)):
        first, second = comparable(tmp_path / "a" / name, columns), comparable(tmp_path / "b" / name, columns)
        assert len(first) > 20 and first == second
    other = write_config(tmp_path / "seed", merge(SMALL, {"market_data": {"sim": {"seed": 8}}}))
    assert run_engine("engines", other, tmp_path / "c", timeout=120).returncode == 0
    assert comparable(tmp_path / "c" / "orders.csv", ORDER_COLUMNS) != comparable(
        tmp_path / "a" / "orders.csv", ORDER_COLUMNS
    )


def test_one_engine_writes_byte_identical_rows_apart_from_wall_time(
    tmp_path: Path, small_config: Path
) -> None:
    for run in ("a", "b"):
        assert run_engine("engines.options", small_config, tmp_path / run, timeout=120).returncode == 0
    strip = [
        [line.rsplit(",", 1)[0] for line in (tmp_path / run / "orders.csv").read_text().splitlines()]
        for run in ("a", "b")
    ]
    assert len(strip[0]) > 5 and strip[0] == strip[1]


def wait_for_sim_time(artifacts: Path, engine: str, hhmm: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    beat = artifacts / "heartbeat" / f"{engine}.json"
    while time.monotonic() < deadline:
        try:
            if json.loads(beat.read_text())["sim_time_ist"][11:16] >= hhmm:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"{engine} did not reach {hhmm}")


def test_sigterm_mid_day_stops_cleanly_and_a_restart_resumes(tmp_path: Path) -> None:
    process = start_engine("engines.equity", DEV_CONFIG, tmp_path, "--speed", "1500")
    wait_for_sim_time(tmp_path, "equity", "11:00")
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr[-2000:]
    assert time.monotonic() - sent < 5
    assert "SIGTERM received: stopping engines cleanly" in stderr
    state = assert_checkpoint_matches_journal(tmp_path, "equity")
    assert state["status"] == "stopped" and "15:30" not in state["as_of_ist"]
    last = journal(tmp_path, "equity")[-1]
    assert (last["event"], last["reason"]) == ("stop", "signal")
    before = len(read_rows(tmp_path / "orders.csv", ORDER_COLUMNS))

    resumed = run_engine("engines.equity", DEV_CONFIG, tmp_path, timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming 2026-11-27 with 50 instruments from" in resumed.stderr
    state = assert_checkpoint_matches_journal(tmp_path, "equity")  # seqs continue without a gap or repeat
    assert state["status"] == "finished"
    assert "resume" in [e["event"] for e in journal(tmp_path, "equity")]
    rows = read_rows(tmp_path / "orders.csv", ORDER_COLUMNS)
    assert len(rows) > before
    assert len({r["seq"] for r in rows}) == len(rows)
    assert [r["ts_ist"] for r in rows] == sorted(r["ts_ist"] for r in rows)  # no part of the day traded twice

    again = run_engine("engines.equity", DEV_CONFIG, tmp_path, timeout=60)
    assert again.returncode == 0 and "already finished" in again.stderr
    assert len(read_rows(tmp_path / "orders.csv", ORDER_COLUMNS)) == len(rows)


def test_an_engine_failure_exits_1_and_stops_the_others_in_one_process(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "cfg", merge(SMALL, {"faults": {"fail_engine": "fno", "at_ist": "11:00"}})
    )
    result = run_engine("engines", config, tmp_path / "art", timeout=120)
    assert result.returncode == 1
    assert "fno     | failed: injected fault at 11:00:00" in result.stderr
    assert "stopping the other engines because fno failed" in result.stderr
    beat = json.loads((tmp_path / "art" / "heartbeat" / "fno.json").read_text())
    assert beat["status"] == "failed"
    saved = tmp_path / "art" / "checkpoints" / "fno.json"
    assert not saved.exists() or checkpoint(tmp_path / "art", "fno")["status"] == "running"  # not "failed"
    statuses = {checkpoint(tmp_path / "art", e)["status"] for e in ("equity", "options")}
    assert statuses <= {"stopped", "finished"}  # a fast engine may already have finished its day
    alone = run_engine("engines.fno", config, tmp_path / "alone", timeout=60)
    assert alone.returncode == 1


FORBIDDEN = {"socket", "ssl", "http", "urllib", "requests", "kiteconnect", "websocket", "twisted", "autobahn"}


def test_the_paper_path_imports_nothing_that_reaches_a_network() -> None:
    imported = set()
    for path in (ROOT / "engines").rglob("*.py"):
        if "kite" in path.relative_to(ROOT / "engines").parts:
            continue  # the Kite edge: only the live feed loads it
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {(path.name, a.name.split(".")[0]) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add((path.name, node.module.split(".")[0]))
    assert {(f, m) for f, m in imported if m in FORBIDDEN} == set()


def test_an_engine_runs_its_day_with_sockets_disabled(tmp_path: Path, small_config: Path) -> None:
    code = (
        "import socket, runpy, sys\n"
        "def refuse(*a, **k): raise RuntimeError('network use in paper mode')\n"
        "socket.socket.connect = socket.socket.connect_ex = refuse; socket.create_connection = refuse\n"
        "sys.argv = ['engines.fno', *sys.argv[1:]]\n"
        "runpy.run_module('engines.fno', run_name='__main__')\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "--config",
            str(small_config),
            "--artifacts",
            str(tmp_path),
            "--date",
            DAY,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert read_rows(tmp_path / "orders.csv", ORDER_COLUMNS)
