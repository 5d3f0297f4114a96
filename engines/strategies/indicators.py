"""Indicators that strategies keep per symbol, as plain JSON dicts (so `Strategy.state` checkpoints them)."""

from __future__ import annotations

from typing import Any

State = dict[str, Any]


def ema_cross(state: State, close: float, fast: int, slow: int) -> int:
    """Fold one close into fast and slow EMAs; +1 on a cross up, -1 on a cross down, 0 otherwise. The
    first cross is only reported once both EMAs have `slow` bars behind them."""
    if not state:
        state.update(fast=close, slow=close, bars=1, side=0)
        return 0
    state["fast"] += (close - state["fast"]) * 2.0 / (fast + 1)
    state["slow"] += (close - state["slow"]) * 2.0 / (slow + 1)
    state["bars"] += 1
    if state["bars"] < slow or state["fast"] == state["slow"]:
        return 0
    side = 1 if state["fast"] > state["slow"] else -1
    crossed = side if state["side"] and side != state["side"] else 0
    state["side"] = side
    return crossed


def describe_ema(state: State, fast: int, slow: int) -> str:
    return f"ema{fast} {state['fast']:.2f} vs ema{slow} {state['slow']:.2f}"


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
