"""Integration: a Kite-fed day through `session run`, against the Kite emulator running as a compose service
(docker/kite-emulator.yaml), in the multi and the single layout at once (each with its own emulator: the
two days share nothing but the images, and overlapping them halves the wait for the session windows).

For each layout: the checks pass, ticks reach all three engines through the official client, the trader's
strategy (a mounted strategies_dir) trades and is paper-filled, the report is written, the emulator's
request log shows no order route and one ticker connection per engine process (within Kite's 3 per API
key), the engines sit on the emulator's internal network alone, locked down, and the canary access token
is in no log, artifact, report, or `docker inspect` of any container.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.kite_day import CANARY, CONTAINER_UID, KiteDay, files_holding, write_kite_day
from tests.test_docker_session import _remove, docker_engine  # noqa: F401  (the module's fixture)

pytestmark = pytest.mark.docker
EMULATOR_STACK = "docker/kite-emulator.yaml"
ENGINES = ("fno", "equity", "options")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LayoutDay:
    layout: str
    day: KiteDay
    project: str
    network: str
    log_dir: Path
    env: dict[str, str]
    inspected: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id: the containers as they ran
    result: subprocess.CompletedProcess[str] | None = None

    @property
    def emulator_project(self) -> str:
        return f"{self.project}-kite"

    def emulator(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = ["docker", "compose", "-f", EMULATOR_STACK, "--project-directory", str(ROOT)]
        return subprocess.run(
            [*command, "-p", self.emulator_project, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            env=os.environ | self.env,
        )

    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (self.log_dir / "requests.jsonl").read_text().splitlines()]


def prepare(tmp_path: Path, layout: str) -> LayoutDay:
    port = free_port()
    root = tmp_path / layout
    day = write_kite_day(root, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", for_containers=True)
    log_dir = root / "emulator" / "log"
    log_dir.mkdir()
    if os.geteuid() == 0:
        os.chown(log_dir, CONTAINER_UID, CONTAINER_UID)
    project = f"pfkite-{layout}-{uuid.uuid4().hex[:6]}"
    network = f"{project}-net"
    env = {
        "PAPERFLEET_KITE_EMULATOR_CREDENTIALS": str(day.credentials),
        "PAPERFLEET_KITE_EMULATOR_LOG_DIR": str(log_dir),
        "PAPERFLEET_KITE_EMULATOR_PORT": str(port),
        "PAPERFLEET_KITE_NETWORK": network,
    }
    if os.geteuid() != 0:
        env |= {"PAPERFLEET_UID": str(os.getuid()), "PAPERFLEET_GID": str(os.getgid())}
    return LayoutDay(layout, day, project, network, log_dir, env)


def inspect(project: str) -> list[dict[str, Any]]:
    ids = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    if not ids:
        return []
    found = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True)
    return list(json.loads(found.stdout)) if found.returncode == 0 else []


@pytest.fixture
def days(tmp_path: Path) -> Iterator[list[LayoutDay]]:
    made = [prepare(tmp_path, layout) for layout in ("multi", "single")]
    yield made
    for day in made:
        _remove(day.project)
        day.emulator("down", "--remove-orphans")


def test_a_kite_fed_day_runs_through_the_containers_in_both_layouts(days: list[LayoutDay]) -> None:
    for day in days:
        up = day.emulator("up", "-d", "--wait")
        assert up.returncode == 0, up.stderr[-3000:]
    processes = {
        day.layout: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "session",
                "run",
                "--config",
                str(day.day.config),
                "--project-name",
                day.project,
                "--layout",
                day.layout,
            ],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ | day.env,
        )
        for day in days
    }
    deadline = time.monotonic() + 600
    while any(p.poll() is None for p in processes.values()) and time.monotonic() < deadline:
        for day in days:  # every container as it runs (compose removes them at the end)
            day.inspected |= {c["Id"]: c for c in inspect(day.project)}
        time.sleep(1)
    for day in days:
        out, err = processes[day.layout].communicate(timeout=60)
        day.result = subprocess.CompletedProcess([], processes[day.layout].returncode, out, err)
        day.inspected |= {c["Id"]: c for c in inspect(day.emulator_project)}

    for day in days:
        check_day(day)


def check_day(day: LayoutDay) -> None:
    result = day.result
    assert result is not None
    assert result.returncode == 0, f"{day.layout}: {result.stderr[-5000:]}"
    for name in ("time", "secrets", "config", "token"):
        assert f"check {name:<10} PASS" in result.stderr, (name, result.stderr[:3000])
    artifacts = day.day.artifacts

    # Ticks through the official client into every engine, and the trader's strategy's orders filled.
    with (artifacts / "orders.csv").open() as handle:
        orders = list(csv.DictReader(handle))
    for engine in ENGINES:
        entries = [o for o in orders if o["engine"] == engine and o["tag"] == "entry"]
        assert entries and all(o["status"] == "COMPLETE" for o in entries), (day.layout, engine, orders)
        assert {o["strategy"] for o in entries} == {"opening_trade.py:OpeningTrade"}
    report = json.loads((artifacts / "reports" / "daily" / f"{day.day.date}.json").read_text())
    assert report["session"]["ended_by"] == "close" and set(report["engines"]) == set(ENGINES)
    assert report["backtest"]["status"] == "ok", report["backtest"]  # the eod container replayed the day
    assert all(e["status"] == "finished" for e in report["engines"].values()), report["engines"]

    # The emulator: no order route ever; one ticker connection per engine process.
    requests = day.requests()
    assert [r for r in requests if r.get("order_route")] == []
    connects = [r["status"] for r in requests if r.get("event") == "connect"]
    assert connects == [101] * (3 if day.layout == "multi" else 1), (day.layout, connects)

    # The engines: on the emulator's internal network only, locked down; the canary nowhere.
    def service(container: dict[str, Any]) -> str:
        return str(container["Config"]["Labels"]["com.docker.compose.service"])

    engines = [c for c in day.inspected.values() if service(c) not in ("eod", "kite-emulator", "artifacts")]
    expected = set(ENGINES) if day.layout == "multi" else {"single"}
    assert {service(c) for c in engines} == expected
    for other in (
        c for c in day.inspected.values() if service(c) in ("eod", "artifacts")
    ):  # if caught running
        assert "/secrets" not in {m["Destination"] for m in other["Mounts"]}
        assert other["HostConfig"]["NetworkMode"] == "none"
    for container in engines:
        assert set(container["NetworkSettings"]["Networks"]) == {day.network}
        host = container["HostConfig"]
        assert host["ReadonlyRootfs"] and host["CapDrop"] == ["ALL"]
        assert "no-new-privileges:true" in host["SecurityOpt"]
        assert container["Config"]["User"].split(":")[0] not in ("", "0", "root")
        assert {m["Destination"]: m["RW"] for m in container["Mounts"]}["/secrets"] is False
    network = json.loads(
        subprocess.run(["docker", "network", "inspect", day.network], capture_output=True, text=True).stdout
    )
    assert network[0]["Internal"] is True
    assert CANARY not in json.dumps(list(day.inspected.values()))
    images = sorted({c["Config"]["Image"] for c in day.inspected.values()})
    history = "".join(
        subprocess.run(
            ["docker", "history", "--no-trunc", image], capture_output=True, text=True, check=True
        ).stdout
        for image in images
    )
    assert "paperfleet" in " ".join(images) and CANARY not in history
    assert CANARY not in result.stdout + result.stderr
    assert files_holding(artifacts, CANARY) == []
    assert files_holding(day.log_dir, CANARY) == []


def test_the_eod_job_never_mounts_the_secrets() -> None:
    env = os.environ | {"PAPERFLEET_KITE_NETWORK": "paperfleet-kite-emulator"}
    files = ["compose.yaml", "docker/compose.kite.yaml", "docker/compose.kite-emulated.yaml"]
    config = subprocess.run(
        [
            "docker",
            "compose",
            *(a for f in files for a in ("-f", f)),
            "--profile",
            "eod",
            "config",
            "--format",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert config.returncode == 0, config.stderr
    services = json.loads(config.stdout)["services"]
    assert "/secrets" not in {v["target"] for v in services["eod"]["volumes"]}
    assert services["eod"].get("network_mode") == "none"
    for engine in ENGINES:
        assert "/secrets" in {v["target"] for v in services[engine]["volumes"]}
        assert "network_mode" not in services[engine] and set(services[engine]["networks"]) == {"kite"}
