"""Kite's instrument dump (download once a day, cache, quirks) and warm-up bars (IST times, cache), with
stand-ins for Kite: no sockets. The same paths against the emulator are in tests/test_kite_rest.py."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pytest
from dateutil.tz import tzoffset

from engines.artifacts.layout import ArtifactPaths
from engines.kite.errors import KiteError
from engines.kite.history import recorded_warmup, warmup_bars
from engines.kite.instruments import load_kite_master
from engines.market.calendar import IST, at_ist, ist, ms
from engines.market.instruments import COLUMNS, Instrument, InstrumentMaster, Kind
from engines.market.sim import MarketSimulator, SimSession

DAY = date(2026, 11, 27)  # a Friday
ROOT_URL = "http://127.0.0.1:1"

# Rows as the real dump writes them (KITE_AND_NSE.md §1.5): quoted names with commas, options with no
# name, empty strikes and prices, index rows with zero tick and lot, a weekly December symbol, a stock
# future, and rows of exchanges the engines do not trade.
QUIRKY_ROWS = [
    '738561,2885,RELIANCE,"RELIANCE INDUSTRIES",1543.2,,,0.1,1,EQ,NSE,NSE',
    '3861249,15083,ADANIPORTS,"ADANI PORT, SEZ",0.0,,0.0,0.05,1,EQ,NSE,NSE',
    '256265,1001,NIFTY 50,"NIFTY 50",0,,0,0,0,EQ,INDICES,NSE',
    '13238786,51714,NIFTY26DECFUT,"NIFTY",0,2026-12-29,0,0.1,65,FUT,NFO-FUT,NFO',
    "10967554,042842,NIFTY26D0126000CE,,12.5,2026-12-01,26000,0.05,65,CE,NFO-OPT,NFO",
    "10967810,042843,NIFTY26D0126000PE,,,2026-12-01,26000.0,0.05,65,PE,NFO-OPT,NFO",
    '17700610,69143,RELIANCE26DECFUT,"RELIANCE",0,2026-12-29,0,0.1,500,FUT,NFO-FUT,NFO',
    "244332292,954423,RCL14JUL16B,RCL-NIFTY-14-1-19-PVT,0.0,,0.0,0.01,10,EQ,BSE,BSE",
    "109130503,426291,GOLDM26DECFUT,GOLDM,0,2026-12-04,0,1,1,FUT,MCX-FUT,MCX",
    "412675,1612,USDINR26DECFUT,USDINR,0,2026-12-29,0,0.0025,1,FUT,CDS-FUT,CDS",
    "",
]


def quirky_dump() -> str:
    header = ", ".join(COLUMNS)  # the DOC example's header has spaces after the commas
    return "\r\n".join([header, *QUIRKY_ROWS])


class StubDump:
    """Stands in for KiteRest's instruments_csv(): serves `payload`, counts the downloads."""

    def __init__(self, payload: bytes, api_root: str = ROOT_URL, delay_s: float = 0.0) -> None:
        self.api_root, self.payload, self.delay_s = api_root, payload, delay_s
        self.calls = 0

    def instruments_csv(self) -> bytes:
        self.calls += 1
        time.sleep(self.delay_s)
        return self.payload


def test_the_real_dumps_quirks_load_and_the_dump_is_cached_as_served(tmp_path: Path) -> None:
    text = quirky_dump()
    served = gzip.compress(b"\xef\xbb\xbf" + text.encode())  # gzip body, byte-order mark, CRLF lines
    paths = ArtifactPaths(tmp_path)
    m = load_kite_master(StubDump(served), paths, DAY)
    assert len(m) == 7  # the BSE, MCX and CDS rows are skipped
    adani = m.equity("ADANIPORTS")
    assert adani is not None and adani.name == "ADANI PORT, SEZ" and adani.lot_size == 1
    assert m.index("NIFTY").token == 256265 and m.index("NIFTY").lot_size == 0
    future = m.current_future("NIFTY")
    assert (future.symbol, future.lot_size, future.tick) == ("NIFTY26DECFUT", 65, 10)
    assert future.expiry == date(2026, 12, 29)
    chain = m.chain("NIFTY")
    assert chain.expiry == date(2026, 12, 1) and chain.strikes == (2_600_000,)
    put = chain.option(2_600_000, Kind.PE)
    assert put is not None and put.underlying == "NIFTY" and put.exchange_token == "042843"
    assert m.current_future("RELIANCE").lot_size == 500
    cached = paths.instruments(DAY)
    assert cached.read_bytes().decode() == text  # unpacked, without the mark, otherwise as served
    source = json.loads(paths.instruments_source(DAY).read_text())
    assert source["api_root"] == ROOT_URL and source["instruments"] == 7
    assert source["sha256"] == hashlib.sha256(text.encode()).hexdigest() and source["bytes"] == len(text)
    assert list(InstrumentMaster.read(cached, DAY)) == list(m)  # what a replay of the day reads


