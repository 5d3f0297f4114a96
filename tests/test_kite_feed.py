"""The live Kite feed against the emulator: the official client's connection handling, our frame parser,
one shared connection per process, reconnects and resubscriptions, silence, and malformed frames."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from datetime import time as clock_time

import numpy as np
import pytest
from kiteconnect import KiteTicker
from pydantic import SecretStr

from engines.errors import EngineFailure
from engines.kite.emulator.facade import KiteEmulator
from engines.kite.emulator.packets import Encoder, Mode, Plan
from engines.kite.emulator.tape import Tape
from engines.kite.feed import FeedFailure, KiteFeed, TickerHub
from engines.kite.wire import Malformed, decode
from engines.market.calendar import ms, now_ist
from engines.market.sim import MarketSimulator, SimSession

pytestmark = pytest.mark.slow  # real sockets and reconnect delays
API_KEY, ACCESS_TOKEN = "feedkey", "feed-access-token-000000000000001"
DAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def market() -> MarketSimulator:
    return MarketSimulator(SimSession(7, DAY, clock_time(9, 15), clock_time(15, 30)))


@pytest.fixture(scope="module")
def emu() -> Iterator[KiteEmulator]:
    with KiteEmulator(
        api_key=API_KEY, api_secret="s", access_token=ACCESS_TOKEN, date=DAY, speed=1, heartbeat_s=0.3
    ) as emulator:
        yield emulator


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_decode_reads_every_layout_as_the_official_client_does(market: MarketSimulator) -> None:
    master = market.master
    tokens = np.array([i.token for i in master], dtype=np.int64)
    tape = Tape(market)  # the emulator's market: a snapshot per step
    (snap,) = tape.advance(0, 30, 1)
    index_row = next(r for r, i in enumerate(master) if i.symbol == "NIFTY 50")
    future_row = next(r for r, i in enumerate(master) if i.symbol == master.current_future("NIFTY").symbol)
    stock_row = next(r for r, i in enumerate(master) if i.symbol == "RELIANCE")
    tradable = np.array([i.tradable for i in master])
    modes = {index_row: Mode.FULL, future_row: Mode.FULL, stock_row: Mode.QUOTE}
    frame = Encoder(tokens).frame(snap, Plan.build(modes, tradable), now_s=1_795_753_800)
    ours = decode(frame, arrival_ms=1_795_753_800_500)
    theirs = {t["instrument_token"]: t for t in KiteTicker("k", "t")._parse_binary(frame)}
    assert sorted(ours.token.tolist()) == sorted(theirs)
    for k, token in enumerate(ours.token.tolist()):
        tick = theirs[token]
        assert ours.last_price[k] == round(tick["last_price"] * 100)
        if "depth" in tick:
            assert ours.bid_price[k].tolist() == [
                round(level["price"] * 100) for level in tick["depth"]["buy"]
            ]
            assert ours.ask_quantity[k].tolist() == [level["quantity"] for level in tick["depth"]["sell"]]
            assert ours.volume[k] == tick["volume_traded"] and ours.oi[k] == tick["oi"]
    # Full packets carry the exchange timestamp; the quote one (no timestamp) takes the arrival time.
    stamps = dict(zip(ours.token.tolist(), ours.ts.tolist(), strict=True))
    assert stamps[int(tokens[future_row])] == 1_795_753_800_000
    assert stamps[int(tokens[stock_row])] == 1_795_753_800_500
    # The feed streams full mode only: a quote-mode packet (Kite's snapshot on subscribing) is skipped.
    full = decode(frame, arrival_ms=1_795_753_800_500, full_only=True)
    assert sorted(full.token.tolist()) == sorted(int(tokens[r]) for r in (index_row, future_row))


def test_decode_refuses_a_frame_whose_packets_overrun_it() -> None:
    with pytest.raises(Malformed):
        decode(np.array([2, 8], dtype=">u2").tobytes() + bytes(8) + b"\x01", 0)
    assert len(decode(b"\x00", 0)) == 0  # a heartbeat


def feeds(
    emu: KiteEmulator, count: int, warn_s: float = 2.0, limit_s: float = 30.0
) -> tuple[TickerHub, list[KiteFeed]]:
    import logging

    hub = TickerHub(API_KEY, SecretStr(ACCESS_TOKEN), emu.ws_root, logging.getLogger("test.feed"))
    return hub, [KiteFeed(hub, warn_s, limit_s) for _ in range(count)]


def read_for(feed: KiteFeed, seconds: float) -> tuple[int, list[str]]:
    """Ticks and event kinds read over `seconds`, a tenth of a second at a time."""
    ticks, events = 0, []
    stop = threading.Event()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        batch = feed.read(ms(now_ist()) + 100, stop)
        ticks += len(batch)
        events += [e.what for e in feed.events()]
    return ticks, events


def test_engines_of_one_process_share_one_connection_and_each_gets_its_instruments(
    emu: KiteEmulator, market: MarketSimulator
) -> None:
    master = market.master
    _, (fno, options) = feeds(emu, 2)
    future, index = master.current_future("NIFTY"), master.index("NIFTY")
    before = sum(1 for e in emu.log() if e.get("event") == "connect")
    try:
        fno.subscribe([future])
        options.subscribe([index, future])  # an instrument both want: streamed once
        fno.open(ms(now_ist()))
        options.open(ms(now_ist()))
        got = read_for(fno, 3.0)
        batch = options.read(ms(now_ist()), threading.Event())
        assert got[0] >= 2 and "connected" in got[1]
        assert set(batch.token.tolist()) <= {future.token, index.token} and len(batch) >= 2
        futures = batch.token == future.token
        assert futures.any() and (batch.bid_price[futures, 0] > 0).all()  # never a book-less first tick
        connects = sum(1 for e in emu.log() if e.get("event") == "connect") - before
        assert connects == 1
    finally:
        fno.close()
        options.close()


def test_a_dropped_socket_reconnects_resubscribes_and_ticks_resume(
    emu: KiteEmulator, market: MarketSimulator
) -> None:
    _, (feed,) = feeds(emu, 1)
    try:
        feed.subscribe([market.master.current_future("BANKNIFTY")])
        feed.open(ms(now_ist()))
        assert read_for(feed, 2.0)[0] >= 1
        emu.fault("drop")
        ticks, events = read_for(feed, 8.0)
        assert "dropped" in events and "reconnected" in events
        assert ticks >= 2  # resubscribed: ticks came back
    finally:
        feed.close()


def test_a_malformed_frame_is_counted_and_skipped(emu: KiteEmulator, market: MarketSimulator) -> None:
    hub, (feed,) = feeds(emu, 1)
    try:
        feed.subscribe([market.master.current_future("FINNIFTY")])
        feed.open(ms(now_ist()))
        assert read_for(feed, 1.5)[0] >= 1
        emu.fault("malformed")
        ticks, events = read_for(feed, 2.5)
        assert "malformed" in events and hub.malformed == 1
        assert "dropped" not in events  # our parser skips it: the connection stays up
        assert ticks >= 1
    finally:
        feed.close()


def test_a_silent_feed_is_reported_then_fails_past_its_limit(
    emu: KiteEmulator, market: MarketSimulator
) -> None:
    _, (feed,) = feeds(emu, 1, warn_s=1.0, limit_s=3.0)
    try:
        feed.subscribe([market.master.current_future("NIFTY")])
        feed.open(ms(now_ist()))
        assert read_for(feed, 1.0)[0] >= 1
        emu.fault("silent")
        events: list[str] = []
        stop = threading.Event()
        with pytest.raises(
            FeedFailure, match=r"silent for 3 s \(limit: market_data.kite.silence_limit_s = 3 s\)"
        ):
            for _ in range(100):
                feed.read(ms(now_ist()) + 100, stop)
                events += [e.what for e in feed.events()]
        assert "silent" in events  # reported first, at silence_warn_s
        assert FeedFailure("x").exit_code == 4
    finally:
        emu.fault("resume")
        feed.close()


def test_one_connection_carries_at_most_3000_instruments(emu: KiteEmulator, market: MarketSimulator) -> None:
    instruments = list(market.master)[:3001]
    _, (first, second) = feeds(emu, 2)
    try:
        first.subscribe(instruments[:2000])
        second.subscribe(instruments[1000:3000])  # 1,000 shared: streamed once, 3,000 on the connection
        with pytest.raises(
            EngineFailure, match=r"would stream 3001 instruments on one connection; Kite allows 3000"
        ):
            second.subscribe(instruments[3000:])
        assert wait_for(lambda: emu.health()["connections"] == 1, 10)  # let the handshake finish ...
    finally:
        first.close()
        second.close()
    assert wait_for(lambda: emu.health()["connections"] == 0, 10)  # ... so that the close is seen through


def test_kite_refuses_a_fourth_connection_which_the_layouts_never_open(
    emu: KiteEmulator, market: MarketSimulator
) -> None:
    """The multi layout holds three connections (one per engine container), the single layout one: a
    fourth process on the same API key would be refused, as Kite refuses it."""
    future = market.master.current_future("NIFTY")
    # The earlier tests' sockets close asynchronously: count from none open, or one of them takes a slot.
    assert wait_for(lambda: emu.health()["connections"] == 0, 10), emu.health()
    before = len(emu.log())
    opened = [feeds(emu, 1)[1][0] for _ in range(4)]
    try:
        for feed in opened:
            feed.subscribe([future])
        assert wait_for(
            lambda: (
                sorted(r["status"] for r in emu.log()[before:] if r.get("event") == "connect")[:4]
                == [101, 101, 101, 429]
            ),
            20,
        )
    finally:
        for feed in opened:
            feed.close()
