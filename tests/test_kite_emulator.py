"""The Kite emulator against the official client (kiteconnect 5.2.2): real sockets, loopback only.

One emulator serves the module (building the market takes about two seconds); each test logs in with
its own request token. Ticker tests share the process's single Twisted reactor (it cannot restart), so
they close their KiteTicker rather than stop it, and call into it from the reactor thread.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
import requests
from kiteconnect import KiteConnect, KiteTicker
from kiteconnect import exceptions as kex
from twisted.internet import reactor

from engines.kite.emulator import KiteEmulator
from engines.kite.emulator.auth import checksum
from engines.kite.emulator.config import MARKET_CLOSE, MARKET_OPEN
from engines.market.instruments import COLUMNS
from engines.market.sim import MarketSimulator, SimFeed, SimSession
from engines.market.ticks import TickBatch

pytestmark = pytest.mark.slow  # real sockets and the official client's reconnects: seconds each

API_KEY, API_SECRET = "emu-key", "emu-secret"
DAY, SEED, SPEED = date(2026, 11, 27), 11, 4.0  # speed: 4 steps (ticks per instrument) per wall second
ROOT = Path(__file__).resolve().parents[1]
IST = timezone(timedelta(hours=5, minutes=30))
_tokens = (f"request-{i}" for i in range(1000))


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KiteEmulator]:
    log_path = tmp_path_factory.mktemp("kite") / "requests.jsonl"
    with KiteEmulator(
        api_key=API_KEY, api_secret=API_SECRET, request_tokens=[f"request-{i}" for i in range(40)],
        date=DAY, seed=SEED, speed=SPEED, heartbeat_s=0.3, log_path=log_path,
    ) as emulator:  # fmt: skip
        yield emulator


@pytest.fixture(scope="module")
def market() -> MarketSimulator:
    """The simulator the emulator plays, built independently: the oracle for prices and the master."""
    return MarketSimulator(SimSession(SEED, DAY, MARKET_OPEN, MARKET_CLOSE))


def login(emu: KiteEmulator) -> KiteConnect:
    kite = KiteConnect(API_KEY, root=emu.rest_root)
    kite.generate_session(next(_tokens), API_SECRET)
    return kite


def series(market: MarketSimulator, token: int, through_step: int) -> TickBatch:
    """One instrument's ticks from the open through `through_step`, from a SimFeed of its own."""
    instrument = market.master.get(token)
    assert instrument is not None
    feed = SimFeed(market)
    feed.subscribe([instrument])
    feed.open(market.session.start_ms - 1)
    return feed.read(market.session.step_ms(through_step), threading.Event())


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# --- REST -------------------------------------------------------------------------------------------


def test_login_checks_the_checksum(emu: KiteEmulator) -> None:
    kite = KiteConnect(API_KEY, root=emu.rest_root)
    session = kite.generate_session(next(_tokens), API_SECRET)
    assert isinstance(session["login_time"], datetime)  # the client parses only a 19-character login_time
    assert len(session["access_token"]) == 32 and kite.access_token == session["access_token"]
    with pytest.raises(kex.TokenException, match="Invalid `checksum`") as wrong:
        KiteConnect(API_KEY, root=emu.rest_root).generate_session(next(_tokens), "not-the-secret")
    assert wrong.value.code == 403
    spent = next(_tokens)
    KiteConnect(API_KEY, root=emu.rest_root).generate_session(spent, API_SECRET)
    with pytest.raises(kex.TokenException, match="invalid or has expired"):
        KiteConnect(API_KEY, root=emu.rest_root).generate_session(spent, API_SECRET)  # single use


def test_profile_and_margins_need_a_live_token(emu: KiteEmulator) -> None:
    kite = login(emu)
    assert kite.profile()["user_id"] == "PF0001"
    margins = kite.margins()
    assert set(margins) == {"equity", "commodity"} and margins["equity"]["available"]["cash"] > 0
    assert kite.margins("equity") == margins["equity"]
    with pytest.raises(kex.InputException) as bad:
        kite.margins("nope")
    assert bad.value.code == 400
    with pytest.raises(kex.TokenException):
        KiteConnect(API_KEY, access_token="0" * 32, root=emu.rest_root).profile()
    kite.invalidate_access_token()
    with pytest.raises(kex.TokenException) as gone:
        kite.profile()
    assert gone.value.code == 403


