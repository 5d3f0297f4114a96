"""Orders survive any crash without duplicates: SIGKILL at random points, SIGTERM on a minute boundary, and a
disk that fills mid-day. Each interrupted day, once finished, must equal an uninterrupted one."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from engines.artifacts.recorder import ORDER_COLUMNS, SIGNAL_COLUMNS
from engines.market.recording import read_part
from engines.market.ticks import TickBatch
from tests.helpers import DAY, ROOT, SMALL, merge, run_engine, start_engine, write_config

pytestmark = pytest.mark.slow
ENGINES = ("fno", "equity", "options")


def orders(artifacts: Path) -> list[dict[str, str]]:
    with (artifacts / "orders.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def trades(artifacts: Path) -> list[tuple[str, ...]]:
    """Every order's outcome without the wall clock and the sequence number (resumes journal extra events)."""
    keep = (
        "ts_ist",
        "engine",
        "order_id",
        "symbol",
        "side",
        "quantity",
        "filled_quantity",
        "tag",
        "status",
        "average_price",
        "charges",
        "realised_pnl",
        "reason",
    )
    return sorted(tuple(r[k] for k in keep) for r in orders(artifacts))


def book(artifacts: Path, engine: str) -> dict[str, Any]:
    state = json.loads((artifacts / "checkpoints" / f"{engine}.json").read_text())
    return {
        "status": state["status"],
        "realised_paise": state["realised_paise"],
        "charges_paise": state["charges_paise"],
        "orders": state["orders"],
        "positions": sorted((p["symbol"], p["quantity"], p["realised_paise"]) for p in state["positions"]),
    }


def journal(artifacts: Path, engine: str) -> list[dict[str, Any]]:
    path = artifacts / "journal" / DAY / f"{engine}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_same_day(got: Path, reference: Path, engines: tuple[str, ...]) -> None:
    assert trades(got) == trades(reference)
    ids = [r["order_id"] for r in orders(got)]
    assert len(ids) == len(set(ids)), "an order ID appears twice in orders.csv"
    for engine in engines:
        assert book(got, engine) == book(reference, engine)
        assert book(got, engine)["status"] == "finished"


def recorded(artifacts: Path) -> dict[str, tuple[int, int, int]]:
    """Per engine: ticks recorded, and the sums of their times and prices (a tick twice or missing shows)."""
    return {engine: recorded_engine(artifacts, engine) for engine in ENGINES}


def recorded_engine(artifacts: Path, engine: str) -> tuple[int, int, int]:
    streams = read_recording_of(artifacts, engine)
    return (
        sum(len(s) for s in streams),
        sum(int(s.ts.sum()) for s in streams),
        sum(int(s.last_price.sum()) for s in streams),
    )


def read_recording_of(artifacts: Path, engine: str) -> list[TickBatch]:
    parts = sorted((artifacts / "market" / DAY / "ticks" / engine).glob("*.parquet"))
    return [read_part(p) for p in parts]


