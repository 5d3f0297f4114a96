"""Every day is recorded as it is traded, and a recorded day plays back through the same engines: a replay
at max speed, and a backtest, reproduce the paper day's orders exactly without touching its artifacts."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path

import pytest

from engines.backtest import backtest_day
from engines.config import load_config
from engines.errors import ConfigError
from engines.market.recording import read_recording
from tests.helpers import DAY, SMALL, merge, run_engine, write_config

pytestmark = pytest.mark.slow


def outcomes(artifacts: Path) -> list[tuple[str, ...]]:
    keep = (
        "ts_ist",
        "engine",
        "order_id",
        "status",
        "side",
        "quantity",
        "filled_quantity",
        "average_price",
        "charges",
        "realised_pnl",
        "reason",
    )
    with (artifacts / "orders.csv").open() as handle:
        return sorted(tuple(row[k] for k in keep) for row in csv.DictReader(handle))


def fingerprint(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and "heartbeat" not in p.parts
    }


@pytest.fixture(scope="module")
def recorded_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("recorded")
    config = write_config(base / "cfg", SMALL)
    result = run_engine("engines", config, base / "day", timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return config, base / "day"


def test_every_engine_records_the_ticks_it_consumed(recorded_day: tuple[Path, Path]) -> None:
    _, day = recorded_day
    market = day / "market" / DAY
    assert (market / "instruments.csv").exists()
    engines = sorted(p.name for p in (market / "ticks").iterdir())
    assert engines == ["equity", "fno", "options"]
    streams = read_recording(market)
    ticks = sum(len(s) for s in streams)
    # 4 stocks + 2 futures all day at 1 s, plus the NIFTY index and its chain window.
    assert ticks > 6 * 22_500
    assert all(bool((s.ts[1:] >= s.ts[:-1]).all()) for s in streams)


def test_a_replay_at_max_speed_reproduces_the_days_orders_exactly(
    recorded_day: tuple[Path, Path], tmp_path: Path
) -> None:
    _, day = recorded_day
    replay = write_config(
        tmp_path / "cfg", merge(SMALL, {"market_data": {"feed": "replay", "replay": {"recording": str(day)}}})
    )
    before = fingerprint(day)
    result = run_engine("engines", replay, tmp_path / "replayed", timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert outcomes(tmp_path / "replayed") == outcomes(day)
    assert len(outcomes(day)) > 20
    assert fingerprint(day) == before  # the recorded day is only read
    assert (tmp_path / "replayed" / "market" / DAY / "ticks").exists()  # a replay records what it plays


def test_a_replay_may_not_write_into_the_day_it_replays(
    recorded_day: tuple[Path, Path], tmp_path: Path
) -> None:
    _, day = recorded_day
    replay = write_config(
        tmp_path / "cfg", merge(SMALL, {"market_data": {"feed": "replay", "replay": {"recording": str(day)}}})
    )
    result = run_engine("engines", replay, day, timeout=60)
    assert result.returncode == 2
    assert "is the recording being replayed: a replay must not write into the recorded day's" in result.stderr


def test_a_backtest_of_the_recorded_day_matches_it_and_leaves_it_alone(
    recorded_day: tuple[Path, Path], tmp_path: Path
) -> None:
    config_path, day = recorded_day
    config = load_config(config_path, {"market_data.sim.date": DAY, "artifacts_dir": str(day)})
    before = fingerprint(day)
    result = backtest_day(config, date.fromisoformat(DAY), tmp_path / "bt", recording=day)
    assert set(result.engines) == {"fno", "equity", "options"}
    assert outcomes(tmp_path / "bt") == outcomes(day)
    assert fingerprint(day) == before
    again = backtest_day(config, date.fromisoformat(DAY), tmp_path / "bt", recording=day)  # clears its own
    assert again.engines == {
        k: {**v, "wall_s": again.engines[k]["wall_s"]} for k, v in result.engines.items()
    }
    changed = config.model_copy(
        update={
            "engines": config.engines.model_copy(
                update={
                    "fno": config.engines.fno.model_copy(update={"params": {"fast_ema": 5, "slow_ema": 21}})
                }
            )
        }
    )
    other = backtest_day(changed, date.fromisoformat(DAY), tmp_path / "other", recording=day)
    assert other.engines["fno"]["orders"] != result.engines["fno"]["orders"] or outcomes(
        tmp_path / "other"
    ) != outcomes(day)


def test_a_backtest_refuses_a_directory_that_is_not_its_own(
    recorded_day: tuple[Path, Path], tmp_path: Path
) -> None:
    config_path, day = recorded_day
    config = load_config(config_path, {"market_data.sim.date": DAY, "artifacts_dir": str(day)})
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "orders.csv").write_text("mine\n")
    with pytest.raises(ConfigError, match="not empty and is not an earlier backtest's"):
        backtest_day(config, date.fromisoformat(DAY), tmp_path / "precious", recording=day)
    with pytest.raises(ConfigError, match="is the paper day's artifacts directory"):
        backtest_day(config, date.fromisoformat(DAY), day, recording=day)
    assert (tmp_path / "precious" / "orders.csv").read_text() == "mine\n"
