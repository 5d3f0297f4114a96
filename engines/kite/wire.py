"""Kite's ticker wire format: the binary packet layouts, shared by the emulator (which encodes them) and
the live feed (`decode`: a whole frame into a tick batch with numpy, faster than the client's per-field
struct parsing, engines/kite/feed.py).

A frame is `>H` packet count, then per packet `>H` length and the packet. Big-endian throughout; the
official client tells packets apart by length alone (KITE_AND_NSE.md §2.3, kiteconnect ticker.py).

    bytes   ltp (8)      index quote (28)   index full (32)     quote (44)             full (184)
    0-4     token        token              token               token                  token
    4-8     last_price   last_price         last_price          last_price             last_price
    8-12                 high               high                last_traded_quantity   last_traded_quantity
    12-16                low                low                 average_traded_price   average_traded_price
    16-20                open               open                volume_traded          volume_traded
    20-24                close              close               total_buy_quantity     total_buy_quantity
    24-28                change (>i)        change (>i)         total_sell_quantity    total_sell_quantity
    28-32                                   exchange_timestamp  open                   open
    32-44                                                       high, low, close       high, low, close
    44-48                                                                              last_trade_time
    48-60                                                                              oi, oi_day_high, _low
    60-64                                                                              exchange_timestamp
    64-184                                                                             depth: 5 bids, 5 offers
                                                                                       each >IIHH: quantity,
                                                                                       price, orders, padding

Every field is `>I` except `change` (`>i`: it goes negative) and the depth's orders and padding (`>H`).
Timestamps are epoch seconds. Prices are integers in the segment's unit, the client dividing by 100
(paise) except for CDS (segment 3, by 10^7) and BCD/NCO (6 and 12, by 10^4): `price_scale` turns paise
into that unit (so a CDS price above 429 rupees does not fit, on Kite's wire either). Indices (segment 9)
use the index layouts in quote and full mode.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from engines.market.ticks import DEPTH, DEPTH_COLUMNS, TickBatch

I64 = NDArray[np.int64]
HEARTBEAT = b"\x00"  # a 1-byte frame: Kite's keep-alive on an idle socket; clients ignore it
INDICES_SEGMENT = 9
PAISE_TO_UNIT = {3: 100_000, 6: 100, 12: 100}  # segment -> factor from paise to the divisor's unit


class Mode(StrEnum):
    LTP = "ltp"
    QUOTE = "quote"
    FULL = "full"


def _layout(*names: str, change: bool = False) -> list[tuple[str, str]]:
    return [("length", ">u2")] + [(n, ">i4" if change and n == "change" else ">u4") for n in names]


_DEPTH_ENTRY = np.dtype([("quantity", ">u4"), ("price", ">u4"), ("orders", ">u2"), ("pad", ">u2")])
_INDEX = ("token", "last_price", "high", "low", "open", "close", "change")
_QUOTE = (
    "token",
    "last_price",
    "last_quantity",
    "average_price",
    "volume",
    "buy_quantity",
    "sell_quantity",
    "open",
    "high",
    "low",
    "close",
)
_FULL_EXTRA = ("last_trade_time", "oi", "oi_day_high", "oi_day_low", "exchange_timestamp")
LTP_PACKET = np.dtype(_layout("token", "last_price"))
INDEX_QUOTE_PACKET = np.dtype(_layout(*_INDEX, change=True))
INDEX_FULL_PACKET = np.dtype(_layout(*_INDEX, "exchange_timestamp", change=True))
QUOTE_PACKET = np.dtype(_layout(*_QUOTE))
FULL_PACKET = np.dtype([*_layout(*_QUOTE, *_FULL_EXTRA), ("depth", _DEPTH_ENTRY, (2 * DEPTH,))])
PACKET_LENGTHS = {
    dt: dt.itemsize - 2
    for dt in (LTP_PACKET, INDEX_QUOTE_PACKET, INDEX_FULL_PACKET, QUOTE_PACKET, FULL_PACKET)
}
PRICE_FIELDS = ("last_price", "average_price", "open", "high", "low", "close", "change")


class Malformed(ValueError):
    """A frame whose packets do not add up (a torn or corrupt frame): counted and skipped by the feed."""


_BY_LENGTH = {length: dt for dt, length in PACKET_LENGTHS.items()}
FULL_LENGTHS = frozenset({PACKET_LENGTHS[FULL_PACKET], PACKET_LENGTHS[INDEX_FULL_PACKET]})


def decode(frame: bytes, arrival_ms: int, full_only: bool = False) -> TickBatch:
    """A binary frame as a tick batch, in the engine's units (paise, epoch ms). A tick's time is its
    exchange timestamp, or the arrival time when the packet has none (ltp and index quote modes).
    `full_only` skips the packets of other modes. Heartbeats give an empty batch; a frame whose packets
    overrun it raises Malformed."""
    if len(frame) < 4:
        return TickBatch.empty()
    buffer = np.frombuffer(frame, dtype=np.uint8)
    count = int.from_bytes(frame[0:2], "big")
    offsets: dict[int, list[int]] = {}
    at = 2
    for _ in range(count):
        if at + 2 > len(frame):
            raise Malformed(f"frame of {len(frame)} bytes ends inside packet headers ({count} announced)")
        length = int.from_bytes(frame[at : at + 2], "big")
        if at + 2 + length > len(frame):
            raise Malformed(f"a {length}-byte packet overruns the {len(frame)}-byte frame")
        # An unknown length is another segment's packet: skipped.
        if length in _BY_LENGTH and (not full_only or length in FULL_LENGTHS):
            offsets.setdefault(length, []).append(at)
        at += 2 + length
    parts = []
    for length, starts in offsets.items():
        dtype = _BY_LENGTH[length]
        rows = buffer[np.asarray(starts)[:, None] + np.arange(length + 2)].copy().view(dtype).reshape(-1)
        parts.append(_batch(rows, dtype, arrival_ms))
    return TickBatch.concat(parts)


def _batch(packets: NDArray[np.void], dtype: np.dtype[np.void], arrival_ms: int) -> TickBatch:
    n = len(packets)
    names = dtype.names or ()

    def field(name: str) -> I64:
        if name not in names:
            return np.zeros(n, dtype=np.int64)
        return packets[name].astype(np.int64)

    stamp = field("exchange_timestamp") * 1000
    ts = np.where(stamp > 0, np.minimum(stamp, arrival_ms), arrival_ms)
    deep = {name: np.zeros((n, DEPTH), dtype=np.int64) for name in DEPTH_COLUMNS}
    if "depth" in names:
        depth = packets["depth"]
        for side, columns in (("bid", slice(0, DEPTH)), ("ask", slice(DEPTH, 2 * DEPTH))):
            deep[f"{side}_price"] = depth["price"][:, columns].astype(np.int64)
            deep[f"{side}_quantity"] = depth["quantity"][:, columns].astype(np.int64)
            deep[f"{side}_orders"] = depth["orders"][:, columns].astype(np.int64)
    return TickBatch(
        ts=ts.astype(np.int64),
        token=field("token"),
        last_price=field("last_price"),
        last_quantity=field("last_quantity"),
        volume=field("volume"),
        oi=field("oi"),
        **deep,
    )
