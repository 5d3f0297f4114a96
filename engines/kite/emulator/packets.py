"""Kite ticker binary frames, built with numpy record arrays (one frame per step per socket); the
packet layouts are engines/kite/wire.py's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engines.kite.emulator.tape import Snapshot
from engines.kite.wire import (
    FULL_PACKET,
    HEARTBEAT,
    I64,
    INDEX_FULL_PACKET,
    INDEX_QUOTE_PACKET,
    INDICES_SEGMENT,
    LTP_PACKET,
    PACKET_LENGTHS,
    PAISE_TO_UNIT,
    PRICE_FIELDS,
    QUOTE_PACKET,
    Mode,
)
from engines.market.ticks import DEPTH

__all__ = ["HEARTBEAT", "INDICES_SEGMENT", "Encoder", "Mode", "Plan", "malformed_frame", "price_scale"]


def price_scale(tokens: I64) -> I64:
    """Per instrument, the factor from paise to the unit its segment's divisor expects."""
    segments = tokens & 0xFF
    scale = np.ones(len(tokens), dtype=np.int64)
    for segment, factor in PAISE_TO_UNIT.items():
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
                out[name] = values * scale if name in PRICE_FIELDS else values
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