def test_expire_fault_refuses_every_token_until_a_new_login(emu: KiteEmulator) -> None:
    kite = login(emu)
    assert emu.fault("expire")["tokens"] >= 1
    with pytest.raises(kex.TokenException) as expired:
        kite.profile()
    assert expired.value.code == 403
    assert login(emu).profile()["user_id"] == "PF0001"


def test_instruments_csv_is_the_simulator_master(emu: KiteEmulator, market: MarketSimulator) -> None:
    kite = login(emu)
    raw = kite._get("market.instruments.all")  # the raw bytes, before the client's parsing
    assert raw.decode().splitlines()[0] == ",".join(COLUMNS)
    rows = kite.instruments()
    assert len(rows) == len(market.master)
    for row, instrument in zip(rows, market.master, strict=True):
        assert (row["instrument_token"], row["tradingsymbol"], row["exchange"], row["segment"]) == (
            instrument.token, instrument.symbol, instrument.exchange, instrument.segment,
        )  # fmt: skip
        assert row["lot_size"] == instrument.lot_size
        assert round(row["tick_size"] * 100) == instrument.tick
        assert round(row["strike"] * 100) == instrument.strike
        assert row["expiry"] == (instrument.expiry or "")
    assert {r["exchange"] for r in kite.instruments("NFO")} == {"NFO"}
    with pytest.raises(kex.InputException):
        kite.instruments("XYZ")


def test_quotes_are_the_simulators_prices(emu: KiteEmulator, market: MarketSimulator) -> None:
    kite = login(emu)
    future = market.master.current_future("NIFTY")
    index = market.master.index("NIFTY")
    first = emu.step
    quote = kite.quote(future.key, "NFO:NOSUCH26DECFUT")
    ltp = kite.ltp(future.key, index.key)
    ohlc = kite.ohlc(index.key)
    last = emu.step
    assert set(quote) == {future.key} and set(ltp) == {future.key, index.key} and set(ohlc) == {index.key}
    sim = series(market, future.token, last)
    q = quote[future.key]
    [step] = np.flatnonzero(sim.volume == q["volume"])  # volume grows every step: it names the step
    assert first <= step <= last
    assert q["instrument_token"] == future.token
    assert q["last_price"] == sim.last_price[step] / 100
    assert q["ohlc"]["open"] == sim.last_price[0] / 100
    assert q["ohlc"]["high"] == sim.last_price[: step + 1].max() / 100
    assert q["ohlc"]["low"] == sim.last_price[: step + 1].min() / 100
    assert q["oi"] == sim.oi[step]
    assert [d["price"] for d in q["depth"]["buy"]] == (sim.bid_price[step] / 100).tolist()
    assert [d["quantity"] for d in q["depth"]["sell"]] == sim.ask_quantity[step].tolist()
    assert isinstance(q["timestamp"], datetime)
    prices = {p / 100 for p in series(market, future.token, last + 1).last_price[first:].tolist()}
    assert ltp[future.key]["last_price"] in prices
    path = market.index_path("NIFTY")
    assert ltp[index.key]["last_price"] in {round(float(x) * 20) * 5 / 100 for x in path[first : last + 2]}


def test_historical_minute_candles_carry_ist_and_oi(emu: KiteEmulator, market: MarketSimulator) -> None:
    kite = login(emu)
    future = market.master.current_future("NIFTY")
    before = date(2026, 11, 26)
    candles = kite.historical_data(
        future.token, datetime(2026, 11, 26, 9, 15), datetime(2026, 11, 26, 15, 29), "minute", oi=True
    )
    assert len(candles) == 375
    assert candles[0]["date"] == datetime(2026, 11, 26, 9, 15, tzinfo=IST)
    assert candles[0]["date"].utcoffset() == timedelta(hours=5, minutes=30)
    assert set(candles[0]) == {"date", "open", "high", "low", "close", "volume", "oi"}
    day_before = MarketSimulator(SimSession(SEED, before, MARKET_OPEN, MARKET_CLOSE))
    sim = series(day_before, future.token, 59)
    assert candles[0]["open"] == sim.last_price[0] / 100
    assert candles[0]["high"] == sim.last_price.max() / 100
    assert candles[0]["close"] == sim.last_price[59] / 100
    assert (candles[0]["volume"], candles[0]["oi"]) == (sim.volume[59], sim.oi[59])
    fives = kite.historical_data(future.token, before, before + timedelta(days=1), "5minute")
    assert len(fives) == 75 and "oi" not in fives[0]  # a bare `to` date is its midnight
    days = kite.historical_data(future.token, date(2026, 11, 23), DAY, "day")
    assert [c["date"].date() for c in days] == [date(2026, 11, 23), date(2026, 11, 25), before, DAY]
    with pytest.raises(kex.InputException):
        kite.historical_data(future.token, date(2026, 1, 1), DAY, "minute")  # Kite's 60-day limit
    with pytest.raises(kex.InputException):
        kite.historical_data(future.token, before, DAY, "7minute")


