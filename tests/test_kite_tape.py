"""The emulator's tape: the day state it folds equals what one instrument's own SimFeed gives, the clock
maps wall time to steps at any speed and wraps at the close into a fresh day."""

from __future__ import annotations

import threading
from datetime import date

import numpy as np
import pytest

from engines.kite.emulator.config import MARKET_CLOSE, MARKET_OPEN
from engines.kite.emulator.tape import MarketClock, Tape
from engines.market.sim import MarketSimulator, SimFeed, SimSession

SESSION = SimSession(5, date(2026, 11, 27), MARKET_OPEN, MARKET_CLOSE)


@pytest.fixture(scope="module")
def market() -> MarketSimulator:
    return MarketSimulator(SESSION)


def test_folded_day_state_matches_a_feed_of_one_instrument(market: MarketSimulator) -> None:
    tape = Tape(market)
    snap = tape.advance(0, 45, emit=3)[-1]  # steps 0-42 folded in chunks, 43-45 one at a time
    assert snap.step == 45
    for instrument in (market.master.current_future("BANKNIFTY"), market.master.equity("INFY")):
        assert instrument is not None
        feed = SimFeed(market)
        feed.subscribe([instrument])
        feed.open(SESSION.start_ms - 1)
        sim = feed.read(SESSION.step_ms(45), threading.Event())
        row = tape.row_of[instrument.token]
        price, quantity = sim.last_price, sim.last_quantity
        assert snap.last_price[row] == price[-1] and snap.volume[row] == sim.volume[-1]
        assert (snap.open[row], snap.high[row], snap.low[row]) == (price[0], price.max(), price.min())
        assert snap.average_price[row] == round(int((price * quantity).sum()) / int(quantity.sum()))
        assert (snap.oi_day_high[row], snap.oi_day_low[row]) == (sim.oi.max(), sim.oi.min())
        assert np.array_equal(snap.bid_price[row], sim.bid_price[-1])
        assert snap.buy_quantity[row] == sim.bid_quantity[-1].sum()
    first = tape.snapshot
    assert first is not None
    [restarted] = tape.advance(1, 0, emit=1)  # the next cycle: a fresh day from the open
    assert (restarted.cycle, restarted.step) == (1, 0)
    assert (restarted.open == restarted.last_price).all() and (restarted.volume <= first.volume).all()
    assert tape.advance(0, 50, emit=1) == []  # a past cycle is ignored


def test_clock_runs_at_speed_and_wraps_at_the_close() -> None:
    clock = MarketClock(SESSION, speed=10.0, start_step=100, started=1000.0)
    assert clock.position(1000.0) == (0, 100)
    assert clock.position(1002.55) == (0, 125)
    assert clock.position(999.0) == (0, 100)  # never before the start
    end = clock.wall_time(0, SESSION.steps)
    assert clock.position(end) == (1, 0)
    assert clock.wall_time(*clock.position(1002.55)) <= 1002.55 < clock.wall_time(0, 126)
