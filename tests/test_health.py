"""The container health check (engines/health.py): only today's heartbeat counts, only enabled engines."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from engines.health import enabled_engines, healthy


def beat(root: Path, engine: str, status: str, day: str, age_s: float = 0.0) -> None:
    path = root / "heartbeat" / f"{engine}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"engine": engine, "status": status, "date": day, "sim_time_ist": f"{day}T10:00"})
    )
    moment = time.time() - age_s
    os.utime(path, (moment, moment))


def test_a_finished_heartbeat_of_an_earlier_day_or_run_is_not_healthy(tmp_path: Path) -> None:
    now = time.time()
    beat(tmp_path, "fno", "finished", "2026-11-26")
    assert not healthy(tmp_path, "fno", now, day="2026-11-27")[0]  # yesterday's day, finished
    beat(tmp_path, "fno", "finished", "2026-11-27", age_s=600)
    ok, why = healthy(tmp_path, "fno", now, since=now - 60, day="2026-11-27")
    assert not ok and "since this container started" in why  # today's date, but an earlier run's beat
    beat(tmp_path, "fno", "running", "2026-11-27", age_s=1)
    assert healthy(tmp_path, "fno", now, since=now - 60, day="2026-11-27")[0]
    beat(tmp_path, "fno", "running", "2026-11-27", age_s=30)
    assert healthy(tmp_path, "fno", now, since=now - 60, day="2026-11-27") == (
        False,
        "fno: heartbeat is 30 s old",
    )


def test_the_enabled_engines_come_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("engines:\n  options:\n    enabled: false\n  fno:\n    strategy: x\n")
    assert enabled_engines(config) == ["fno", "equity"]