GTT_LEG = {"transaction_type": "BUY", "quantity": 1, "order_type": "LIMIT", "product": "CNC", "price": 1500.0}
ORDER_CALLS: list[tuple[str, Callable[[KiteConnect], Any]]] = [
    ("place_order", lambda k: k.place_order("regular", "NFO", "NIFTY26DECFUT", "BUY", 65, "MIS", "MARKET")),
    ("modify_order", lambda k: k.modify_order("regular", "151220000000000", quantity=130)),
    ("cancel_order", lambda k: k.cancel_order("regular", "151220000000000")),
    ("orders", lambda k: k.orders()),
    ("order_history", lambda k: k.order_history("151220000000000")),
    ("order_trades", lambda k: k.order_trades("151220000000000")),
    ("trades", lambda k: k.trades()),
    ("convert_position", lambda k: k.convert_position("NSE", "INFY", "BUY", "day", 1, "MIS", "CNC")),
    ("place_gtt", lambda k: k.place_gtt("single", "INFY", "NSE", [1500.0], 1490.0, [GTT_LEG])),
    ("get_gtts", lambda k: k.get_gtts()),
    ("delete_gtt", lambda k: k.delete_gtt(123)),
    ("place_mf_order", lambda k: k.place_mf_order("INF090I01239", "BUY", amount=5000)),
    ("mf_sips", lambda k: k.mf_sips()),
    ("mf_holdings", lambda k: k.mf_holdings()),
]


def test_every_order_route_is_refused_and_logged(emu: KiteEmulator) -> None:
    kite = login(emu)
    logged_before = sum(1 for e in emu.log() if e.get("order_route"))
    for name, call in ORDER_CALLS:
        with pytest.raises(kex.PermissionException, match="orders are not accepted") as refused:
            call(kite)
        assert refused.value.code == 403, name
    order_lines = [e for e in emu.log() if e.get("order_route")][logged_before:]
    assert len(order_lines) == len(ORDER_CALLS)
    assert {(e["status"], e["error_type"]) for e in order_lines} == {(403, "PermissionException")}
    assert kite.positions() == {"net": [], "day": []}  # reading positions is not an order route


def test_admin_routes_and_unknown_routes(emu: KiteEmulator) -> None:
    health = requests.get(f"{emu.rest_root}/_emulator/health", timeout=5).json()
    assert health["status"] == "ok" and health["date"] == DAY.isoformat() and health["instruments"] > 3000
    bad = requests.post(f"{emu.rest_root}/_emulator/fault/meltdown", timeout=5)
    assert bad.status_code == 400 and bad.json()["error_type"] == "InputException"
    entries = requests.get(f"{emu.rest_root}/_emulator/log", timeout=5).json()["entries"]
    assert entries[-1]["route"] == "/_emulator/fault/{name}" and entries[-1]["status"] == 400
    unknown = requests.get(f"{emu.rest_root}/no/such/route", headers={"X-Kite-Version": "3"}, timeout=5)
    assert unknown.status_code == 404
    body = {"status": "error", "message": "Route not found", "error_type": "GeneralException", "data": None}
    assert unknown.json() == body
    assert entries[0]["kind"] == "admin" and all("?" not in str(e.get("route")) for e in entries)


# --- the ticker -------------------------------------------------------------------------------------


