"""The simulator as a pull feed: ticks of the subscribed instruments, made when the engine reads them."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from engines.market.instruments import Instrument, Kind
from engines.market.sim.market import MarketSimulator
from engines.market.sim.models import I64, MODELS, QuoteBlock, QuoteModel
from engines.market.ticks import DEPTH, TickBatch

BLOCK_STEPS = 600  # steps priced per numpy block: bounds memory, amortises numpy call overhead


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
        batches = [
            self._block(groups, s, min(s + BLOCK_STEPS, last)) for s in range(first, last, BLOCK_STEPS)
        ]
        self._next_step = last
        return TickBatch.concat(batches)

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

    def _block(self, groups: list[_Group], first: int, last: int) -> TickBatch:
        steps = last - first
        quoted = [(g, g.model.block(first, last, g.volume)) for g in groups]
        for group, block in quoted:
            group.volume = block.volume[-1]
        index_tokens = np.array([i.token for i in self._indices], dtype=np.int64)
        index_levels = (
            np.stack([self._market.index_path(i.underlying or "") for i in self._indices], axis=1)[first:last]
            if self._indices
            else np.zeros((steps, 0))
        )
        n_index, n = len(self._indices), len(self._indices) + sum(len(g.tokens) for g in groups)
        ticks_ts = self._session.step_ms(first) + np.arange(steps, dtype=np.int64) * self._session.interval_ms

        def flat(name: str) -> I64:
            parts = [np.zeros((steps, n_index), dtype=np.int64)] + [getattr(b, name) for _, b in quoted]
            return np.hstack(parts).reshape(-1)

        def deep(name: str) -> I64:
            parts = [np.zeros((steps, n_index, DEPTH), dtype=np.int64)] + [
                getattr(b, name) for _, b in quoted
            ]
            return np.concatenate(parts, axis=1).reshape(-1, DEPTH)

        last_price = np.hstack(
            [np.round(index_levels * 20).astype(np.int64) * 5] + [b.last_price for _, b in quoted]
        ).reshape(-1)
        tokens = np.concatenate([index_tokens, *(g.tokens for g in groups)])
        return TickBatch(
            ts=np.repeat(ticks_ts, n),
            token=np.tile(tokens, steps),
            last_price=last_price,
            last_quantity=flat("last_quantity"),
            volume=flat("volume"),
            oi=flat("oi"),
            bid_price=deep("bid_price"),
            bid_quantity=deep("bid_quantity"),
            bid_orders=deep("bid_orders"),
            ask_price=deep("ask_price"),
            ask_quantity=deep("ask_quantity"),
            ask_orders=deep("ask_orders"),
        )


__all__ = ["QuoteBlock", "SimFeed"]
