"""Integration: a controller that can't be turned against its host, always reports, never runs twice,
notices a hung engine and restarts a failed one; and `docker compose up` from a fresh clone. Each test is the
real scenario, on a real Docker engine with the project's images (marked `docker`)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from python_on_whales import DockerException

from session import cli
from session.compose import Compose, Exited
from tests.helpers import DAY, ROOT, SMALL, merge, run_engine
from tests.test_crash_safety import book
from tests.test_docker_session import (  # noqa: F401 (docker_engine: the module's autouse fixture)
    Day,
    _remove,
    assert_day_reported,
    docker_engine,
    make_day,
)

pytestmark = pytest.mark.docker


def plant_links(day: Day, target: Path) -> list[Path]:
    """Links at every path the controller writes under artifacts/, as the container user could plant them."""
    links = [day.artifacts / "logs" / DAY / "fno.log", day.artifacts / "sessions" / f"{DAY}.json"]
    for link in links:
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
    return links


def test_one_day_one_owner_and_a_dead_controllers_engines_are_cleaned_up(tmp_path: Path) -> None:
    """A second `session run` (another project name) and a bare engine refuse, naming the first controller;
    once it is SIGKILLed, the next run stops its orphaned engines before starting its own, finishes the day
    and reports it; links planted at the paths it writes leave their target untouched."""
    day = make_day(tmp_path, SMALL)
    second = Day(day.project + "-b", day.root, day.config)
    target = tmp_path / "authorized_keys"
    target.write_text("ssh-ed25519 AAAA root's key\n")
    target.chmod(0o600)
    first = day.start("--layout", "multi", "--speed", "200")
    try:
        day.wait_for_sim_time("fno", "09:30")
        refused = second.run("--layout", "single", timeout=120)
        assert refused.returncode == 5, refused.stderr[-3000:]
        assert re.search(
            rf"is in use by pid {first.pid} on .*\(python -m session run .*in project {day.project}",
            refused.stderr,
        )
        bare = run_engine("engines", day.config, day.artifacts, timeout=60)
        assert bare.returncode == 5 and f"pid {first.pid}" in bare.stderr, bare.stderr[-3000:]

        first.kill()  # SIGKILL: no cleanup, no report; its three engine containers run on
        first.wait(10)
        orphans = day.containers()
        assert len([c for c in orphans if c]) >= 3
        links = plant_links(day, target)

        resumed = second.run("--layout", "multi", "--speed", "max", timeout=300)
        assert resumed.returncode == 0, resumed.stderr[-4000:]
        assert re.search(
            rf"the previous controller \(pid {first.pid} .*\) died and left {day.project}-\w+-1",
            resumed.stderr,
        ), resumed.stderr[-4000:]
        assert day.containers() == []  # the dead controller's engines are gone, never beside the new ones
        record = assert_day_reported(second, "close")
        assert {e["exit_code"] for e in record["engines"].values()} == {0}
        assert record["project"] == second.project and record["eod_exit_code"] == 0
        resumes = [
            json.loads(line)["event"]
            for line in (day.artifacts / "journal" / DAY / "fno.jsonl").read_text().splitlines()
        ]
        assert "resume" in resumes  # the new engines took the day over from their journals
    finally:
        if first.poll() is None:
            first.kill()
        _remove(day.project)
        _remove(second.project)
    assert target.read_text() == "ssh-ed25519 AAAA root's key\n"
    assert (target.stat().st_uid, target.stat().st_mode & 0o777) == (0, 0o600)
    for link in links:  # each was replaced by the real file, not written through
        assert not link.is_symlink() or link.resolve() != target


def test_a_docker_error_mid_day_still_stops_the_engines_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """`docker inspect` failing while the engines run: the controller stops them, writes the session record,
    runs the end-of-day job and exits 1."""
    day = make_day(tmp_path, SMALL)

    class FailingInspect(Compose):
        calls = 0

        def exited(self, service: str, container: Any) -> Exited | None:
            FailingInspect.calls += 1
            if FailingInspect.calls == 4:
                raise DockerException(["docker", "container", "inspect"], 1, stderr=b"injected: daemon error")
            return super().exited(service, container)

    monkeypatch.setattr(cli, "Compose", FailingInspect)
    environment = dict(os.environ)  # Compose exports compose.yaml's variables into this process
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # cli.main sets up its own logging on stderr
    try:
        args = ["run", "--config", str(day.config), "--project-name", day.project, "--layout", "multi"]
        code = cli.main([*args, "--speed", "100"])
        stderr = capfd.readouterr().err
        assert code == 1, stderr[-4000:]
        assert "the controller failed (injected: daemon error): stopping the engines" in stderr
        record = assert_day_reported(day, "controller_failed")
        assert record["exit_code"] == 1 and record["eod_exit_code"] == 0
        assert day.containers() == []
    finally:
        root.handlers[:], root.level = handlers, level
        os.environ.clear()
        os.environ.update(environment)
        _remove(day.project)


def test_a_paused_engine_is_detected_then_the_day_stops_and_reports(tmp_path: Path) -> None:
    day = make_day(tmp_path, merge(SMALL, {"controller": {"heartbeat_limit_s": 6}}))
    process = day.start("--layout", "multi", "--speed", "30")
    try:
        day.wait_for_sim_time("equity", "09:16")
        subprocess.run(["docker", "pause", f"{day.project}-equity-1"], check=True, capture_output=True)
        paused = time.monotonic()
        _, stderr = process.communicate(timeout=180)
        assert process.returncode == 1, stderr[-4000:]
        match = re.search(
            r"ERROR +session \| engine equity \(service equity\): no heartbeat for (\d+) s \(limit "
            r"controller.heartbeat_limit_s = 6 s\): it is hung or paused",
            stderr,
        )
        assert match, stderr[-4000:]
        assert int(match.group(1)) <= 6 + 3  # noticed within the limit and a poll or two
        record = assert_day_reported(day, "engine_hung")
        assert record["exit_code"] == 1
        assert time.monotonic() - paused < 120
        assert day.containers() == []
    finally:
        if process.poll() is None:
            process.kill()
        _remove(day.project)


def test_with_restart_on_a_killed_engine_resumes_and_the_day_ends_as_an_uninterrupted_one(
    tmp_path: Path,
) -> None:
    patch = merge(SMALL, {"controller": {"restart": "on-failure", "max_restarts": 2}})
    day = make_day(tmp_path, patch)
    reference = tmp_path / "reference"
    assert run_engine("engines.equity", day.config, reference, timeout=180).returncode == 0
    process = day.start("--layout", "multi", "--speed", "600")
    try:
        day.wait_for_sim_time("equity", "10:30")
        subprocess.run(["docker", "kill", f"{day.project}-equity-1"], check=True, capture_output=True)
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-4000:]
        assert re.search(
            r"engine equity \(container [0-9a-f]{12}\) exited with code 137 \(killed \(SIGKILL\)\): "
            r"restarting it \(restart 1 of 2\)",
            stderr,
        ), stderr[-4000:]
        record = assert_day_reported(day, "close")
        assert [r["exit_code"] for r in record["engines"]["equity"]["restarts"]] == [137]
        assert record["engines"]["equity"]["exit_code"] == 0
        assert book(day.artifacts, "equity") == book(reference, "equity")  # same positions, P&L, orders
        report = day.report()
        assert any("was restarted by the controller" in note for note in report["outcome"]["notes"])
    finally:
        if process.poll() is None:
            process.kill()
        _remove(day.project)


def test_git_clone_then_docker_compose_up_runs_the_three_engines_with_no_setup_step(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    assert (clone / "artifacts").stat().st_uid == os.geteuid()  # as cloned: not the container user's
    project = f"pfclone-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERFLEET_", "COMPOSE_"))}
    env |= {"COMPOSE_PROJECT_NAME": project, "PAPERFLEET_SPEED": "max", "PAPERFLEET_DATE": DAY}
    try:
        up = subprocess.run(
            ["docker", "compose", "up"], cwd=clone, capture_output=True, text=True, timeout=600, env=env
        )
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        listed = subprocess.run(
            ["docker", "compose", "ps", "-a", "--format", "json"],
            cwd=clone, capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        states = {(s["Service"], s["ExitCode"]) for s in map(json.loads, listed.stdout.splitlines())}
        assert states == {("artifacts", 0), ("fno", 0), ("equity", 0), ("options", 0)}, up.stdout[-3000:]
        assert "Permission denied" not in up.stdout
        checkpoints = sorted(p.name for p in (clone / "artifacts" / "checkpoints").iterdir())
        assert checkpoints == ["equity.json", "fno.json", "options.json"]
    finally:
        subprocess.run(["docker", "compose", "down", "-v"], cwd=clone, capture_output=True, env=env)
        shutil.rmtree(clone, ignore_errors=True)


def test_the_single_services_health_check_names_only_the_enabled_engines(tmp_path: Path) -> None:
    day = make_day(tmp_path, merge(SMALL, {"engines": {"options": {"enabled": False}}}))
    process = day.start("--layout", "single", "--speed", "20")
    try:
        day.wait_for_sim_time("fno", "09:16")
        deadline = time.monotonic() + 60
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            inspected = subprocess.run(
                ["docker", "inspect", "--format", "{{json .State.Health}}", f"{day.project}-single-1"],
                capture_output=True, text=True,
            )  # fmt: skip
            health = json.loads(inspected.stdout or "null") or {}
            if health.get("Status") in ("healthy", "unhealthy"):
                break
            time.sleep(1)
        assert health.get("Status") == "healthy", health
        assert "options" not in health["Log"][-1]["Output"]
    finally:
        process.terminate()
        process.communicate(timeout=120)
        _remove(day.project)


def test_session_status_shows_each_engine_from_another_terminal(tmp_path: Path) -> None:
    day = make_day(tmp_path, SMALL)
    process = day.start("--layout", "multi", "--speed", "60")
    try:
        day.wait_for_sim_time("options", "09:20")
        shown = subprocess.run(
            [sys.executable, "-m", "session", "status", "--config", str(day.config), "--json"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        status = json.loads(shown.stdout)
        assert status["held_by"]["pid"] == process.pid and status["held_by"]["project"] == day.project
        assert "token" not in status["held_by"]
        rows = {r["engine"]: r for r in status["engines"]}
        assert set(rows) == {"fno", "equity", "options"}
        for row in rows.values():
            assert row["state"] == "running" and row["heartbeat_age_s"] < 10 and row["error"] is None
            assert row["time_ist"] >= f"{DAY}T09:20"
        table = subprocess.run(
            [sys.executable, "-m", "session", "status", "--config", str(day.config)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert f"day held by pid {process.pid}" in table.stdout and "net P&L" in table.stdout
    finally:
        process.terminate()
        process.communicate(timeout=120)
        _remove(day.project)