@dataclass
class Probe:
    """A KiteTicker and what it saw; subscriptions made on its first connect only (after a reconnect the
    client resubscribes by itself, which is what the tests check)."""

    ticker: KiteTicker
    modes: dict[str, list[int]]
    ticks: list[dict[str, Any]] = field(default_factory=list)
    frames: list[bytes] = field(default_factory=list)
    connects: int = 0
    closes: list[tuple[Any, Any]] = field(default_factory=list)
    errors: list[tuple[Any, Any]] = field(default_factory=list)

    @staticmethod
    def open(
        ws_root: str, access_token: str, modes: dict[str, list[int]], tries: int = 5, api_key: str = API_KEY
    ) -> Probe:
        ticker = KiteTicker(api_key, access_token, root=ws_root, reconnect_max_tries=tries)
        probe = Probe(ticker, modes)
        ticker.on_ticks = lambda ws, ticks: probe.ticks.extend(ticks)
        ticker.on_message = lambda ws, payload, binary: probe.frames.append(payload) if binary else None
        ticker.on_connect = probe._on_connect
        ticker.on_close = lambda ws, code, reason: probe.closes.append((code, reason))
        ticker.on_error = lambda ws, code, reason: probe.errors.append((code, reason))
        if reactor.running:  # Twisted is not thread-safe: later tickers connect from the reactor's thread
            reactor.callFromThread(ticker.connect, threaded=True)
        else:
            ticker.connect(threaded=True)
        return probe

    def _on_connect(self, ws: KiteTicker, response: Any) -> None:
        self.connects += 1
        if self.connects == 1:
            for mode, tokens in self.modes.items():
                ws.subscribe(tokens)
                ws.set_mode(mode, tokens)

    def close(self) -> None:
        reactor.callFromThread(self.ticker.close)
        wait_for(lambda: not self.ticker.is_connected(), 3)

    def ticks_of(self, token: int) -> list[dict[str, Any]]:
        return [t for t in list(self.ticks) if t["instrument_token"] == token]


def test_ticks_in_every_mode_match_the_simulator(emu: KiteEmulator, market: MarketSimulator) -> None:
    future, index = market.master.current_future("NIFTY"), market.master.index("NIFTY")
    stock = market.master.equity("RELIANCE")
    option = market.master.chain("NIFTY").window(market.master.chain("NIFTY").strikes[60], 0)[0]
    assert stock is not None
    modes = {"full": [future.token, index.token], "quote": [option.token], "ltp": [stock.token]}
    probe = Probe.open(emu.ws_root, login(emu).access_token, modes)
    try:
        assert wait_for(lambda: all(len(probe.ticks_of(t)) >= 4 for ts in modes.values() for t in ts), 5)
    finally:
        probe.close()
    last = emu.step
    now = datetime.now()  # the client stamps ticks in local time, naive
    full = probe.ticks_of(future.token)[-1]
    assert full["mode"] == "full" and full["tradable"] and len(full["depth"]["buy"]) == 5
    sim = series(market, future.token, last)
    [step] = np.flatnonzero(sim.volume == full["volume_traded"])
    assert full["last_price"] == sim.last_price[step] / 100
    assert full["last_traded_quantity"] == sim.last_quantity[step]
    assert full["ohlc"]["high"] == sim.last_price[: step + 1].max() / 100
    assert (full["oi"], full["depth"]["sell"][0]["price"]) == (sim.oi[step], sim.ask_price[step][0] / 100)
    assert abs((now - full["exchange_timestamp"]).total_seconds()) < 5  # the wall clock, not the sim's
    assert full["last_trade_time"] == full["exchange_timestamp"]
    quote = probe.ticks_of(option.token)[-1]
    assert quote["mode"] == "quote" and "depth" not in quote
    option_sim = series(market, option.token, last)
    [step] = np.flatnonzero(option_sim.volume == quote["volume_traded"])
    assert quote["last_price"] == option_sim.last_price[step] / 100
    ltp = probe.ticks_of(stock.token)[-1]
    assert set(ltp) == {"tradable", "mode", "instrument_token", "last_price"}
    assert ltp["last_price"] in {p / 100 for p in series(market, stock.token, last).last_price.tolist()}
    index_tick = probe.ticks_of(index.token)[-1]
    assert index_tick["mode"] == "full" and not index_tick["tradable"] and "exchange_timestamp" in index_tick
    levels = {round(float(x) * 20) * 5 / 100 for x in market.index_path("NIFTY")[: last + 1]}
    assert index_tick["last_price"] in levels
    steps_seen = len(probe.ticks_of(future.token))
    assert steps_seen <= 2 + SPEED * 5  # about one tick per instrument per market second


