"""The ticker's binary encoder, round-tripped through the official client's own parser
(kiteconnect 5.2.2 `KiteTicker._parse_binary`): every layout, every field, the segment divisors."""

from __future__ import annotations

import struct
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from kiteconnect import KiteTicker

from engines.kite.emulator.packets import (
    FULL_PACKET,
    HEARTBEAT,
    INDEX_FULL_PACKET,
    INDEX_QUOTE_PACKET,
    LTP_PACKET,
    QUOTE_PACKET,
    Encoder,
    Mode,
    Plan,
    malformed_frame,
)
from engines.kite.emulator.tape import Snapshot

NOW = 1_764_237_600  # 2025-11-27 15:30 IST, epoch seconds
# Rows: an NSE stock, an index (segment 9), a CDS contract (3, divisor 1e7), a BCD contract (6, 1e4).
TOKENS = np.array([738561, 256265, 1000 << 8 | 3, 2000 << 8 | 6], dtype=np.int64)


def _snapshot() -> Snapshot:
    def col(*values: int) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.array(values, dtype=np.int64)

    def depth(*bases: int) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.array([range(base, base + 5) for base in bases], dtype=np.int64)

    return Snapshot(
        cycle=0, step=42,
        last_price=col(151055, 2598765, 8345, 8350), last_quantity=col(5, 0, 1, 2),
        average_price=col(151010, 0, 8340, 8351), volume=col(123456, 0, 77, 88),
        buy_quantity=col(1000, 0, 10, 20), sell_quantity=col(2000, 0, 30, 40),
        open=col(150000, 2600000, 8300, 8300), high=col(152000, 2601000, 8400, 8400),
        low=col(149000, 2590000, 8200, 8200), close=col(150500, 2600000, 8310, 8310),
        oi=col(0, 0, 500, 600), oi_day_high=col(0, 0, 550, 650), oi_day_low=col(0, 0, 450, 550),
        bid_price=depth(151000, 0, 8340, 8340), bid_quantity=depth(10, 0, 1, 1),
        bid_orders=depth(1, 0, 1, 1), ask_price=depth(152000, 0, 8350, 8350),
        ask_quantity=depth(100, 0, 2, 2), ask_orders=depth(3, 0, 1, 1),
    )  # fmt: skip


def _parse(frame: bytes) -> list[dict[str, Any]]:
    ticks: list[dict[str, Any]] = KiteTicker("key", "token")._parse_binary(frame)
    return ticks


def _frame(modes: dict[int, Mode]) -> bytes:
    tradable = np.array([True, False, True, True])
    return Encoder(TOKENS).frame(_snapshot(), Plan.build(modes, tradable), NOW)


def test_packet_lengths_are_kites() -> None:
    lengths = [
        dt.itemsize - 2
        for dt in (LTP_PACKET, INDEX_QUOTE_PACKET, INDEX_FULL_PACKET, QUOTE_PACKET, FULL_PACKET)
    ]
    assert lengths == [8, 28, 32, 44, 184]


@pytest.mark.parametrize("mode", list(Mode))
def test_stock_round_trips_in_every_mode(mode: Mode) -> None:
    [tick] = _parse(_frame({0: mode}))
    assert (tick["mode"], tick["tradable"], tick["instrument_token"]) == (mode.value, True, 738561)
    assert tick["last_price"] == 1510.55
    if mode is Mode.LTP:
        assert set(tick) == {"tradable", "mode", "instrument_token", "last_price"}
        return
    assert tick["last_traded_quantity"] == 5
    assert tick["average_traded_price"] == 1510.10
    assert (tick["volume_traded"], tick["total_buy_quantity"], tick["total_sell_quantity"]) == (
        123456,
        1000,
        2000,
    )
    assert tick["ohlc"] == {"open": 1500.0, "high": 1520.0, "low": 1490.0, "close": 1505.0}
    assert tick["change"] == pytest.approx((1510.55 - 1505.0) * 100 / 1505.0)
    if mode is Mode.QUOTE:
        return
    assert tick["last_trade_time"] == tick["exchange_timestamp"] == datetime.fromtimestamp(NOW)
    assert (tick["oi"], tick["oi_day_high"], tick["oi_day_low"]) == (0, 0, 0)
    assert tick["depth"]["buy"][0] == {"quantity": 10, "price": 1510.0, "orders": 1}
    assert tick["depth"]["buy"][4] == {"quantity": 14, "price": 1510.04, "orders": 5}
    assert tick["depth"]["sell"][0] == {"quantity": 100, "price": 1520.0, "orders": 3}
    assert len(tick["depth"]["sell"]) == 5


@pytest.mark.parametrize("mode", [Mode.QUOTE, Mode.FULL])
def test_index_uses_the_index_layouts(mode: Mode) -> None:
    [tick] = _parse(_frame({1: mode}))
    assert (tick["mode"], tick["tradable"], tick["instrument_token"]) == (mode.value, False, 256265)
    # index packets order the OHLC high, low, open, close: the parser must still name them right
    assert tick["ohlc"] == {"high": 26010.0, "low": 25900.0, "open": 26000.0, "close": 26000.0}
    assert tick["last_price"] == 25987.65
    assert tick["change"] == pytest.approx((25987.65 - 26000.0) * 100 / 26000.0)
    assert ("exchange_timestamp" in tick) is (mode is Mode.FULL)


def test_negative_index_change_is_a_signed_field() -> None:
    frame = _frame({1: Mode.QUOTE})
    (change,) = struct.unpack(">i", frame[4 + 24 : 4 + 28])
    assert change == 2598765 - 2600000


def test_currency_segments_scale_to_their_divisors() -> None:
    ticks = {t["instrument_token"]: t for t in _parse(_frame({2: Mode.FULL, 3: Mode.FULL}))}
    cds, bcd = ticks[int(TOKENS[2])], ticks[int(TOKENS[3])]
    assert (cds["last_price"], bcd["last_price"]) == (83.45, 83.5)
    assert (cds["depth"]["buy"][1]["price"], bcd["depth"]["sell"][1]["price"]) == (83.41, 83.51)
    assert (cds["oi"], cds["oi_day_high"], cds["oi_day_low"]) == (500, 550, 450)


def test_one_frame_carries_every_mode() -> None:
    ticks = _parse(_frame({0: Mode.FULL, 1: Mode.FULL, 2: Mode.LTP, 3: Mode.QUOTE}))
    assert sorted((t["instrument_token"], t["mode"]) for t in ticks) == sorted(
        [(738561, "full"), (256265, "full"), (int(TOKENS[2]), "ltp"), (int(TOKENS[3]), "quote")]
    )


def test_heartbeat_is_one_byte_and_yields_no_ticks() -> None:
    assert HEARTBEAT == b"\x00"
    assert _parse(HEARTBEAT) == []


def test_malformed_frame_breaks_the_official_parser() -> None:
    """What the malformed fault sends: the client raises on it (the live feed must survive that)."""
    frame = malformed_frame()
    assert len(frame) > 4  # the client only parses frames longer than 4 bytes
    with pytest.raises(struct.error):
        _parse(frame)
