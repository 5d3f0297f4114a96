"""The options engine trades at the money all year: its chain follows spot, so every entry is within one
strike step of ATM on every trading day of 2026 (the chain used to stay where the day opened)."""

from __future__ import annotations

import csv
import logging
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engines.artifacts.layout import ArtifactPaths
from engines.assembly import assemble
from engines.config import EngineName, load_config
from engines.market.calendar import NseCalendar
from engines.market.source import SimMarket
from engines.money import rupees_to_paise
from tests.helpers import write_config

pytestmark = pytest.mark.slow


def test_every_options_entry_of_2026_is_within_one_strike_step_of_atm(tmp_path: Path) -> None:
    days = NseCalendar().trading_days(date(2026, 1, 1), date(2026, 12, 31))
    assert len(days) == 245
    # One tick a minute keeps a year of days fast; bars, the chain's window and ATM work as with 1 s ticks.
    patch = {
        "market_data": {"sim": {"tick_interval_s": 60}},
        "engines": {"options": {"strikes_each_side": 6}},
    }
    config_path = write_config(tmp_path / "cfg", patch)
    entries = recentred = 0
    for day in days:
        artifacts = tmp_path / day.isoformat()
        config = load_config(
            config_path, {"market_data.sim.date": day.isoformat(), "artifacts_dir": str(artifacts)}
        )
        market = SimMarket(config, ArtifactPaths(artifacts))
        engine = assemble(EngineName.OPTIONS, config, market, logging.getLogger("atm"))
        assert engine is not None
        engine.run(threading.Event())
        engine.recorder.close()
        with (artifacts / "signals.csv").open() as handle:
            longs = [row for row in csv.DictReader(handle) if row["action"] == "LONG"]
        with (artifacts / "orders.csv").open() as handle:
            filled = {(r["ts_ist"], r["symbol"]) for r in csv.DictReader(handle) if r["status"] == "COMPLETE"}
        for signal in longs:
            option = market.master.find("NFO", signal["symbol"])
            assert option is not None and option.underlying is not None
            step = market.master.chain(option.underlying, option.expiry).step_near(option.strike)
            spot = rupees_to_paise(Decimal(signal["price"]))
            assert abs(option.strike - spot) <= step, (day, signal["symbol"], signal["price"])
            entries += (signal["ts_ist"], signal["symbol"]) in filled
        journal = (artifacts / "journal" / day.isoformat() / "options.jsonl").read_text()
        recentred += '"event":"universe"' in journal
    assert entries > 1000  # a year of entries, not a handful
    assert recentred == len(days)  # the chain was placed around spot every day
