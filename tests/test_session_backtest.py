"""`session report` and `session backtest`: the plan's checks, the summary, and (slow) five days and two
parameter sets in parallel with a progress bar and a comparison."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from engines.errors import ConfigError
from session.backtest.plan import Run, check, param_sets, trading_days
from session.backtest.run import run_all
from session.cli import main
from tests.eod_fixtures import write_orders
from tests.helpers import ROOT, SMALL, write_config
from tests.test_eod import FNO_DAY, run_cli


def test_parameter_sets_are_the_grid_over_the_common_overrides() -> None:
    sets = param_sets(
        ["engines.fno.params.lots=2"], ["engines.fno.params.fast_ema=5,9", "execution.latency_ms=0,250"]
    )
    assert [s.name for s in sets] == ["set-1", "set-2", "set-3", "set-4"]
    assert sets[0].overrides == (
        ("engines.fno.params.lots", 2),
        ("engines.fno.params.fast_ema", 5),
        ("execution.latency_ms", 0),
    )
    assert (
        sets[3].label()
        == "engines.fno.params.lots=2, engines.fno.params.fast_ema=9, execution.latency_ms=250"
    )
    assert (
        param_sets([], []) == [param_sets([], [])[0]]
        and param_sets([], [])[0].label() == "(the config as it is)"
    )
    with pytest.raises(ConfigError, match=r"--set 'fast_ema': expected KEY=VALUE"):
        param_sets(["fast_ema"], [])


def test_days_are_trading_days_and_a_holiday_is_refused() -> None:
    days = trading_days([], "2026-11-20", "2026-11-27", date(2026, 11, 27))
    assert days == [date(2026, 11, d) for d in (20, 23, 25, 26, 27)]  # 24 Nov is Guru Nanak's birthday
    assert trading_days([], None, None, date(2026, 11, 27)) == [date(2026, 11, 27)]
    with pytest.raises(ConfigError, match=r"--date 2026-11-24: not a trading day \(an NSE holiday"):
        trading_days(["2026-11-24"], None, None, date(2026, 11, 27))
    with pytest.raises(ConfigError, match="--from and --to go together"):
        trading_days([], "2026-11-20", None, date(2026, 11, 27))


def test_a_bad_parameter_is_a_usage_error_naming_the_set_and_key(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg")
    (bad,) = param_sets(["engines.fno.params.fast_ema=abc"], [])
    with pytest.raises(
        ConfigError, match=r"(?s)set-1 \(engines\.fno\.params\.fast_ema=abc\) on 2026-11-27: .*fast_ema"
    ):
        check([Run(bad, date(2026, 11, 27), tmp_path / "out", config, None, tmp_path)])
    assert main(["backtest", "--config", str(config), "--set", "engines.fno.params.fast_ema=abc"]) == 2


def test_session_report_prints_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_orders(tmp_path, FNO_DAY)
    assert run_cli(tmp_path) == 0
    capsys.readouterr()
    assert main(["report", "--artifacts", str(tmp_path), "--date", "2026-11-27"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "Paperfleet 2026-11-27: net P&L ₹401.84 (realised 410.00 - charges 8.16 + unrealised 0.00)"
    )
    assert re.search(r"^fno +missing +401\.84 +410\.00 +8\.16 ", out, re.MULTILINE)
    assert "backtest: off: turned off (--no-backtest)" in out
    assert main(["report", "--artifacts", str(tmp_path)]) == 0  # the latest
    assert main(["report", "--artifacts", str(tmp_path), "--date", "2026-11-26"]) == 2
    assert (
        "no report for 2026-11-26; write it with python -m session.eod --date 2026-11-26"
        in capsys.readouterr().err
    )


@pytest.mark.slow
def test_runs_go_to_several_worker_processes(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", SMALL)
    runs = [
        Run(s, day, tmp_path / s.name / day.isoformat(), config, None, tmp_path / "paper")
        for s in param_sets([], ["engines.fno.params.fast_ema=5,9"])
        for day in (date(2026, 11, 26), date(2026, 11, 27))
    ]
    outcomes = run_all(runs, jobs=2)
    assert all("error" not in o.summary for o in outcomes), [o.summary for o in outcomes]
    assert len({o.pid for o in outcomes}) == 2  # both cores


@pytest.mark.slow
def test_five_days_and_two_parameter_sets_show_a_progress_bar_and_write_a_comparison(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", SMALL)
    out = tmp_path / "out"
    days = ["--from", "2026-11-20", "--to", "2026-11-27"]
    where = ["--config", str(config), "--artifacts", str(tmp_path / "paper"), "--out", str(out)]
    command = ["backtest", *where, *days, "--grid", "engines.fno.params.fast_ema=5,9"]
    result = subprocess.run(
        [sys.executable, "-m", "session", *command], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == str(out / "comparison.md")
    assert "backtests: 100%" in result.stderr and "10/10" in result.stderr
    data = json.loads((out / "comparison.json").read_text())
    assert data["days"] == ["2026-11-20", "2026-11-23", "2026-11-25", "2026-11-26", "2026-11-27"]
    assert [(s["name"], s["overrides"], s["days"]) for s in data["sets"]] == [
        ("set-1", "engines.fno.params.fast_ema=5", 5),
        ("set-2", "engines.fno.params.fast_ema=9", 5),
    ]
    assert len(data["runs"]) == 10
    for run in data["runs"]:
        report = json.loads(Path(run["report"]).with_suffix(".json").read_text())
        assert report["total"]["net_pnl_rupees"] == run["net_pnl_rupees"]
    markdown = (out / "comparison.md").read_text()
    assert "| set-1 | engines.fno.params.fast_ema=5 | 5 |" in markdown
    assert "[report](set-2/2026-11-27/reports/daily/2026-11-27.md)" in markdown
