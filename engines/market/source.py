"""Where an engine's market comes from: the day's instrument master, a feed of its ticks and a clock.

The assembly asks for a source by the config's `market_data.feed` and never learns which one it got.
One source serves every engine of a process (the single layout runs three), each engine with its own feed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from engines.artifacts.layout import ArtifactPaths
from engines.clock import Clock, SimClock
from engines.config import Config, FeedKind
from engines.errors import ConfigError
from engines.kite.history import recorded_warmup
from engines.market.calendar import at_ist, ms
from engines.market.feed import Feed
from engines.market.instruments import Instrument, InstrumentMaster
from engines.market.recording import read_recording
from engines.market.replay import ReplayFeed
from engines.market.sim import MarketSimulator, SimFeed, SimSession
from engines.market.ticks import TickBatch
from engines.quotes import Bar


class MarketSource(Protocol):
    @property
    def master(self) -> InstrumentMaster: ...

    @property
    def replayable(self) -> bool:
        """Whether the feed can deliver any past moment of the day again (not so a live feed)."""
        ...

    def feed(self) -> Feed:
        """A new feed for one engine, subscribed to nothing yet."""
        ...

    def clock(self) -> Clock: ...

    def warmup(self, instrument: Instrument, count: int) -> list[Bar]:
        """Up to `count` of the instrument's latest minute bars before the day (Strategy.warmup)."""
        ...


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
        self.replayable = True

    def feed(self) -> Feed:
        return SimFeed(self._market)

    def clock(self) -> Clock:
        return SimClock(ms(at_ist(self._session.day, self._session.market_open)), self._speed)

    def warmup(self, instrument: Instrument, count: int) -> list[Bar]:
        return []  # the simulated day has no sessions before it


class RecordedMarket:
    """A recorded day: its master and its ticks, replayed at `speed` (inf: as fast as the engine goes)."""

    def __init__(
        self,
        master: InstrumentMaster,
        recording: list[TickBatch],
        open_ms: int,
        speed: float,
        history: ArtifactPaths | None = None,
    ) -> None:
        self.master = master
        self.replayable = True
        self._recording = recording
        self._open_ms = open_ms
        self._speed = speed
        self._history = history  # where the recorded day's warm-up bars are cached (a Kite day has them)

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
            ArtifactPaths(artifacts),
        )

    def feed(self) -> Feed:
        return ReplayFeed(self._recording)

    def clock(self) -> Clock:
        return SimClock(self._open_ms, self._speed)

    def warmup(self, instrument: Instrument, count: int) -> list[Bar]:
        if self._history is None:
            return []
        return recorded_warmup(self._history, instrument, self.master.day, count)


def open_market(config: Config, paths: ArtifactPaths, stop: threading.Event | None = None) -> MarketSource:
    """The market of `config`'s day for this process's engines (`stop` ends a wait on Kite's limits)."""
    feed = config.market_data.feed
    if feed is FeedKind.SIM:
        return SimMarket(config, paths)
    if feed is FeedKind.KITE:
        from engines.kite.market import KiteMarket  # the network client: only on the Kite feed

        return KiteMarket(config, paths, day=config.trading_date(), stop=stop)
    recording = config.market_data.replay.recording
    if recording is None:
        raise ConfigError(
            "market_data.replay.recording: the replay feed needs the artifacts directory of the day to "
            "replay (it holds market/<date>/)"
        )
    market = RecordedMarket.from_artifacts(recording, config)
    market.master.write(paths.instruments(config.trading_date()))
    return market
