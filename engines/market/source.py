"""Where an engine's market comes from: the day's instrument master, a feed of its ticks and a clock.

The assembly asks for a source by the config's `market_data.feed` and never learns which one it got.
One source serves every engine of a process (the single layout runs three), each engine with its own feed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from engines.artifacts.layout import ArtifactPaths
from engines.clock import Clock, SimClock
from engines.config import Config, FeedKind
from engines.errors import ConfigError
from engines.market.calendar import at_ist, ms
from engines.market.feed import Feed
from engines.market.instruments import InstrumentMaster
from engines.market.recording import read_recording
from engines.market.replay import ReplayFeed
from engines.market.sim import MarketSimulator, SimFeed, SimSession
from engines.market.ticks import TickBatch


class MarketSource(Protocol):
    @property
    def master(self) -> InstrumentMaster: ...

    def feed(self) -> Feed:
        """A new feed for one engine, subscribed to nothing yet."""
        ...

    def clock(self) -> Clock: ...


class SimMarket:
    """The built-in simulator: its master is written to the day's market record for later replays."""

    def __init__(self, config: Config, paths: ArtifactPaths) -> None:
        sim, session = config.market_data.sim, config.session
        day = config.trading_date()
        self._session = SimSession(
            sim.seed, day, session.market_open_ist, session.market_close_ist, sim.tick_interval_s
        )
        self._market = MarketSimulator(self._session)
        self._speed = sim.speed
        self.master = self._market.master
        self.master.write(paths.instruments(day))

    def feed(self) -> Feed:
        return SimFeed(self._market)

    def clock(self) -> Clock:
        return SimClock(ms(at_ist(self._session.day, self._session.market_open)), self._speed)


class RecordedMarket:
    """A recorded day: its master and its ticks, replayed at `speed` (inf: as fast as the engine goes)."""

    def __init__(
        self, master: InstrumentMaster, recording: list[TickBatch], open_ms: int, speed: float
    ) -> None:
        self.master = master
        self._recording = recording
        self._open_ms = open_ms
        self._speed = speed

    @classmethod
    def from_artifacts(cls, artifacts: Path, config: Config) -> RecordedMarket:
        """The day of `config` as recorded under `artifacts`/market/<date>/ (docs/artifacts.md)."""
        day = config.trading_date()
        directory = ArtifactPaths(artifacts).market(day)
        master_path = directory / "instruments.csv"
        if not master_path.exists():
            raise ConfigError(
                f"market_data.replay.recording: {artifacts} holds no recording of {day} ({master_path} is "
                f"missing); run that day first, or pick a recorded date"
            )
        open_ms = ms(at_ist(day, config.session.market_open_ist))
        return cls(
            InstrumentMaster.read(master_path, day),
            read_recording(directory),
            open_ms,
            config.market_data.sim.speed,
        )

    def feed(self) -> Feed:
        return ReplayFeed(self._recording)

    def clock(self) -> Clock:
        return SimClock(self._open_ms, self._speed)


def open_market(config: Config, paths: ArtifactPaths) -> MarketSource:
    feed = config.market_data.feed
    if feed is FeedKind.SIM:
        return SimMarket(config, paths)
    if feed is FeedKind.REPLAY and config.market_data.replay.recording is not None:
        market = RecordedMarket.from_artifacts(config.market_data.replay.recording, config)
        market.master.write(paths.instruments(config.trading_date()))
        return market
    raise ConfigError(
        f"market_data.feed: {config.market_data.feed.value!r} is not available in the engines yet "
        f"(only 'sim' and 'replay')"
    )
