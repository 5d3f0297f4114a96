"""The simulator as a pull feed: ticks of the subscribed instruments, made when the engine reads them."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from engines.market.feed import FeedEvent
from engines.market.instruments import Instrument, Kind
from engines.market.sim.market import MarketSimulator
from engines.market.sim.models import MODELS, QuoteBlock, QuoteModel
from engines.market.sim.noise import I64
from engines.market.ticks import DEPTH, DEPTH_COLUMNS, TickBatch

# Steps priced per numpy block: enough to amortise numpy's call overhead, few enough that a block's
# steps x instruments x depth temporaries stay in the CPU cache (a pass over 1 MB costs 20 times one over
# 200 kB here). A group of n instruments is priced BLOCK_CELLS // n steps at a time.
BLOCK_CELLS = 8192
MAX_BLOCK_STEPS = 600


class _Group:
    """The subscribed instruments of one model, with their running volume."""

    def __init__(self, model: QuoteModel, volume: I64) -> None:
        self.model = model
        self.tokens = np.array([i.token for i in model.instruments], dtype=np.int64)
        self.volume = volume


class SimFeed:
    """One tick per instrument per tick interval, from the open to the close, for what is subscribed."""

    def __init__(self, market: MarketSimulator) -> None:
        self._market = market
        self._session = market.session
        self._subscribed: dict[int, Instrument] = {}
        self._groups: list[_Group] | None = None
        self._indices: list[Instrument] = []
        self._next_step = 0

    def subscribe(self, instruments: Sequence[Instrument]) -> None:
        for instrument in instruments:
            self._subscribed.setdefault(instrument.token, instrument)
        self._groups = None if instruments else self._groups

    def unsubscribe(self, instruments: Sequence[Instrument]) -> None:
        for instrument in instruments:
            self._subscribed.pop(instrument.token, None)
        self._groups = None if instruments else self._groups

    def open(self, after: int) -> None:
        self._next_step = self._session.first_step_after(after)
        self._groups = None

    def read(self, through: int, stop: threading.Event) -> TickBatch:
        first, last = self._next_step, self._session.first_step_after(through)
        if last <= first:
            return TickBatch.empty()
        groups = self._regroup() if self._groups is None else self._groups
        ticks = self._make(groups, first, last)
        self._next_step = last
        return ticks

    def events(self) -> list[FeedEvent]:
        return []

    def close(self) -> None:
        return None

    # --- making ticks ------------------------------------------------------------------------

    def _regroup(self) -> list[_Group]:
        """(Re)build the model groups after a subscription change, keeping the running volumes."""
        volumes: dict[int, int] = {}
        for group in self._groups or []:
            volumes.update(zip(group.tokens.tolist(), group.volume.tolist(), strict=True))
        self._indices = [i for i in self._subscribed.values() if i.kind is Kind.INDEX]
        by_model: dict[type[QuoteModel], list[Instrument]] = {}
        for instrument in self._subscribed.values():
            if instrument.kind is not Kind.INDEX:
                by_model.setdefault(MODELS[instrument.kind], []).append(instrument)
        groups = []
        for model_type, members in by_model.items():
            model = model_type(self._market, members)
            known = np.array([volumes.get(i.token, -1) for i in members], dtype=np.int64)
            if (known < 0).any():
                known = np.where(known < 0, model.volume_before(self._next_step), known)
            groups.append(_Group(model, known))
        self._groups = groups
        return groups

    def _make(self, groups: list[_Group], first: int, last: int) -> TickBatch:
        """Steps first..last-1 of every subscribed instrument, written straight into the batch's columns:
        rows are (step, instrument) in step order, indices first, then each model group's instruments."""
        steps, n_index = last - first, len(self._indices)
        tokens = np.concatenate(
            [np.array([i.token for i in self._indices], dtype=np.int64), *(g.tokens for g in groups)]
        )
        n = len(tokens)
        flat = {name: np.empty((steps, n), dtype=np.int64) for name in _FLAT}
        deep = {name: np.empty((steps, n, DEPTH), dtype=np.int64) for name in DEPTH_COLUMNS}
        for name in (*_FLAT, *DEPTH_COLUMNS):  # indices carry only a last price
            (flat | deep)[name][:, :n_index] = 0
        widest = max([len(g.tokens) for g in groups] + [1])
        block_steps = max(1, min(MAX_BLOCK_STEPS, BLOCK_CELLS // widest))
        for start in range(first, last, block_steps):
            end = min(start + block_steps, last)
            rows = slice(start - first, end - first)
            for k, index in enumerate(self._indices):
                level = self._market.index_path(index.underlying or "")[start:end]
                flat["last_price"][rows, k] = np.round(level * 20.0).astype(np.int64) * 5  # 0.05 rupee
            column = n_index
            for group in groups:
                columns = slice(column, column + len(group.tokens))
                view = QuoteBlock(**{name: a[rows, columns] for name, a in (flat | deep).items()})
                group.model.block(start, end, group.volume, view)
                group.volume = view.volume[-1].copy()
                column = columns.stop
        stamps = self._session.step_ms(first) + np.arange(steps, dtype=np.int64) * self._session.interval_ms
        return TickBatch(
            ts=np.repeat(stamps, n),
            token=np.tile(tokens, steps),
            **{name: a.reshape(-1) for name, a in flat.items()},
            **{name: a.reshape(-1, DEPTH) for name, a in deep.items()},
        )


_FLAT = ("last_price", "last_quantity", "volume", "oi")


__all__ = ["QuoteBlock", "SimFeed"]
