"""Finds, in a batch of ticks, the first moment a loss limit may be breached: vectorised, held slots only.

Between two moments of the clock the engine folds whole batches of ticks at once; a loss limit must still
act on the tick that breaches it, not at the end of the batch. This scan marks every tick of a held
instrument to market in one pass: the daily net P&L as a running sum over all held instruments, and each
symbol's P&L as a running sum within its own ticks. It returns the first tick where either reaches its
limit; the engine then folds the ticks up to that moment and checks the book exactly (a candidate the exact
check does not confirm costs nothing but the check). Instruments that are not held cost nothing here.
"""

from __future__ import annotations

import numpy as np

from engines.market.ticks import I64, TickBatch
from engines.money import Paise


class LossWatch:
    """Per-slot position state the scan needs, kept in step with the book by the engine."""

    def __init__(self) -> None:
        self.quantity = np.zeros(0, dtype=np.int64)  # signed units held
        self.symbol_pnl = np.zeros(0, dtype=np.int64)  # the position's net P&L at its current mark

    def ensure(self, slots: int) -> None:
        if slots > len(self.quantity):
            grow = slots + 64 - len(self.quantity)
            self.quantity = np.concatenate([self.quantity, np.zeros(grow, dtype=np.int64)])
            self.symbol_pnl = np.concatenate([self.symbol_pnl, np.zeros(grow, dtype=np.int64)])

    def set(self, slot: int, quantity: int, net_pnl: Paise) -> None:
        self.ensure(slot + 1)
        self.quantity[slot] = quantity
        self.symbol_pnl[slot] = net_pnl

    def first_breach(
        self,
        ticks: TickBatch,
        slots: I64,
        marks: I64,
        day_pnl: Paise,
        day_floor: Paise,
        symbol_floor: Paise,
    ) -> int | None:
        """Index of the first tick at which the day's net P&L falls to `day_floor` or a held symbol's
        to `symbol_floor`, marking at last price from `marks` (each slot's mark before the batch)."""
        self.ensure(int(slots.max()) + 1 if len(slots) else 0)
        held = self.quantity[slots] != 0
        if not held.any():
            return None
        rows = np.flatnonzero(held)
        slot = slots[rows]
        price = ticks.last_price[rows]
        order = np.argsort(slot, kind="stable")  # each slot's ticks together, in time order
        grouped, grouped_price = slot[order], price[order]
        starts = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))
        previous = np.empty_like(grouped_price)
        previous[1:] = grouped_price[:-1]
        previous[starts] = marks[grouped[starts]]
        change = self.quantity[grouped] * (grouped_price - previous)
        running = np.cumsum(change)
        before_group = np.repeat(running[starts] - change[starts], np.diff(np.append(starts, len(change))))
        symbol_hit = np.empty(len(rows), dtype=bool)
        symbol_hit[order] = self.symbol_pnl[grouped] + (running - before_group) <= symbol_floor
        in_time = np.empty_like(change)
        in_time[order] = change
        hit = (day_pnl + np.cumsum(in_time) <= day_floor) | symbol_hit
        if not hit.any():
            return None
        return int(rows[int(np.argmax(hit))])
