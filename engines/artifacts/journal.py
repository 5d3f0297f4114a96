"""The journal: one engine's day as JSON lines, the record that everything else is rebuilt from.

An event is journalled before the book changes, so the book is never ahead of the journal; the CSVs and
the checkpoint are projections and caches of it. Each line carries the engine's sequence number, the
market time of the event (`ts_ist`) and the wall time it was written.

Resuming, the engine re-runs from its checkpoint (or the open) over the same market; the events it makes
again are matched against the journal's tail instead of being written twice (`Replayed`), so order IDs,
fills and P&L come out as if the day had never stopped. An event that does not match means the config,
the code or the market data changed mid-day: the engine stops rather than trade on a different history.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any

from engines.artifacts.files import AppendOnlyFile, cut_to_last_line
from engines.errors import EngineFailure


class EventKind(StrEnum):
    START = "start"
    RESUME = "resume"
    CAUGHT_UP = "caught_up"
    SIGNAL = "signal"
    ORDER = "order"
    FILL = "fill"
    REJECT = "reject"
    CANCEL = "cancel"
    TRIGGERED = "triggered"
    MODIFY = "modify"
    FEED = "feed"
    UNIVERSE = "universe"
    SQUARE_OFF = "square_off"
    RISK_HALT = "risk_halt"
    SYMBOL_BLOCKED = "symbol_blocked"
    FAULT = "fault"
    STOP = "stop"


# Events about this run rather than the day's trading: written by every run, never replayed.
LIFECYCLE = frozenset(
    {EventKind.START, EventKind.RESUME, EventKind.CAUGHT_UP, EventKind.FAULT, EventKind.FEED, EventKind.STOP}
)
_VOLATILE = ("seq", "wall_time")  # what differs between two runs that made the same event


class JournalMismatch(EngineFailure):
    """The re-run made a different event than the journal holds."""


class Journal:
    """Append-only JSON lines of one engine and day."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: AppendOnlyFile | None = None

    def read(self) -> list[dict[str, Any]]:
        """Every whole event, in order (a torn last line, left by a crash, is cut off first)."""
        if not self.path.exists():
            return []
        cut_to_last_line(self.path)
        events = []
        with self.path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    events.append(json.loads(line))
                except ValueError as exc:
                    raise EngineFailure(
                        f"{self.path}:{number}: not a journal event ({exc}); the file is damaged. Move it "
                        f"and the engine's checkpoint aside to start the day afresh"
                    ) from None
        return events

    def append(self, event: dict[str, Any]) -> None:
        if self._file is None:
            self._file = AppendOnlyFile(self.path)
        self._file.append(json.dumps(event, separators=(",", ":")).encode() + b"\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class Replayed:
    """The journal's events that a resumed engine must make again, in order, before it writes new ones."""

    def __init__(self, journal: Path, checkpoint: Path | None, events: Iterable[dict[str, Any]]) -> None:
        self._journal = journal
        self._checkpoint = checkpoint
        self._pending = deque(e for e in events if e["event"] not in LIFECYCLE)
        self.matched = 0

    def __len__(self) -> int:
        return len(self._pending)

    def match(self, event: dict[str, Any]) -> int:
        """The journalled twin's sequence number of `event`; JournalMismatch when they differ."""
        expected = self._pending.popleft()
        if _essence(expected) != _essence(event):
            origin = f"its checkpoint {self._checkpoint}" if self._checkpoint else "the open"
            raise JournalMismatch(
                f"{self._journal}: resuming from {origin}, the engine made a different event than the "
                f"journal holds at seq {expected['seq']}: journal {_summary(expected)}, "
                f"now {_summary(event)}. "
                f"The config, the code or the market data changed mid-day; move {self._journal} and the "
                f"checkpoint aside to run the day afresh"
            )
        self.matched += 1
        return int(expected["seq"])


def _essence(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in _VOLATILE}


def _summary(event: dict[str, Any]) -> str:
    return json.dumps(_essence(event), sort_keys=True)[:300]
