"""Container health check: `python -m engines.health fno [equity options]` (or `--enabled`: the engines the
config enables) exits 0 when every named engine's heartbeat is today's and fresh, or says its day is
finished; 1 otherwise. Today's: written since this container started (its PID 1), and of PAPERFLEET_DATE
when that is set, so a beat left by an earlier day or run never counts. Kept free of heavy imports: it runs
every few seconds inside the container."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import yaml

from engines.artifacts.layout import ArtifactPaths

MAX_AGE_S = 15.0
ENGINES = ("fno", "equity", "options")


def healthy(artifacts: Path, engine: str, now: float, since: float = 0.0, day: str = "") -> tuple[bool, str]:
    path = ArtifactPaths(artifacts).heartbeat(engine)
    try:
        beat = json.loads(path.read_text())
        written = path.stat().st_mtime
    except (OSError, ValueError) as exc:
        return False, f"{engine}: no readable heartbeat at {path} ({exc})"
    if written < since:
        return False, f"{engine}: no heartbeat since this container started (the one there is older)"
    if day and beat.get("date") != day:
        return False, f"{engine}: the heartbeat is of {beat.get('date')}, not of {day}"
    if beat.get("status") == "finished":
        return True, f"{engine}: finished"
    if beat.get("status") == "failed":
        return False, f"{engine}: failed"
    if now - written > MAX_AGE_S:
        return False, f"{engine}: heartbeat is {now - written:.0f} s old"
    return True, f"{engine}: {beat.get('status')} at {beat.get('sim_time_ist')}"


def started_at(pid: int = 1) -> float:
    """When process `pid` started (the container's init: when the container started), epoch seconds."""
    try:
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
    except (OSError, ValueError, IndexError, StopIteration):
        return 0.0
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def enabled_engines(config: Path) -> list[str]:
    """The engines the config enables (plain YAML: pydantic would cost a second every few seconds)."""
    engines = (yaml.safe_load(config.read_text()) or {}).get("engines") or {}
    return [name for name in ENGINES if (engines.get(name) or {}).get("enabled", True) is not False]


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m engines.health ENGINE [ENGINE...] | --enabled", file=sys.stderr)
        return 2
    if argv == ["--enabled"]:
        argv = enabled_engines(Path(os.environ.get("PAPERFLEET_CONFIG", "configs/dev.yaml")))
    artifacts = Path(os.environ.get("PAPERFLEET_ARTIFACTS", "artifacts"))
    since, day = started_at(), os.environ.get("PAPERFLEET_DATE", "")
    results = [healthy(artifacts, engine, time.time(), since, day) for engine in argv]
    print("; ".join(message for _, message in results))
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
