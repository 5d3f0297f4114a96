"""The live status line: simulated time and each engine's state, orders and P&L, from the heartbeats.

On a terminal it redraws one line in place every second; otherwise (CI, a log file) it logs a line every
few seconds, so progress stays visible without flooding the output.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from engines.artifacts.layout import ArtifactPaths

log = logging.getLogger("session")


def read_heartbeat(paths: ArtifactPaths, engine: str) -> dict[str, Any] | None:
    try:
        data = json.loads(paths.heartbeat(engine).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def status_line(paths: ArtifactPaths, engines: Sequence[str], exits: dict[str, int]) -> str:
    beats = {engine: read_heartbeat(paths, engine) for engine in engines}
    sim_times = [b["sim_time_ist"][11:19] for b in beats.values() if b and "sim_time_ist" in b]
    parts = [f"sim {min(sim_times) if sim_times else '--:--:--'}"]
    for engine in engines:
        beat = beats[engine]
        if beat is None:
            parts.append(f"{engine} starting")
            continue
        state = beat["status"] if engine not in exits else f"exited {exits[engine]}"
        parts.append(f"{engine} {state} {beat['orders']} orders P&L {beat['net_pnl']}")
    return " | ".join(parts)


class StatusBoard:
    def __init__(
        self, paths: ArtifactPaths, engines: Sequence[str], out: TextIO = sys.stdout, log_every_s: float = 5.0
    ) -> None:
        self._paths = paths
        self._engines = list(engines)
        self._out = out
        self._interactive = out.isatty()
        self._every = 1.0 if self._interactive else log_every_s
        self._next = 0.0
        self._width = 0

    def update(self, exits: dict[str, int], force: bool = False) -> None:
        now = time.monotonic()
        if now < self._next and not force:
            return
        self._next = now + self._every
        line = status_line(self._paths, self._engines, exits)
        if self._interactive:
            self._out.write("\r" + line.ljust(self._width))
            self._out.flush()
            self._width = len(line)
        else:
            log.info("status: %s", line)

    def finish(self) -> None:
        if self._interactive and self._width:
            self._out.write("\n")
            self._out.flush()