def test_the_days_dump_is_downloaded_once_and_then_reused(tmp_path: Path) -> None:
    paths = ArtifactPaths(tmp_path)
    first = load_kite_master(StubDump(quirky_dump().encode()), paths, DAY)
    written = paths.instruments(DAY).stat().st_mtime_ns
    again = StubDump(b"never served")
    assert list(load_kite_master(again, paths, DAY)) == list(first)
    assert again.calls == 0 and paths.instruments(DAY).stat().st_mtime_ns == written
    other_day = StubDump(quirky_dump().encode())
    load_kite_master(other_day, paths, date(2026, 11, 30))
    assert other_day.calls == 1  # a new day, a new download


def test_engines_starting_together_make_one_download(tmp_path: Path) -> None:
    paths, stub = ArtifactPaths(tmp_path), StubDump(quirky_dump().encode(), delay_s=0.3)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(len(load_kite_master(stub, paths, DAY))))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [7, 7, 7] and stub.calls == 1


@pytest.mark.parametrize("case", ["the simulator's master", "another api_root", "a changed file"])
def test_a_cache_that_is_not_this_kites_dump_is_downloaded_over(tmp_path: Path, case: str) -> None:
    paths = ArtifactPaths(tmp_path)
    if case == "the simulator's master":
        simulated = MarketSimulator(SimSession(7, DAY, clock_time(9, 15), clock_time(15, 30))).master
        simulated.write(paths.instruments(DAY))  # a simulated day of the same date, no side file
    elif case == "another api_root":
        load_kite_master(StubDump(quirky_dump().encode(), api_root="http://127.0.0.1:2"), paths, DAY)
    else:
        load_kite_master(StubDump(quirky_dump().encode()), paths, DAY)
        paths.instruments(DAY).write_text(quirky_dump().replace("65,FUT", "75,FUT"))  # not what was fetched
    stub = StubDump(quirky_dump().encode())
    assert load_kite_master(stub, paths, DAY).current_future("NIFTY").lot_size == 65
    assert stub.calls == 1


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (gzip.compress(quirky_dump().encode())[:40], "a truncated or corrupt gzip body"),
        (b"<html>502 Bad Gateway</html>", ":1: header is"),
        (b"\xff\xfe\x00junk", "not UTF-8 text (byte 0)"),
        (f"{','.join(COLUMNS)}\n{QUIRKY_ROWS[-4]}\n".encode(), "the dump has no NSE or NFO instruments"),
    ],
)
def test_a_bad_download_fails_and_never_becomes_the_days_master(
    tmp_path: Path, payload: bytes, message: str
) -> None:
    paths = ArtifactPaths(tmp_path)
    with pytest.raises(KiteError, match=re.escape(message)) as caught:
        load_kite_master(StubDump(payload), paths, DAY)
    assert str(caught.value).startswith(f"{ROOT_URL}/instruments")
    assert not paths.instruments(DAY).exists() and not paths.instruments_source(DAY).exists()


# --- warm-up bars -----------------------------------------------------------------------------------

KITE_TZ = tzoffset(None, 19800)  # what the official client's dateutil parser gives a +0530 candle


