"""One engine's checkpoint and heartbeat files.

The checkpoint is a cache of the journal: the engine's whole state at one moment, so a restart need not
re-run the day from the open. It is written atomically and durably, at most about once a second of wall
time and at every stop, and never while the engine is still re-running journalled events. The heartbeat
is a small status file for the controller and the container health check; failing to write one is
logged, never fatal (the journal and the CSVs are what matter).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from engines.artifacts.files import ArtifactWriteError, read_json, write_json_atomic
from engines.errors import EngineFailure
from engines.market.calendar import now_ist


class StateStore:
    def __init__(self, path: Path, heartbeat: Path, log: logging.Logger) -> None:
        self.path = path
        self.heartbeat = heartbeat
        self._log = log
        self._beat_failing = False

    def load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        try:
            data = read_json(self.path)
        except (OSError, ValueError) as exc:
            raise EngineFailure(
                f"{self.path}: unreadable checkpoint ({exc}); move it aside: the engine then rebuilds the "
                f"day from its journal"
            ) from exc
        if not isinstance(data, dict):
            raise EngineFailure(
                f"{self.path}: a checkpoint is a JSON object; move it aside to rebuild the day"
            )
        return data

    def save(self, checkpoint: dict[str, Any]) -> None:
        write_json_atomic(self.path, checkpoint, durable=True)

    def beat(self, status: dict[str, Any]) -> None:
        try:
            write_json_atomic(self.heartbeat, {**status, "wall_time": now_ist().isoformat()}, durable=False)
        except ArtifactWriteError as exc:
            if not self._beat_failing:
                self._log.warning("heartbeat not written: %s", exc)
            self._beat_failing = True
        else:
            self._beat_failing = False