def test_heartbeats_keep_an_idle_socket_talking(emu: KiteEmulator) -> None:
    probe = Probe.open(emu.ws_root, login(emu).access_token, {})
    try:
        assert wait_for(lambda: len(probe.frames) >= 3, 3)  # heartbeat_s = 0.3 in this module
        assert set(probe.frames) == {b"\x00"} and probe.ticks == []
        assert probe.ticker.is_connected()
    finally:
        probe.close()


def test_drop_fault_reconnects_and_the_client_resubscribes(
    emu: KiteEmulator, market: MarketSimulator
) -> None:
    future = market.master.current_future("NIFTY")
    probe = Probe.open(emu.ws_root, login(emu).access_token, {"full": [future.token]})
    try:
        assert wait_for(lambda: len(probe.ticks) >= 2, 3)
        assert emu.fault("drop")["sockets"] >= 1
        assert wait_for(lambda: probe.connects == 2, 8)  # Twisted's first retry comes ~2.7 s later
        seen = len(probe.ticks)
        assert wait_for(lambda: len(probe.ticks) >= seen + 3, 4)
        assert probe.ticks[-1]["mode"] == "full"  # the client resubscribed in the mode it had
    finally:
        probe.close()
    events = [e["event"] for e in emu.log() if e["kind"] == "ws"]
    assert events.count("connect") >= 2 and "disconnect" in events


def test_silent_fault_sends_nothing_until_resume(emu: KiteEmulator, market: MarketSimulator) -> None:
    future = market.master.current_future("NIFTY")
    probe = Probe.open(emu.ws_root, login(emu).access_token, {"quote": [future.token]})
    try:
        assert wait_for(lambda: len(probe.ticks) >= 2, 3)
        emu.fault("silent")
        time.sleep(0.3)  # frames already in flight
        probe.frames.clear()
        probe.ticks.clear()
        time.sleep(1.5)  # five heartbeat periods, six steps
        assert probe.frames == [] and probe.ticks == []
        assert probe.ticker.is_connected()  # the client does not notice: the feed needs a watchdog
        emu.fault("resume")
        assert wait_for(lambda: len(probe.ticks) >= 2, 3)
    finally:
        emu.fault("resume")
        probe.close()


def test_pings_are_answered_except_when_silent(emu: KiteEmulator) -> None:
    """The official client never pings (KITE_AND_NSE.md §2.5); other clients may, so: a raw socket."""
    url = f"{emu.ws_root}/?api_key={API_KEY}&access_token={login(emu).access_token}"

    async def ping_twice() -> tuple[aiohttp.WSMsgType, aiohttp.WSMsgType | None]:
        async with aiohttp.ClientSession() as session, session.ws_connect(url, autoping=False) as ws:
            await ws.ping(b"one")
            answered = await _next_control(ws)
            emu.fault("silent")
            await ws.ping(b"two")
            try:
                silent: aiohttp.WSMsgType | None = await asyncio.wait_for(_next_control(ws), 1.0)
            except TimeoutError:
                silent = None
            return answered, silent

    try:
        assert asyncio.run(ping_twice()) == (aiohttp.WSMsgType.PONG, None)
    finally:
        emu.fault("resume")


