"""Builds an engine for the day from the config and a market source, resumed from its journal.

This is the one place that knows what distinguishes the three engines:
- fno:     the current-month future of each index in trading.fno_universe;
- equity:  the cash stocks of the equity universe;
- options: each index and its nearest-expiry chain in a window around ATM that follows spot.
Each runs the strategy its config section names (engines/strategies), with its params.

Resuming: the journal is the record. A checkpoint that agrees with it (the same orders, fills and
positions up to its last event) is where the engine continues from; one that does not is set aside and
the day is rebuilt from the open. So is one ahead of the day's market record when the market can be
re-read (simulator, replay): re-running from the open records what a crash kept out of it. Either way
the engine re-runs the market from there, matching the events it makes again against the journal's tail,
and the CSV rows the journal holds but a crash kept out of the CSVs are written first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from engines.artifacts.checkpoints import StateStore
from engines.artifacts.journal import EventKind, Journal, Replayed
from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.recorder import Recorder
from engines.broker import PaperBroker
from engines.config import Config, EngineName
from engines.desk import Desk
from engines.engine import CHECKPOINT_SCHEMA, Engine, Status, TradingHours
from engines.errors import ConfigError
from engines.margins import MarginModel
from engines.market.calendar import at_ist, ms
from engines.market.instruments import InstrumentMaster
from engines.market.recording import MarketRecorder
from engines.market.source import MarketSource
from engines.money import Paise, rupees_to_paise
from engines.portfolio import Book
from engines.quotes import Quotes
from engines.risk import RiskLimits, RiskManager
from engines.strategies import resolve
from engines.strategies.context import Context
from engines.universe import FixedUniverse, OptionsUniverse, Universe

UniverseFactory = Callable[[Config, InstrumentMaster], Universe]


def _fno(config: Config, master: InstrumentMaster) -> Universe:
    return FixedUniverse([master.current_future(u) for u in config.trading.fno_universe])


def _equity(config: Config, master: InstrumentMaster) -> Universe:
    stocks = []
    for i, symbol in enumerate(config.trading.equity_universe):
        stock = master.equity(symbol)
        if stock is None:
            raise ConfigError(
                f"trading.equity_universe[{i}]: {symbol!r} is not an NSE stock in the instrument master of "
                f"{master.day}"
            )
        stocks.append(stock)
    return FixedUniverse(stocks)


def _options(config: Config, master: InstrumentMaster) -> Universe:
    return OptionsUniverse(
        master, config.trading.options_underlyings, config.engines.options.strikes_each_side
    )


UNIVERSES: dict[EngineName, UniverseFactory] = {
    EngineName.FNO: _fno,
    EngineName.EQUITY: _equity,
    EngineName.OPTIONS: _options,
}


def assemble(name: EngineName, config: Config, market: MarketSource, log: logging.Logger) -> Engine | None:
    """The engine for today, resumed from its journal when the day was interrupted; None when the day is
    already finished (a restarted container then has nothing to do)."""
    day = config.trading_date()
    paths = ArtifactPaths(config.artifacts_dir)
    journal = Journal(paths.journal(day, name.value))
    history = journal.read()
    store = StateStore(paths.checkpoint(name.value), paths.heartbeat(name.value), log)
    checkpoint = _todays(store.load(), day.isoformat())
    if checkpoint is not None:
        disagreement = _disagreement(checkpoint, history)
        if disagreement:
            log.warning(
                "checkpoint %s disagrees with journal %s (%s): rebuilding the day from the journal",
                store.path,
                journal.path,
                disagreement,
            )
            checkpoint = None
    market_recorder = (
        MarketRecorder(paths.market(day) / "ticks" / name.value, log) if config.market_data.record else None
    )
    if (
        checkpoint is not None
        and market.replayable
        and market_recorder is not None
        and market_recorder.recorded_through < checkpoint["done_ms"]
    ):
        # The market record (written a part at a time, behind the engine) stops before the checkpoint: re-run
        # the day from the open, which records what is missing, rather than leave a hole in the record. This
        # holds for a finished day too: a kill while its last part was being written loses that part.
        log.info(
            "the market record stops before the checkpoint: re-running the day from the open to complete it"
        )
        checkpoint = None
    start_seq = checkpoint["last_seq"] if checkpoint else 0
    tail = [e for e in history if e["seq"] > start_seq]
    if checkpoint and checkpoint["status"] == Status.FINISHED and not Replayed(journal.path, None, tail):
        log.info(
            "%s is already finished (%s); nothing to do. Move it aside to run the day again.", day, store.path
        )
        return None
    replay = Replayed(journal.path, store.path if checkpoint else None, tail) if tail else None

    master = market.master
    session, trading = config.session, config.trading
    book = Book(rupees_to_paise(trading.paper_capital))
    quotes = Quotes()
    universe = UNIVERSES[name](config, master)
    limits = RiskLimits(
        rupees_to_paise(trading.max_daily_loss),
        rupees_to_paise(trading.per_symbol_max_loss),
        trading.max_open_positions,
    )
    faults = config.faults
    hours = TradingHours(
        day,
        ms(at_ist(day, session.market_open_ist)),
        ms(at_ist(day, session.square_off_ist)),
        ms(at_ist(day, session.market_close_ist)),
        ms(at_ist(day, faults.at_ist)) if faults and faults.fail_engine is name else None,
        faults.action if faults else "fail",
    )
    recorder = Recorder(name.value, day, paths, journal, history, replay)
    added = recorder.reconcile(history)
    if added:
        log.warning("wrote %d CSV row(s) the journal held but a crash had kept out of the CSVs", added)
    execution = config.execution
    broker = PaperBroker(quotes, book, day, protection_pct=execution.market_protection_pct)
    risk = RiskManager(limits, day, margins=MarginModel(day, spot=index_levels(quotes, master)))
    desk = Desk(name.value, day, book, quotes, broker, risk, recorder, log, execution.latency_ms)
    section = config.engines.of(name)
    strategy_class = resolve(section.strategy, config.strategies_dir)
    context = Context(name.value, section.strategy, desk, quotes, master, recorder, log)
    strategy = strategy_class(strategy_class.Params.model_validate(section.params), context)
    engine = Engine(
        name.value,
        hours,
        market.clock(),
        market.feed(),
        universe,
        strategy,
        context,
        desk,
        quotes,
        recorder,
        store,
        log,
        market_recorder,
        history=market.warmup,
    )
    if checkpoint is not None:
        engine.restore(checkpoint, master.get)
    return engine


def index_levels(quotes: Quotes, master: InstrumentMaster) -> Callable[[str], Paise | None]:
    """An underlying's index level from the engine's quotes (short-option margins scan around it)."""
    tokens = master.rules.index_tokens

    def level(underlying: str) -> Paise | None:
        slot = quotes.slot(tokens.get(underlying, -1))
        return int(quotes.last_price[slot]) if slot is not None and quotes.seen[slot] else None

    return level


def _todays(checkpoint: dict[str, Any] | None, day: str) -> dict[str, Any] | None:
    if checkpoint is None or checkpoint.get("date") != day:
        return None
    return checkpoint


def _disagreement(checkpoint: dict[str, Any], history: list[dict[str, Any]]) -> str | None:
    """Why the checkpoint is not a state of the journal (None when it is one): the orders, fills and
    positions that the journal's events up to the checkpoint's last_seq add up to must be the checkpoint's."""
    if checkpoint.get("schema") != CHECKPOINT_SCHEMA:
        return f"checkpoint schema {checkpoint.get('schema')!r} is not this version's ({CHECKPOINT_SCHEMA})"
    last = history[-1]["seq"] if history else 0
    if checkpoint["last_seq"] > last:
        return f"the checkpoint is at seq {checkpoint['last_seq']} but the journal ends at seq {last}"
    upto = [e for e in history if e["seq"] <= checkpoint["last_seq"]]
    orders = sum(1 for e in upto if e["event"] == EventKind.ORDER)
    fills = [e for e in upto if e["event"] == EventKind.FILL]
    held: dict[str, int] = {}
    for fill in fills:
        units = sum(units for units, _ in fill["fill_levels"])
        held[fill["symbol"]] = held.get(fill["symbol"], 0) + (units if fill["side"] == "BUY" else -units)
    journal = {
        "orders": orders,
        "realised_paise": sum(f["fill_realised_paise"] for f in fills),
        "charges_paise": sum(f["fill_charges_paise"]["total"] for f in fills),
        "positions": {s: q for s, q in held.items() if q},
    }
    saved = {
        "orders": checkpoint["orders"],
        "realised_paise": checkpoint["realised_paise"],
        "charges_paise": checkpoint["charges_paise"],
        "positions": {p["symbol"]: p["quantity"] for p in checkpoint["positions"] if p["quantity"]},
    }
    differing = [key for key in journal if journal[key] != saved[key]]
    return f"{', '.join(differing)} differ" if differing else None
