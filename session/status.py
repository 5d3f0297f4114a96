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
from datetime import datetime
from typing import Any, TextIO

from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.nofollow import read_file

log = logging.getLogger("session")


def read_heartbeat(paths: ArtifactPaths, engine: str) -> dict[str, Any] | None:
    """An engine's last heartbeat (read without following a link: the controller runs as root)."""
    try:
        relative = paths.heartbeat(engine).relative_to(paths.root).as_posix()
        data = json.loads(read_file(paths.root, relative))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


OVER = ("finished", "stopped", "failed")  # an engine whose day is over beats no more


def beat_time(beat: dict[str, Any]) -> float | None:
    try:
        return datetime.fromisoformat(str(beat["wall_time"])).timestamp()
    except (KeyError, ValueError):
        return None


def heartbeat_age(paths: ArtifactPaths, engine: str, since: float, now: float) -> tuple[float, bool] | None:
    """(seconds since the engine last beat, whether it has beaten since `since`, its start); None once its
    day is over (finished, stopped or failed: it beats no more)."""
    beat = read_heartbeat(paths, engine)
    at = beat_time(beat) if beat is not None else None
    beaten = beat is not None and at is not None and at >= since
    if beaten and beat is not None and beat.get("status") in OVER:
        return None
    return now - max(at or since, since), beaten


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


# --- `session status`, from another terminal -------------------------------------------------------------


def engine_status(paths: ArtifactPaths, engines: Sequence[str], now: float) -> list[dict[str, Any]]:
    """Each engine's state as its heartbeat tells it (None fields: not beating yet)."""
    rows = []
    for engine in engines:
        beat = read_heartbeat(paths, engine) or {}
        at = beat_time(beat)
        rows.append(
            {
                "engine": engine,
                "state": beat.get("status", "no heartbeat"),
                "heartbeat_age_s": round(now - at, 1) if at is not None else None,
                "date": beat.get("date"),
                "time_ist": beat.get("sim_time_ist"),
                "orders": beat.get("orders"),
                "rejections": beat.get("rejections"),
                "open_positions": beat.get("open_positions"),
                "net_pnl": beat.get("net_pnl"),
                "error": beat.get("error"),
            }
        )
    return rows


def status_text(holder: str | None, rows: list[dict[str, Any]]) -> str:
    lines = [f"day held by {holder}" if holder else "no session holds this artifacts directory now"]
    header = ("engine", "state", "beat age", "market time", "orders", "net P&L", "last error")
    table: list[tuple[str, ...]] = [header]
    for r in rows:
        age = f"{r['heartbeat_age_s']:.1f} s" if r["heartbeat_age_s"] is not None else "-"
        when = f"{r['date']} {str(r['time_ist'])[11:19]}" if r["time_ist"] else "-"
        cells = (r["engine"], r["state"], age, when, r["orders"], r["net_pnl"], r["error"])
        table.append(tuple("-" if c is None else str(c) for c in cells))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    return "\n".join(lines) + "\n"