def assert_report_consistent(artifacts: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "session.eod", "--date", DAY, "--artifacts", str(artifacts)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((artifacts / "reports" / "daily" / f"{DAY}.json").read_text())
    assert {name: e["consistency"]["result"] for name, e in report["engines"].items()} == dict.fromkeys(
        report["engines"], "ok"
    )


def test_sigkill_at_random_points_and_restarts_give_the_uninterrupted_day(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", SMALL)
    reference = tmp_path / "reference"
    assert run_engine("engines", config, reference, timeout=120).returncode == 0

    # Ten random moments spread over the day; each run is killed a random instant after it passes one.
    seed = int(os.environ.get("PAPERFLEET_KILL_SEED", "20261127"))
    rng = random.Random(seed)
    targets = sorted(
        f"{h:02d}:{m:02d}" for h, m in rng.sample([(h, m) for h in range(9, 15) for m in range(0, 60, 7)], 10)
    )
    targets = [t for t in targets if "09:30" <= t <= "15:10"][:10]
    artifacts = tmp_path / "killed"
    kills: list[str] = []
    for target in targets:
        (artifacts / "heartbeat" / "fno.json").unlink(missing_ok=True)  # wait for this run's own beat
        process = start_engine("engines", config, artifacts, "--speed", "600")
        wait_for_sim_time(artifacts, "fno", target, process)
        time.sleep(rng.uniform(0.0, 0.5))
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        kills.append(json.loads((artifacts / "heartbeat" / "fno.json").read_text())["sim_time_ist"][11:19])
    assert len(kills) >= 8, f"only {len(kills)} kills (seed {seed})"
    finished = run_engine("engines", config, artifacts, timeout=180)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert_same_day(artifacts, reference, ENGINES)
    # Every run journalled its start; the fno engine, whose clock timed the kills, took part in all of them
    # (an engine that finishes its day sooner has nothing to do in the runs after).
    runs = [e["event"] for e in journal(artifacts, "fno") if e["event"] in ("start", "resume")]
    assert len(runs) == len(kills) + 1, (runs, kills)
    assert recorded(artifacts) == recorded(reference)  # the market record has every tick once
    assert_report_consistent(artifacts)


def test_sigterm_on_an_exact_minute_boundary_then_a_resume_gives_the_uninterrupted_day(
    tmp_path: Path,
) -> None:
    reference = tmp_path / "reference"
    config = write_config(tmp_path / "cfg", SMALL)
    assert run_engine("engines.equity", config, reference, timeout=120).returncode == 0

    stopping = write_config(
        tmp_path / "stop",
        merge(SMALL, {"faults": {"fail_engine": "equity", "at_ist": "09:50", "action": "sigterm"}}),
    )
    artifacts = tmp_path / "stopped"
    first = run_engine("engines.equity", stopping, artifacts, timeout=120)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "SIGTERM received: stopping engines cleanly" in first.stderr
    state = json.loads((artifacts / "checkpoints" / "equity.json").read_text())
    assert (state["status"], state["as_of_ist"]) == ("stopped", f"{DAY}T09:50:00.000+05:30")

    resumed = run_engine("engines.equity", config, artifacts, timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming 2026-11-27 with 4 instruments from 09:50:00" in resumed.stderr
    assert_same_day(artifacts, reference, ("equity",))


def test_a_finished_day_whose_last_market_part_was_lost_records_it_again(tmp_path: Path) -> None:
    """A kill while a finished engine writes its last part (after its final checkpoint) loses that part:
    the next run sees the record stop before the checkpoint and re-runs the day to complete it."""
    config = write_config(tmp_path / "cfg", SMALL)
    reference = tmp_path / "reference"
    assert run_engine("engines.equity", config, reference, timeout=120).returncode == 0
    artifacts = tmp_path / "lost"
    shutil.copytree(reference, artifacts)
    parts = sorted((artifacts / "market" / DAY / "ticks" / "equity").glob("*.parquet"))
    parts[-1].unlink()

    again = run_engine("engines.equity", config, artifacts, timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "the market record stops before the checkpoint" in again.stderr
    assert recorded_engine(artifacts, "equity") == recorded_engine(reference, "equity")
    assert_same_day(artifacts, reference, ("equity",))


def wait_for_sim_time(artifacts: Path, engine: str, hhmm: str, process: subprocess.Popen[str]) -> None:
    beat = artifacts / "heartbeat" / f"{engine}.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if json.loads(beat.read_text())["sim_time_ist"][11:16] >= hhmm:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.005)
    raise AssertionError(f"{engine} did not reach {hhmm} (exit {process.poll()})")


def _mount_tmpfs(path: Path, size_kib: int) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path)], check=True)


def test_a_disk_that_fills_mid_day_stops_cleanly_and_a_restart_finishes_the_day(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root: this test must run there")
        pytest.skip("mounting a tmpfs needs root")
    config = write_config(tmp_path / "cfg", merge(SMALL, {"trading": {"max_daily_loss": 900000}}))
    reference = tmp_path / "reference"
    assert run_engine("engines.equity", config, reference, timeout=120).returncode == 0

    # tmpfs counts whole 4 KiB pages: room for the day's master, a few small files (checkpoint, heartbeat
    # and their temp copies), and about half of what the day appends.
    def pages(path: Path) -> int:
        return -(-path.stat().st_size // 4096)

    appended = [
        reference / "orders.csv",
        reference / "signals.csv",
        reference / "journal" / DAY / "equity.jsonl",
    ]
    size = pages(reference / "market" / DAY / "instruments.csv") + 6 + sum(pages(p) for p in appended) // 2
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount_tmpfs(disk, 4 * size)
    try:
        first = run_engine("engines.equity", config, disk, timeout=120)
        assert first.returncode == 1, first.stderr[-2000:]
        assert "No space left on device" in first.stderr
        named = [
            str(disk / name) for name in ("orders.csv", "signals.csv", "checkpoints", "journal", "market")
        ]
        assert any(path in first.stderr for path in named), first.stderr[-2000:]
        for name, columns in (("orders.csv", ORDER_COLUMNS), ("signals.csv", SIGNAL_COLUMNS)):
            text = (disk / name).read_text()
            assert text.endswith("\n")
            rows = list(csv.reader(text.splitlines()))
            assert rows[0] == list(columns) and all(len(r) == len(columns) for r in rows)
        events = journal(disk, "equity")
        checkpoint = disk / "checkpoints" / "equity.json"
        if checkpoint.exists():  # the checkpoint is never ahead of the journal
            assert json.loads(checkpoint.read_text())["last_seq"] <= events[-1]["seq"]
        assert len(orders(disk)) < len(orders(reference))  # it did stop mid-day

        subprocess.run(["mount", "-o", "remount,size=65536k", str(disk)], check=True)  # space freed
        second = run_engine("engines.equity", config, disk, timeout=120)
        assert second.returncode == 0, second.stderr[-2000:]
        assert_same_day(disk, reference, ("equity",))
    finally:
        subprocess.run(["umount", str(disk)], check=False)
