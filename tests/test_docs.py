"""The documents are part of the contract: they must name what the code writes and runs."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path

from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.recorder import ORDER_COLUMNS, SIGNAL_COLUMNS, EventKind
from engines.kite.history import warmup_bars
from engines.kite.instruments import load_kite_master
from engines.kite.ratelimit import Route
from engines.kite.secrets import KEYS
from tests.helpers import ROOT
from tests.test_kite_dump_and_history import StubCandles, StubDump, nifty, quirky_dump

ARTIFACTS = (ROOT / "docs" / "artifacts.md").read_text()
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    return ARTIFACTS.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_csv_column_is_documented_in_order() -> None:
    for title, columns in (("orders.csv", ORDER_COLUMNS), ("signals.csv", SIGNAL_COLUMNS)):
        documented = re.findall(
            r"`([a-z_]+)`",
            "".join(line.split("|")[1] for line in section(title).splitlines() if line.startswith("| `")),
        )
        assert documented == list(columns), title


def test_every_journal_event_is_documented() -> None:
    documented = set(
        re.findall(
            r"`([a-z_]+)`",
            "".join(
                line.split("|")[1]
                for line in section("journal/<date>/<engine>.jsonl").splitlines()
                if line.startswith("| `")
            ),
        )
    )
    assert documented == {kind.value for kind in EventKind}


def test_the_checkpoint_keys_are_documented() -> None:
    source = (ROOT / "engines" / "engine.py").read_text()
    keys = re.findall(r'"([a-z_]+)":', source.split("def checkpoint(self)", 1)[1].split("def ", 1)[0])
    text = section("checkpoints/<engine>.json")
    assert len(keys) > 15 and [k for k in keys if f"`{k}`" not in text] == []


def test_the_quick_start_commands_exist_and_run_the_documented_scripts() -> None:
    quick = README.split("## Quick start", 1)[1].split("## ", 1)[0]
    commands = re.findall(r"^(scripts/\S+)", quick, re.MULTILINE)
    assert commands == ["scripts/day.sh", "scripts/test.sh"]
    for command in commands:
        assert os.access(ROOT / command, os.X_OK), command
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    assert "session run --layout multi" in (ROOT / "scripts" / "day.sh").read_text()
    for documented in (
        "python -m engines.fno --config configs/dev.yaml --mode paper",
        "python -m engines --config",
        "--layout single",
        "--dry-run",
        "docker compose up",
    ):
        assert documented in README


def test_constraints_agree_with_the_direct_pins_in_pyproject() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = [
        *project["dependencies"],
        *(d for extra in project["optional-dependencies"].values() for d in extra),
    ]
    pins = dict(
        line.split("==")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    normalise = {name.lower().replace("_", "-"): version for name, version in pins.items()}
    for requirement in (d for d in direct if "==" in d):
        name, version = requirement.split("==")
        assert normalise.get(name.lower().replace("_", "-")) == version, requirement


def test_the_kite_caches_and_the_secrets_file_are_documented(tmp_path: Path) -> None:
    paths, day = ArtifactPaths(tmp_path), date(2026, 11, 27)
    load_kite_master(StubDump(quirky_dump().encode()), paths, day)
    warmup_bars(StubCandles(), paths, nifty(), day, 5)
    text = section("Kite")
    for cache in (paths.instruments_source(day), paths.history(day, nifty().token)):
        assert [k for k in json.loads(cache.read_text()) if f"`{k}`" not in text] == [], cache.name
    assert all(f"`{route.value}`" in text for route in Route)
    secrets_readme = (ROOT / "secrets" / "README.md").read_text()
    assert [k for k in KEYS if f"`{k}`" not in secrets_readme] == []
    assert "session login --config configs/dev.yaml" in README and "06:00 IST" in README
