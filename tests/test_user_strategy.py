"""The tutorial's strategy (docs/strategies.md), written to a directory outside the repository, runs a day in
`python -m engines`, and its orders reach orders.csv and the report; a bad parameter is exit 2 naming it."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import DAY, DEV_CONFIG, ROOT, SMALL, merge, run_engine, write_config

pytestmark = pytest.mark.slow
TUTORIAL = ROOT / "docs" / "strategies.md"


def tutorial_strategy(directory: Path) -> Path:
    """The first Python block of the tutorial, as the trader would save it."""
    code = re.search(r"```python\n(.*?)```", TUTORIAL.read_text(), re.S)
    assert code is not None
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "breakout.py"
    path.write_text(code.group(1))
    return path


def config_with(tmp_path: Path, mine: Path, params: dict[str, object]) -> Path:
    raw = merge(yaml.safe_load(DEV_CONFIG.read_text()), SMALL)
    raw["strategies_dir"] = str(mine)
    raw["engines"]["fno"] = {"enabled": True, "strategy": "breakout.py:Breakout", "params": params}
    path = write_config(tmp_path / "cfg")
    path.write_text(yaml.safe_dump(raw))
    return path


def test_the_tutorial_strategy_runs_a_day_and_its_orders_reach_the_report(tmp_path: Path) -> None:
    mine = tmp_path / "outside" / "strategies"
    tutorial_strategy(mine)
    config = config_with(tmp_path, mine, {"lookback": 15, "lots": 1})
    artifacts = tmp_path / "day"
    result = run_engine("engines", config, artifacts, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    with (artifacts / "orders.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["engine"] == "fno"]
    assert rows and {r["strategy"] for r in rows if r["tag"] == "entry"} == {"breakout.py:Breakout"}
    with (artifacts / "signals.csv").open() as handle:
        reasons = [r["reason"] for r in csv.DictReader(handle) if r["engine"] == "fno"]
    assert any(reason.startswith("new 15-minute high") for reason in reasons)
    eod = subprocess.run(
        [
            sys.executable,
            "-m",
            "session.eod",
            "--date",
            DAY,
            "--artifacts",
            str(artifacts),
            "--config",
            str(config),
            "--no-backtest",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert eod.returncode == 0, eod.stderr[-2000:]
    report = json.loads((artifacts / "reports" / "daily" / f"{DAY}.json").read_text())
    assert "breakout.py:Breakout" in json.dumps(report["engines"]["fno"]["strategies"])
    assert "breakout.py:Breakout" in (artifacts / "reports" / "daily" / f"{DAY}.md").read_text()


def test_a_bad_parameter_of_the_traders_strategy_is_exit_2_naming_the_key(tmp_path: Path) -> None:
    mine = tmp_path / "outside"
    tutorial_strategy(mine)
    config = config_with(tmp_path, mine, {"lookback": "x"})
    result = run_engine("engines", config, tmp_path / "day", timeout=60)
    assert result.returncode == 2
    assert "engines.fno.params.lookback: got 'x'" in result.stderr
    assert not (tmp_path / "day" / "orders.csv").exists()  # nothing started
