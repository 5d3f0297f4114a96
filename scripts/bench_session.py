"""Benchmark: the session controller around the containers, for both layouts.

    .venv/bin/python scripts/bench_session.py [--runs 1]

For each layout it runs `session run` twice in a scratch artifacts directory (the images must exist:
scripts/setup.sh builds them): a whole simulated day at max speed, and a day at speed 400 stopped with
SIGTERM once every engine trades. It prints the controller's own milestones (seconds since it started):
checks done, containers up, all engines running (heartbeats), all exited, EOD started and done, plus how
long the SIGTERM stop took. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DAY = "2026-11-27"


def config_in(scratch: Path) -> Path:
    directory = scratch / "configs"
    directory.mkdir(mode=0o755)  # mounted into the containers: readable by their user
    raw = yaml.safe_load((ROOT / "configs" / "dev.yaml").read_text())
    raw["artifacts_dir"] = str(scratch / "artifacts")
    raw["market_data"]["sim"]["date"] = DAY
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    (directory / "universe_equity.csv").write_text((ROOT / "configs" / "universe_equity.csv").read_text())
    return path


def command(config: Path, layout: str, speed: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "session",
        "run",
        "--config",
        str(config),
        "--layout",
        layout,
        "--speed",
        speed,
        "--project-name",
        f"pfbench-{uuid.uuid4().hex[:6]}",
    ]


def milestones(log: str) -> dict[str, float]:
    found = re.search(r"timings: (.*)", log)
    if not found:
        raise SystemExit(f"no timings line in the controller's log:\n{log[-3000:]}")
    return {
        name.strip(): float(value) for name, value in re.findall(r"([a-z ]+?) (\d+\.\d+)s", found.group(1))
    }


def full_day(layout: str) -> tuple[dict[str, float], float]:
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        result = subprocess.run(
            command(config_in(Path(scratch)), layout, "max"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return milestones(result.stderr), time.perf_counter() - started


def stopped_day(layout: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        config = config_in(Path(scratch))
        process = subprocess.Popen(
            command(config, layout, "400"),
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        beats = [
            Path(scratch) / "artifacts" / "heartbeat" / f"{e}.json" for e in ("fno", "equity", "options")
        ]
        while not all(_sim_time(b) >= "09:30" for b in beats):
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
        marks = milestones(stderr)
        stops = [float(s) for s in re.findall(r"\| stopped [a-z, ]+ in (\d+\.\d) s", stderr)]
        marks["docker stop"] = max(stops) if stops else float("nan")
        return marks


def _sim_time(path: Path) -> str:
    try:
        return str(json.loads(path.read_text())["sim_time_ist"][11:16])
    except (OSError, ValueError, KeyError):
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print("session run, default config (3 engines, 50 stocks, 3 option chains), seconds")
    print(
        f"{'layout':<7} {'checks':>6} {'up':>6} {'running':>8} {'day':>6} {'eod':>6} {'total':>6} | "
        f"{'SIGTERM->all exited':>19} {'docker stop':>11}"
    )
    for layout in ("multi", "single"):
        for _ in range(args.runs):
            marks, total = full_day(layout)
            stop = stopped_day(layout)
            print(
                f"{layout:<7} {marks['checks done']:>6.2f} {marks['containers up']:>6.2f} "
                f"{marks['engines running']:>8.2f} {marks['all exited'] - marks['engines running']:>6.2f} "
                f"{marks['eod done'] - marks['eod started']:>6.2f} {total:>6.2f} | "
                f"{stop['all exited'] - stop['stop requested']:>19.2f} {stop['docker stop']:>11.2f}"
            )
    print(
        "checks/up/running: since the controller started; day: all engines running -> all exited; "
        "eod: the one-shot container; total: wall time of the whole command"
    )


if __name__ == "__main__":
    main()
