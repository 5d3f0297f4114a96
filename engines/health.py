"""Container health check: `python -m engines.health fno [equity options]` exits 0 when every named
engine's heartbeat is fresh or its day is finished, 1 otherwise. Kept free of heavy imports: it runs
every few seconds inside the container."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from engines.artifacts.layout import ArtifactPaths

MAX_AGE_S = 15.0


def healthy(artifacts: Path, engine: str, now: float) -> tuple[bool, str]:
    path = ArtifactPaths(artifacts).heartbeat(engine)
    try:
        beat = json.loads(path.read_text())
        age = now - path.stat().st_mtime
    except (OSError, ValueError) as exc:
        return False, f"{engine}: no readable heartbeat at {path} ({exc})"
    if beat.get("status") == "finished":
        return True, f"{engine}: finished"
    if beat.get("status") == "failed":
        return False, f"{engine}: failed"
    if age > MAX_AGE_S:
        return False, f"{engine}: heartbeat is {age:.0f} s old"
    return True, f"{engine}: {beat.get('status')} at {beat.get('sim_time_ist')}"


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m engines.health ENGINE [ENGINE...]", file=sys.stderr)
        return 2
    artifacts = Path(os.environ.get("PAPERFLEET_ARTIFACTS", "artifacts"))
    results = [healthy(artifacts, engine, time.time()) for engine in argv]
    print("; ".join(message for _, message in results))
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