async def _next_control(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMsgType:
    """The next message that is not a heartbeat."""
    while True:
        msg = await ws.receive()
        if msg.type is not aiohttp.WSMsgType.BINARY:
            return msg.type


def test_expired_token_fails_the_next_handshake(emu: KiteEmulator, market: MarketSimulator) -> None:
    kite = login(emu)
    emu.fault("expire")
    probe = Probe.open(emu.ws_root, kite.access_token, {"ltp": [market.master.index("NIFTY").token]}, tries=0)
    try:
        assert wait_for(lambda: bool(probe.closes), 5)
        assert probe.connects == 0
        assert any("403" in str(reason) for _, reason in probe.closes + probe.errors)
    finally:
        reactor.callFromThread(probe.ticker.stop_retry)
    assert any(e.get("event") == "connect" and e.get("status") == 403 for e in emu.log())


def test_malformed_frame_makes_the_client_reconnect(emu: KiteEmulator, market: MarketSimulator) -> None:
    """Recorded behaviour of kiteconnect 5.2.2: its parser raises struct.error inside autobahn's
    onMessage, autobahn drops the connection, and the factory reconnects and resubscribes."""
    future = market.master.current_future("NIFTY")
    probe = Probe.open(emu.ws_root, login(emu).access_token, {"ltp": [future.token]})
    try:
        assert wait_for(lambda: len(probe.ticks) >= 2, 3)
        assert emu.fault("malformed")["sockets"] >= 1
        assert wait_for(lambda: probe.connects == 2, 8)
        seen = len(probe.ticks)
        assert wait_for(lambda: len(probe.ticks) > seen, 4)
    finally:
        probe.close()


def test_fourth_socket_is_refused_with_429(emu: KiteEmulator) -> None:
    token = login(emu).access_token
    probes = [Probe.open(emu.ws_root, token, {}) for _ in range(3)]
    try:
        assert wait_for(lambda: all(p.connects == 1 for p in probes), 5)
        fourth = Probe.open(emu.ws_root, token, {}, tries=0)
        assert wait_for(lambda: bool(fourth.closes), 5)
        assert fourth.connects == 0 and any("429" in str(r) for _, r in fourth.closes + fourth.errors)
    finally:
        for probe in probes:
            probe.close()


# --- secrets ----------------------------------------------------------------------------------------


def test_canary_secrets_never_leave_the_emulator(tmp_path: Path) -> None:
    """The command-line emulator, credentials from a file: after a login, a bad checksum, a preset token,
    a logout (token in the query string), ticker handshakes good and bad and an order call, no secret is
    in the request log, stdout, stderr or any error text the client saw."""
    canary = "CANARY7f3a"
    secret, preset = f"{canary}-secret", f"{canary}-access-token"
    request_tokens = [f"{canary}-rt-1", f"{canary}-rt-2"]
    credentials = tmp_path / "kite.yaml"
    credentials.write_text(
        json.dumps({"api_key": "canary-key", "api_secret": secret, "access_token": preset,
                    "request_tokens": request_tokens})
    )  # fmt: skip
    credentials.chmod(0o600)
    log_path = tmp_path / "requests.jsonl"
    command = [
        sys.executable, "-m", "engines.kite.emulator", "--credentials", str(credentials),
        "--date", DAY.isoformat(), "--log", str(log_path), "--log-level", "DEBUG", "--speed", "4",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    errors: list[str] = []
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        kite = KiteConnect("canary-key", root=ready["rest_root"])
        issued = kite.generate_session(request_tokens[0], secret)["access_token"]
        try:
            KiteConnect("canary-key", root=ready["rest_root"]).generate_session(request_tokens[1], "wrong")
        except kex.KiteException as exc:
            errors.append(str(exc))
        assert KiteConnect("canary-key", access_token=preset, root=ready["rest_root"]).profile()
        good = Probe.open(ready["ws_root"], preset, {}, api_key="canary-key")
        bad = Probe.open(ready["ws_root"], f"{canary}-not-issued", {}, tries=0, api_key="canary-key")
        assert wait_for(lambda: good.connects == 1 and bool(bad.closes), 6)
        good.close()
        errors += [str(reason) for _, reason in bad.closes + bad.errors]
        for call in (lambda: kite.place_order("regular", "NSE", "INFY", "BUY", 1, "MIS", "LIMIT", price=1.0),
                     kite.invalidate_access_token, kite.profile):  # fmt: skip
            try:
                call()
            except kex.KiteException as exc:
                errors.append(str(exc))
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0, stderr
    wrong_checksum = checksum("canary-key", request_tokens[1], "wrong")
    leaks = [canary, issued, wrong_checksum, checksum("canary-key", request_tokens[0], secret)]
    log_text = log_path.read_text()
    assert '"route": "/session/token"' in log_text and '"order_route": true' in log_text
    for place, text in {
        "log": log_text,
        "stdout": stdout,
        "stderr": stderr,
        "errors": "\n".join(errors),
    }.items():
        for value in leaks:
            assert value not in text, f"a secret reached the {place}"
