"""Where every artifact lives under the artifacts directory (docs/artifacts.md documents each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ArtifactPaths:
    root: Path

    @property
    def orders(self) -> Path:
        return self.root / "orders.csv"

    @property
    def signals(self) -> Path:
        return self.root / "signals.csv"

    def checkpoint(self, engine: str) -> Path:
        return self.root / "checkpoints" / f"{engine}.json"

    def journal(self, day: date, engine: str) -> Path:
        return self.root / "journal" / day.isoformat() / f"{engine}.jsonl"

    def market(self, day: date) -> Path:
        """The day's market record: the instrument master (and, on every feed, the ticks consumed)."""
        return self.root / "market" / day.isoformat()

    def instruments(self, day: date) -> Path:
        return self.market(day) / "instruments.csv"

    def instruments_source(self, day: date) -> Path:
        """Where a Kite download of the day's instruments.csv came from (the cache's provenance)."""
        return self.market(day) / "instruments.kite.json"

    def history(self, day: date, token: int) -> Path:
        """An instrument's warm-up minute bars from the trading days before `day`, as fetched from Kite."""
        return self.market(day) / "history" / f"{token}.json"

    def kite_ratelimit(self, route: str) -> Path:
        """The shared state of Kite's rate limit of one route family, for every process and container."""
        return self.root / "kite" / "ratelimit" / route

    def heartbeat(self, engine: str) -> Path:
        return self.root / "heartbeat" / f"{engine}.json"

    def session_outcome(self, day: date) -> Path:
        return self.root / "sessions" / f"{day.isoformat()}.json"

    def daily_report(self, day: date, suffix: str) -> Path:
        return self.root / "reports" / "daily" / f"{day.isoformat()}.{suffix}"
