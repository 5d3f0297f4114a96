"""Test helpers: configs written from configs/dev.yaml with patches, and engine subprocesses."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEV_CONFIG = ROOT / "configs" / "dev.yaml"
DEV_UNIVERSE = ROOT / "configs" / "universe_equity.csv"
DAY = "2026-11-27"  # a Friday; NIFTY's weekly expiry is then Tuesday 1 Dec

# A small market for tests that run whole days but are not about scale.
SMALL: dict[str, Any] = {
    "trading": {
        "fno_universe": ["NIFTY", "BANKNIFTY"],
        "options_underlyings": ["NIFTY"],
        "equity_universe": ["RELIANCE", "TCS", "INFY", "SBIN"],
    },
    "engines": {"options": {"strikes_each_side": 2}},
}


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def write_config(
    directory: Path, patch: dict[str, Any] | None = None, universe_csv: str | None = None
) -> Path:
    """configs/dev.yaml with `patch` merged in, written to `directory` beside a universe CSV."""
    raw = yaml.safe_load(DEV_CONFIG.read_text())
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(merge(raw, patch or {}), sort_keys=False))
    text = DEV_UNIVERSE.read_text() if universe_csv is None else universe_csv
    (directory / "universe_equity.csv").write_text(text)
    return path


def engine_command(module: str, config: Path, artifacts: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        module,
        "--config",
        str(config),
        "--artifacts",
        str(artifacts),
        "--date",
        DAY,
        *extra,
    ]


def run_engine(
    module: str, config: Path, artifacts: Path, *extra: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        engine_command(module, config, artifacts, *extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
    )


def start_engine(module: str, config: Path, artifacts: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        engine_command(module, config, artifacts, *extra),
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFLEET_")}
    env["PYTHONPATH"] = str(ROOT)
    return env
