"""Indicators that strategies keep in their state, as plain JSON (so `Strategy.state` checkpoints them): per
symbol (rsi), or as columns by token for many instruments folded at once (ema_crosses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

State = dict[str, Any]
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Crossings:
    """The result of folding a minute's closes, row for row with the closes given."""

    crossed: I64  # +1: the fast EMA crossed above the slow one; -1: below; 0: no cross
    fast: F64
    slow: F64

    def describe(self, row: int, fast: int, slow: int) -> str:
        return f"ema{fast} {self.fast[row]:.2f} vs ema{slow} {self.slow[row]:.2f}"


def ema_crosses(state: State, tokens: I64, closes: F64, fast: int, slow: int) -> Crossings:
    """Fold one minute's closes of many instruments into their fast and slow EMAs, all at once (numpy).
    `state` keeps every instrument's EMAs as JSON columns by token, so a strategy's checkpoint carries
    them. An instrument's first close seeds both EMAs; a cross is reported once both have `slow` bars
    behind them."""
    known = np.asarray(state.get("token", []), dtype=np.int64)
    columns = {
        "fast": np.asarray(state.get("fast", []), dtype=np.float64),
        "slow": np.asarray(state.get("slow", []), dtype=np.float64),
        "bars": np.asarray(state.get("bars", []), dtype=np.int64),
        "side": np.asarray(state.get("side", []), dtype=np.int64),
    }
    at = np.minimum(np.searchsorted(known, tokens), max(len(known) - 1, 0))
    old = (at < len(known)) & (known[at] == tokens) if len(known) else np.zeros(len(tokens), dtype=bool)
    rows = at[old]
    f, s, bars, side = (columns[k][rows] for k in ("fast", "slow", "bars", "side"))
    close = closes[old]
    f = f + (close - f) * 2.0 / (fast + 1)
    s = s + (close - s) * 2.0 / (slow + 1)
    bars = bars + 1
    ready = (bars >= slow) & (f != s)
    now = np.where(f > s, 1, -1)
    crossed = np.zeros(len(tokens), dtype=np.int64)
    crossed[old] = np.where(ready & (side != 0) & (now != side), now, 0)
    for key, value in (("fast", f), ("slow", s), ("bars", bars), ("side", np.where(ready, now, side))):
        columns[key][rows] = value
    if (~old).any():  # newcomers: seeded with their first close, kept in token order
        new_tokens = tokens[~old]
        seeds = {"fast": closes[~old], "slow": closes[~old], "bars": np.ones(len(new_tokens), np.int64)}
        seeds["side"] = np.zeros(len(new_tokens), np.int64)
        order = np.argsort(np.concatenate([known, new_tokens]), kind="stable")
        known = np.concatenate([known, new_tokens])[order]
        columns = {k: np.concatenate([v, seeds[k]])[order] for k, v in columns.items()}
    state["token"] = known.tolist()
    state.update({k: v.tolist() for k, v in columns.items()})
    at = np.searchsorted(known, tokens)
    return Crossings(crossed, columns["fast"][at].astype(np.float64), columns["slow"][at].astype(np.float64))


def rsi(state: State, close: float, period: int) -> float | None:
    """Wilder's RSI of the closes folded in so far; None until `period` changes have been seen."""
    previous = state.get("close")
    state["close"] = close
    if previous is None:
        state.update(gain=0.0, loss=0.0, seen=0)
        return None
    change = close - previous
    gain, loss = max(change, 0.0), max(-change, 0.0)
    state["seen"] += 1
    if state["seen"] <= period:  # the first average is a simple mean of the first `period` changes
        state["gain"] += gain / period
        state["loss"] += loss / period
        if state["seen"] < period:
            return None
    else:
        state["gain"] = (state["gain"] * (period - 1) + gain) / period
        state["loss"] = (state["loss"] * (period - 1) + loss) / period
    average_gain, average_loss = float(state["gain"]), float(state["loss"])
    return 100.0 if average_loss == 0 else 100.0 - 100.0 / (1.0 + average_gain / average_loss)