class StubCandles:
    """Stands in for KiteRest.minute_candles(): a full session of minute candles on every trading day it
    is asked for, from `listed` on (a contract listed that day has nothing before it)."""

    def __init__(self, listed: date = date(2026, 1, 1), naive: bool = False) -> None:
        self.listed, self.naive = listed, naive
        self.calls: list[tuple[int, datetime, datetime]] = []

    def minute_candles(self, token: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
        self.calls.append((token, start, end))
        out = []
        day = start.date()
        while day <= end.date():
            if day.weekday() < 5 and day not in (date(2026, 11, 24),) and day >= self.listed:
                for minute in range(375):
                    moment = at_ist(day, clock_time(9, 15)) + timedelta(minutes=minute)
                    stamp = moment.replace(tzinfo=None) if self.naive else moment.astimezone(KITE_TZ)
                    price = 100 + day.day + minute / 1000
                    out.append(
                        {"date": stamp, "open": price, "high": price + 1, "low": price - 1,
                         "close": price + 0.5, "volume": minute}
                    )  # fmt: skip
            day += timedelta(days=1)
        return out


def nifty() -> Instrument:
    return Instrument(256265, "NIFTY 50", "NSE", "INDICES", Kind.INDEX, "NIFTY 50", 5, 0, underlying="NIFTY")


def test_warmup_bars_are_the_last_minutes_before_the_day_in_ist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")  # the process's own timezone must not matter
    time.tzset()
    try:
        source = StubCandles()
        bars = warmup_bars(source, ArtifactPaths(tmp_path), nifty(), DAY, 400)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert len(bars) == 400
    assert ist(bars[-1].start_ms) == datetime(2026, 11, 26, 15, 29, tzinfo=IST)  # the last session's last
    assert ist(bars[0].start_ms) == datetime(2026, 11, 25, 15, 5, tzinfo=IST)  # the 25 before those 375
    assert [b.start_ms for b in bars] == sorted(b.start_ms for b in bars)
    assert bars[-1].start_ms == ms(datetime(2026, 11, 26, 9, 59, tzinfo=UTC))
    last = bars[-1]
    assert (last.open, last.high, last.low, last.close, last.volume) == (
        126.374,
        127.374,
        125.374,
        126.874,
        374,
    )
    assert last.volume == 374 and isinstance(last.volume, int) and last.instrument == nifty()
    assert len(source.calls) == 1  # two sessions in one request
    _, start, end = source.calls[0]
    assert (start, end) == (
        datetime(2026, 11, 25, tzinfo=IST),
        datetime(2026, 11, 26, 23, 59, 59, tzinfo=IST),
    )


def test_warmup_bars_are_cached_for_the_day_in_ist(tmp_path: Path) -> None:
    paths = ArtifactPaths(tmp_path)
    first = warmup_bars(StubCandles(), paths, nifty(), DAY, 60)
    cache = json.loads(paths.history(DAY, 256265).read_text())
    assert cache["bars"][-1] == ["2026-11-26T15:29:00+05:30", 126.374, 127.374, 125.374, 126.874, 374]
    assert (cache["symbol"], cache["interval"], cache["day"]) == ("NIFTY 50", "minute", "2026-11-27")
    assert cache["exhausted"] is False
    replay = StubCandles()
    assert warmup_bars(replay, paths, nifty(), DAY, 60) == first and replay.calls == []
    assert warmup_bars(replay, paths, nifty(), DAY, 20) == first[-20:] and replay.calls == []
    more = warmup_bars(replay, paths, nifty(), DAY, 500)  # more than the cache holds: fetched again
    assert len(more) == 500 and more[-60:] == first and len(replay.calls) == 1
    # A replay or backtest of the day reads the cache and never asks Kite; a day without one has none.
    assert recorded_warmup(paths, nifty(), DAY, 60) == more[-60:]
    assert recorded_warmup(ArtifactPaths(tmp_path / "sim-day"), nifty(), DAY, 60) == []


def test_warmup_walks_back_over_holidays_and_stops_for_a_new_contract(tmp_path: Path) -> None:
    after_holiday = StubCandles()
    bars = warmup_bars(after_holiday, ArtifactPaths(tmp_path), nifty(), date(2026, 11, 25), 10)
    assert ist(bars[-1].start_ms).date() == date(2026, 11, 23)  # Tuesday 24 Nov is Guru Nanak Jayanti
    new = StubCandles(listed=date(2026, 11, 26))
    paths = ArtifactPaths(tmp_path / "new")
    bars = warmup_bars(new, paths, nifty(), DAY, 1000)
    assert len(bars) == 375 and len(new.calls) == 3  # 3 sessions asked, then 5 more, in 3 requests
    assert json.loads(paths.history(DAY, 256265).read_text())["exhausted"] is True
    assert warmup_bars(new, paths, nifty(), DAY, 1000) == bars and len(new.calls) == 3  # all there is


def test_naive_candle_times_are_ist_and_a_reused_token_is_not_mistaken(tmp_path: Path) -> None:
    paths = ArtifactPaths(tmp_path)
    bars = warmup_bars(StubCandles(naive=True), paths, nifty(), DAY, 5)
    assert ist(bars[-1].start_ms) == datetime(2026, 11, 26, 15, 29, tzinfo=IST)
    other = Instrument(256265, "NIFTY BANK", "NSE", "INDICES", Kind.INDEX, "NIFTY BANK", 5, 0)
    source = StubCandles()
    assert warmup_bars(source, paths, other, DAY, 5)[0].instrument == other and len(source.calls) == 1


def test_a_warmup_beyond_twenty_sessions_is_refused() -> None:
    with pytest.raises(ValueError, match="warm-up of 7501 bars: ask for 1 to 7500"):
        warmup_bars(StubCandles(), ArtifactPaths(Path("/nonexistent")), nifty(), DAY, 7501)
