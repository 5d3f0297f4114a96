"""Integration: the session controller and the compose services on a real Docker engine, real images.

Marked `docker` (run alone with `pytest -m docker`). Each test uses its own compose project name and
artifacts directory and removes every container it made. Without a Docker engine these tests skip,
except under CI=true (or PAPERFLEET_REQUIRE_DOCKER=1), where a missing engine is a failure.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from engines.artifacts.recorder import ORDER_COLUMNS
from tests.helpers import DAY, ROOT, SMALL, merge, write_config
from tests.test_engine_runs import read_rows
from tests.test_user_strategy import tutorial_strategy

pytestmark = pytest.mark.docker
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")  # Ryuk's image cannot be pulled here


def _docker_answers() -> bool:
    try:
        return (
            subprocess.run(
                ["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, timeout=10
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module", autouse=True)
def docker_engine() -> None:
    if _docker_answers():
        return
    if os.environ.get("CI") == "true" or os.environ.get("PAPERFLEET_REQUIRE_DOCKER") == "1":
        pytest.fail(
            "no Docker engine answers; CI must run the Docker tests (scripts/setup.sh docker starts one)"
        )
    pytest.skip("no Docker engine answers (scripts/setup.sh docker starts one)")


@dataclass
class Day:
    """One test's compose project: its config, artifacts and the `session run` command."""

    project: str
    root: Path
    config: Path

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    def command(self, *args: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "session",
            "run",
            "--config",
            str(self.config),
            "--project-name",
            self.project,
            *args,
        ]

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), cwd=ROOT, capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args), cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    def containers(self) -> list[str]:
        result = subprocess.run(
            ["docker", "ps", "-a", "-q", "--filter", f"label=com.docker.compose.project={self.project}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.split()

    def record(self) -> dict[str, Any]:
        return json.loads((self.artifacts / "sessions" / f"{DAY}.json").read_text())

    def report(self) -> dict[str, Any]:
        return json.loads((self.artifacts / "reports" / "daily" / f"{DAY}.json").read_text())

    def wait_for_sim_time(self, engine: str, hhmm: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                beat = json.loads((self.artifacts / "heartbeat" / f"{engine}.json").read_text())
                if beat["sim_time_ist"][11:16] >= hhmm:
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"{engine} did not reach {hhmm} within {timeout} s")


def make_day(tmp_path: Path, patch: dict[str, Any] | None = None) -> Day:
    paths = {
        "artifacts_dir": str(tmp_path / "artifacts"),
        "secrets_dir": str(tmp_path / "secrets"),
        "market_data": {"sim": {"date": DAY}},
    }
    return Day(
        f"pftest-{uuid.uuid4().hex[:8]}", tmp_path, write_config(tmp_path / "cfg", merge(paths, patch or {}))
    )


@pytest.fixture
def day(tmp_path: Path) -> Iterator[Day]:
    made = make_day(tmp_path)
    yield made
    _remove(made.project)


@pytest.fixture
def small_day(tmp_path: Path) -> Iterator[Day]:
    made = make_day(tmp_path, SMALL)
    yield made
    _remove(made.project)


def _remove(project: str) -> None:
    ids = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
    subprocess.run(
        ["docker", "network", "prune", "-f", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
    )


def stopped_within(log: str) -> list[float]:
    return [float(s) for s in re.findall(r"\| stopped [a-z, ]+ in (\d+\.\d) s", log)]


def assert_day_reported(day: Day, ended_by: str) -> dict[str, Any]:
    record = day.record()
    assert record["ended_by"] == ended_by
    report = day.report()
    assert (day.artifacts / "reports" / "daily" / f"{DAY}.md").exists()
    charts = sorted(p.name for p in (day.artifacts / "reports" / "daily" / DAY).glob("*.png"))
    assert charts, "no charts beside the report"
    assert report["session"]["ended_by"] == ended_by
    return record


def test_multi_layout_runs_the_day_end_to_end(day: Day) -> None:
    result = day.run("--layout", "multi", "--speed", "max")
    assert result.returncode == 0, result.stderr[-4000:]
    for service in ("fno", "equity", "options"):
        assert re.search(
            rf"{service}: started container {day.project}-{service}-1 \(id [0-9a-f]{{12}}\): "
            rf"python -m engines\.{service}",
            result.stderr,
        )
    assert re.search(
        rf"eod: one-shot container {day.project}-eod-run-\w+ \(id [0-9a-f]{{12}}\) exited 0", result.stderr
    )
    assert {r["engine"] for r in read_rows(day.artifacts / "orders.csv", ORDER_COLUMNS)} == {
        "fno",
        "equity",
        "options",
    }
    record = assert_day_reported(day, "close")
    assert {name: e["exit_code"] for name, e in record["engines"].items()} == {
        "fno": 0,
        "equity": 0,
        "options": 0,
    }
    report = day.report()
    assert all(e["consistency"]["result"] == "ok" for e in report["engines"].values())
    assert result.stdout.strip().endswith(f"reports/daily/{DAY}.json")
    assert day.containers() == []  # compose down removed them


def test_single_layout_runs_the_day_in_one_container(day: Day) -> None:
    result = day.run("--layout", "single", "--speed", "max")
    assert result.returncode == 0, result.stderr[-4000:]
    assert len(re.findall(r": started container ", result.stderr)) == 1
    assert f"single: started container {day.project}-single-1" in result.stderr
    assert {r["engine"] for r in read_rows(day.artifacts / "orders.csv", ORDER_COLUMNS)} == {
        "fno",
        "equity",
        "options",
    }
    record = assert_day_reported(day, "close")
    assert {e["service"] for e in record["engines"].values()} == {"single"}


@pytest.mark.parametrize("layout", ["multi", "single"])
def test_a_traders_strategy_from_outside_the_repo_trades_in_the_containers(
    tmp_path: Path, layout: str
) -> None:
    """The tutorial's strategy file, in a directory outside the repository, selected in the config: the
    containers load it from the mounted strategies_dir, and its orders reach orders.csv and the report."""
    mine = tutorial_strategy(tmp_path / "outside" / "strategies")
    engine = {"strategy": "breakout.py:Breakout", "params": {"lookback": 15, "lots": 1}}
    traded = make_day(tmp_path, merge(SMALL, {"strategies_dir": str(mine.parent)}))
    raw = yaml.safe_load(traded.config.read_text())
    raw["engines"]["fno"] = {"enabled": True, **engine}  # its params alone, not merged with the built-in's
    traded.config.write_text(yaml.safe_dump(raw))
    try:
        result = traded.run("--layout", layout, "--speed", "max")
        assert result.returncode == 0, result.stderr[-4000:]
        rows = read_rows(traded.artifacts / "orders.csv", ORDER_COLUMNS)
        entries = [r for r in rows if r["engine"] == "fno" and r["tag"] == "entry"]
        assert entries and {r["strategy"] for r in entries} == {"breakout.py:Breakout"}
        assert_day_reported(traded, "close")
        report = traded.report()
        assert "breakout.py:Breakout" in report["engines"]["fno"]["strategies"]
        assert report["backtest"]["status"] == "ok" and report["backtest"]["divergent_orders"] == 0
    finally:
        _remove(traded.project)


def test_an_engine_failing_mid_day_stops_the_others_and_still_reports(tmp_path: Path) -> None:
    failing = make_day(tmp_path, merge(SMALL, {"faults": {"fail_engine": "fno", "at_ist": "10:00"}}))
    try:
        result = failing.run("--layout", "multi", "--speed", "600")
        assert result.returncode == 1
        assert re.search(
            r"ERROR +session \| engine fno \(container [0-9a-f]{12}\) exited with code 1 "
            r"\(a runtime failure\): stopping the others",
            result.stderr,
        ), result.stderr[-4000:]
        assert stopped_within(result.stderr) and max(stopped_within(result.stderr)) < 10
        record = assert_day_reported(failing, "engine_failed")
        assert {n: e["exit_code"] for n, e in record["engines"].items()} == {
            "fno": 1,
            "equity": 0,
            "options": 0,
        }
    finally:
        _remove(failing.project)


def test_docker_kill_of_an_engine_is_an_error_and_the_others_stop(small_day: Day) -> None:
    process = small_day.start("--layout", "multi", "--speed", "400")
    small_day.wait_for_sim_time("equity", "09:30")
    subprocess.run(["docker", "kill", f"{small_day.project}-equity-1"], check=True, capture_output=True)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr[-4000:]
    assert re.search(
        r"ERROR +session \| engine equity \(container [0-9a-f]{12}\) exited with code 137 "
        r"\(killed \(SIGKILL\)\)",
        stderr,
    )
    assert stopped_within(stderr) and max(stopped_within(stderr)) < 10
    record = assert_day_reported(small_day, "engine_failed")
    assert record["engines"]["equity"]["exit_code"] == 137
    assert {record["engines"][e]["exit_code"] for e in ("fno", "options")} == {0}


@pytest.mark.parametrize("layout", ["multi", "single"])
def test_sigterm_to_the_controller_stops_gracefully_then_reports(small_day: Day, layout: str) -> None:
    process = small_day.start("--layout", layout, "--speed", "400")
    small_day.wait_for_sim_time("options", "09:30")
    second = small_day.run("--layout", layout, timeout=120)  # the same project while the day runs
    assert second.returncode == 5
    assert f"is in use by pid {process.pid} on " in second.stderr, second.stderr[-3000:]
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-4000:]
    assert "SIGTERM received: stopping the engines, then the end-of-day job" in stderr
    assert stopped_within(stderr) and max(stopped_within(stderr)) < 10
    record = assert_day_reported(small_day, "signal")
    assert {e["exit_code"] for e in record["engines"].values()} == {0}
    for engine in ("fno", "equity", "options"):
        state = json.loads((small_day.artifacts / "checkpoints" / f"{engine}.json").read_text())
        assert state["status"] in ("stopped", "finished")
    assert small_day.containers() == []


def test_dry_run_checks_and_starts_nothing(day: Day) -> None:
    result = day.run("--layout", "multi", "--dry-run", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "dry run: checks passed, nothing started" in result.stderr
    assert day.containers() == []
    assert not (day.artifacts / "orders.csv").exists()


def test_a_bad_config_fails_the_checks_and_starts_nothing(tmp_path: Path) -> None:
    bad = make_day(tmp_path, {"trading": {"max_open_positons": 3}})
    result = bad.run("--layout", "multi", timeout=120)
    assert result.returncode == 3
    assert "check config     FAIL" in result.stderr
    assert "trading.max_open_positons: unknown key; did you mean 'max_open_positions'?" in result.stderr
    assert "pre-market checks failed (config): nothing started" in result.stderr
    assert bad.containers() == []


def test_a_missing_secret_with_the_kite_feed_fails_the_checks(tmp_path: Path) -> None:
    kite = make_day(tmp_path, {"market_data": {"feed": "kite", "sim": {"date": None}}})  # kite: today
    result = kite.run("--layout", "multi", timeout=120)
    assert result.returncode == 3
    assert re.search(r"check secrets +FAIL: .*secrets/kite\.yaml: not found", result.stderr)
    assert kite.containers() == []


def compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "compose", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | env,
    )


def compose_env(day: Day, speed: str) -> dict[str, str]:
    day.artifacts.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(day.artifacts, 10001, 10001)
    return {
        "COMPOSE_PROJECT_NAME": day.project,
        "PAPERFLEET_ARTIFACTS_DIR": str(day.artifacts),
        "PAPERFLEET_CONFIG_DIR": str(day.config.parent),
        "PAPERFLEET_CONFIG_FILE": day.config.name,
        "PAPERFLEET_SPEED": speed,
        "PAPERFLEET_DATE": DAY,
    }


def test_docker_compose_up_alone_runs_the_three_engines_to_the_close(day: Day) -> None:
    env = compose_env(day, "max")
    up = compose("up", env=env)
    assert up.returncode == 0, up.stderr[-3000:]
    states = [
        json.loads(line) for line in compose("ps", "-a", "--format", "json", env=env).stdout.splitlines()
    ]
    assert {(s["Service"], s["ExitCode"]) for s in states} == {
        ("artifacts", 0),
        ("fno", 0),
        ("equity", 0),
        ("options", 0),
    }
    assert {r["engine"] for r in read_rows(day.artifacts / "orders.csv", ORDER_COLUMNS)} == {
        "fno",
        "equity",
        "options",
    }


def test_engine_containers_are_locked_down(small_day: Day, monkeypatch: pytest.MonkeyPatch) -> None:
    from testcontainers.compose import DockerCompose

    env = compose_env(small_day, "20")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    stack = DockerCompose(ROOT, compose_file_name="compose.yaml", pull=False, build=False)
    with stack:
        for service in ("fno", "equity", "options"):

            def inside(*command: str, service: str = service) -> tuple[str, int]:
                try:
                    out, _, code = stack.exec_in_container(list(command), service_name=service)
                except subprocess.CalledProcessError as exc:  # testcontainers raises on a non-zero exit
                    return str(exc.stdout or "").strip(), exc.returncode
                return out.strip(), code

            assert inside("id", "-u")[0] not in ("", "0")
            assert inside("touch", "/probe")[1] != 0  # read-only root filesystem
            assert inside("ls", "/secrets")[1] != 0  # no secrets on the simulator (the Kite feed mounts them)
            assert inside("touch", "/artifacts/probe")[1] == 0  # the one writable mount
            status = inside("cat", "/proc/self/status")[0]
            assert re.search(r"^CapEff:\s+0000000000000000$", status, re.MULTILINE)
            assert re.search(r"^NoNewPrivs:\s+1$", status, re.MULTILINE)
            interfaces = [
                line.split(":")[0].strip() for line in inside("cat", "/proc/net/dev")[0].splitlines()[2:]
            ]
            assert interfaces == ["lo"]
