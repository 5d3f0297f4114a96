"""Kite ticker binary frames, built with numpy record arrays (one frame per step per socket).

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

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from engines.kite.emulator.tape import Snapshot
from engines.market.ticks import DEPTH

I64 = NDArray[np.int64]
HEARTBEAT = b"\x00"  # a 1-byte frame: Kite's keep-alive on an idle socket; clients ignore it
INDICES_SEGMENT = 9
_PAISE_TO_UNIT = {3: 100_000, 6: 100, 12: 100}  # segment -> factor from paise to the divisor's unit


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
_PRICES = ("last_price", "average_price", "open", "high", "low", "close", "change")


def price_scale(tokens: I64) -> I64:
    """Per instrument, the factor from paise to the unit its segment's divisor expects."""
    segments = tokens & 0xFF
    scale = np.ones(len(tokens), dtype=np.int64)
    for segment, factor in _PAISE_TO_UNIT.items():
        scale[segments == segment] = factor
    return scale


@dataclass(frozen=True, slots=True)
class Plan:
    """Which master rows a socket gets in which layout (arrays of row numbers, one per layout)."""

    ltp: I64
    index_quote: I64
    index_full: I64
    quote: I64
    full: I64

    def __len__(self) -> int:
        return sum(len(rows) for rows in (self.ltp, self.index_quote, self.index_full, self.quote, self.full))

    @staticmethod
    def build(modes: Mapping[int, Mode], tradable: NDArray[np.bool_]) -> Plan:
        """`modes` maps master rows to modes."""

        def rows(mode: Mode, want_tradable: bool | None) -> I64:
            picked = [
                r
                for r, m in modes.items()
                if m is mode and (want_tradable is None or tradable[r] == want_tradable)
            ]
            return np.array(sorted(picked), dtype=np.int64)

        return Plan(
            ltp=rows(Mode.LTP, None),
            index_quote=rows(Mode.QUOTE, False),
            index_full=rows(Mode.FULL, False),
            quote=rows(Mode.QUOTE, True),
            full=rows(Mode.FULL, True),
        )


class Encoder:
    """Frames from snapshots; knows the master's tokens and their price scales."""

    def __init__(self, tokens: I64) -> None:
        self._tokens = tokens
        self._scale = price_scale(tokens)

    def frame(self, snap: Snapshot, plan: Plan, now_s: int) -> bytes:
        """One frame with every packet of `plan`, stamped `now_s` (epoch seconds, the wall clock)."""
        parts = [np.array([len(plan)], dtype=">u2").tobytes()]
        for rows, dtype in (
            (plan.ltp, LTP_PACKET),
            (plan.index_quote, INDEX_QUOTE_PACKET),
            (plan.index_full, INDEX_FULL_PACKET),
            (plan.quote, QUOTE_PACKET),
            (plan.full, FULL_PACKET),
        ):
            if len(rows):
                parts.append(self._packets(snap, rows, dtype, now_s).tobytes())
        return b"".join(parts)

    def _packets(self, snap: Snapshot, rows: I64, dtype: np.dtype[np.void], now_s: int) -> NDArray[np.void]:
        out = np.zeros(len(rows), dtype=dtype)
        scale = self._scale[rows]
        out["length"] = PACKET_LENGTHS[dtype]
        out["token"] = self._tokens[rows]
        names = dtype.names or ()
        for name in names:
            if name in ("length", "token", "depth"):
                continue
            if name in ("exchange_timestamp", "last_trade_time"):
                out[name] = now_s
            elif name == "change":
                out[name] = (snap.last_price[rows] - snap.close[rows]) * scale
            else:
                values = getattr(snap, name)[rows]
                out[name] = values * scale if name in _PRICES else values
        if "depth" in names:
            depth = out["depth"]
            depth["quantity"][:, :DEPTH] = snap.bid_quantity[rows]
            depth["price"][:, :DEPTH] = snap.bid_price[rows] * scale[:, None]
            depth["orders"][:, :DEPTH] = snap.bid_orders[rows]
            depth["quantity"][:, DEPTH:] = snap.ask_quantity[rows]
            depth["price"][:, DEPTH:] = snap.ask_price[rows] * scale[:, None]
            depth["orders"][:, DEPTH:] = snap.ask_orders[rows]
        return out


def malformed_frame() -> bytes:
    """The malformed fault: a frame announcing two packets that holds one LTP packet and a stray byte
    (longer than 4 bytes, so the client parses it, and its split fails reading the second length)."""
    return np.array([2, 8], dtype=">u2").tobytes() + np.zeros(2, dtype=">u4").tobytes() + b"\x01"
