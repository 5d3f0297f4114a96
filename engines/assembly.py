"""Builds an engine from the config: its universe, strategy, clock, feed, broker, risk and recorder.

This is the one place that knows what distinguishes the three engines:
- fno:     current-month index futures of trading.fno_universe, EMA crossover, whole lots;
- equity:  the cash stocks of the equity universe, EMA crossover, order_value rupees per entry;
- options: the index spot and its nearest-expiry chain (ATM +/- strikes_each_side), trend-following
           ATM calls/puts with a stop loss.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from engines.artifacts.files import read_json
from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.recorder import Recorder, journal_last_seq
from engines.broker import PaperBroker
from engines.clock import SimClock
from engines.config import Config, EngineName, FeedKind
from engines.engine import DayPlan, Engine, Status
from engines.errors import ConfigError, EngineFailure
from engines.instruments import Instrument
from engines.market.sim import MarketSimulator, SimSession
from engines.money import rupees_to_paise
from engines.nse_calendar import at_ist
from engines.portfolio import Book
from engines.risk import RiskLimits, RiskManager
from engines.strategies.base import Strategy
from engines.strategies.ema_cross import EmaCross, by_value, whole_lots
from engines.strategies.option_trend import OptionTrend

StrategyFactory = Callable[[Config, MarketSimulator, Book], tuple[list[Instrument], Strategy]]


def _fno(config: Config, market: MarketSimulator, book: Book) -> tuple[list[Instrument], Strategy]:
    params = config.engines.fno.strategy
    futures = [market.future(u) for u in config.trading.fno_universe]
    return futures, EmaCross(futures, params.fast_ema, params.slow_ema, whole_lots(params.lots))


def _equity(config: Config, market: MarketSimulator, book: Book) -> tuple[list[Instrument], Strategy]:
    params = config.engines.equity.strategy
    stocks = [market.stock(s) for s in config.trading.equity_universe]
    return stocks, EmaCross(stocks, params.fast_ema, params.slow_ema, by_value(float(params.order_value)))


def _options(config: Config, market: MarketSimulator, book: Book) -> tuple[list[Instrument], Strategy]:
    section = config.engines.options
    params = section.strategy
    indices = [market.index(u) for u in config.trading.options_underlyings]
    chain = [
        o
        for u in config.trading.options_underlyings
        for o in market.option_chain(u, section.strikes_each_side)
    ]
    strategy = OptionTrend(
        indices, chain, book, params.fast_ema, params.slow_ema, params.lots, params.stop_loss_pct
    )
    return indices + chain, strategy


FACTORIES: dict[EngineName, StrategyFactory] = {
    EngineName.FNO: _fno,
    EngineName.EQUITY: _equity,
    EngineName.OPTIONS: _options,
}


def assemble(name: EngineName, config: Config, log: logging.Logger) -> Engine | None:
    """The engine for today, resumed from its checkpoint when the day was interrupted; None when the
    checkpoint says today is already finished (a restarted container then has nothing to do)."""
    if config.market_data.feed is not FeedKind.SIM:
        raise ConfigError(
            f"market_data.feed: {config.market_data.feed.value!r} is not available in the engines "
            f"yet (only 'sim'); the live Kite feed is planned work"
        )
    day = config.market_data.sim.trading_date()
    paths = ArtifactPaths(config.artifacts_dir)
    checkpoint = _todays_checkpoint(paths.checkpoint(name), day)
    if checkpoint is not None and checkpoint["status"] == Status.FINISHED:
        log.info(
            "%s is already finished (%s); nothing to do. Move it aside to run the day again.",
            day,
            paths.checkpoint(name),
        )
        return None

    session = config.session
    sim = config.market_data.sim
    market = MarketSimulator(
        SimSession(sim.seed, day, session.market_open_ist, session.market_close_ist, sim.tick_interval_s)
    )
    book = Book(rupees_to_paise(config.trading.paper_capital))
    instruments, strategy = FACTORIES[name](config, market, book)
    feed = market.feed(instruments)
    clock = SimClock(at_ist(day, session.market_open_ist), sim.speed)
    limits = RiskLimits(
        rupees_to_paise(config.trading.max_daily_loss),
        rupees_to_paise(config.trading.per_symbol_max_loss),
        config.trading.max_open_positions,
    )
    faults = config.faults
    plan = DayPlan(
        day,
        at_ist(day, session.square_off_ist),
        at_ist(day, faults.at_ist) if faults and faults.fail_engine is name else None,
    )
    # Events journalled after the last checkpoint (a SIGKILL between the two writes) keep their numbers:
    # numbering continues after the journal's tail, not after the checkpoint's last_seq.
    try:
        recorder = Recorder(
            name.value, paths, day, clock, last_seq=journal_last_seq(paths.journal(day, name))
        )
    except OSError as exc:
        raise EngineFailure(
            f"cannot write artifacts under {paths.root}: {exc}; the engine's user needs write "
            f"access (see README, 'Artifacts and ownership')"
        ) from exc
    engine = Engine(
        name.value,
        plan,
        clock,
        feed,
        strategy,
        book,
        PaperBroker(book, day),
        RiskManager(limits),
        recorder,
        paths.checkpoint(name),
        paths.heartbeat(name),
        log,
    )
    if checkpoint is not None:
        engine.resume_from(checkpoint)
        clock.restart_pacing_at(datetime.fromisoformat(checkpoint["as_of_ist"]))
    return engine


def _todays_checkpoint(path: Path, day: date) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        data = read_json(path)
    except (OSError, ValueError) as exc:
        raise EngineFailure(f"{path}: unreadable checkpoint ({exc}); move it aside to start afresh") from exc
    return data if isinstance(data, dict) and data.get("date") == day.isoformat() else None
