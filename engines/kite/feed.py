"""The live Kite feed: Kite's ticker as a push feed into the engine core.

    KiteTicker (the official client: connection, auth, heartbeats, reconnects, resubscription)
      -> our frame parser (engines/kite/wire.py: a frame to a tick batch with numpy, once, at the edge)
      -> TickerHub (one connection per process, shared by its engines) -> each engine's KiteFeed queue
      -> engine.read(through) on the engine's thread

Kite allows 3 WebSocket connections per API key and 3,000 instruments per connection. One connection per
process keeps every layout inside that: the single layout's three engines share one connection (an
instrument two engines need is streamed once and handed to both), and the multi layout's three engine
containers hold one each. A hub refuses to subscribe more than 3,000 instruments.

Connection events (connected, dropped, reconnected) and malformed frames reach every feed as events, which
the engine journals. A feed silent for `silence_warn_s` during the session is reported; one silent past
`silence_limit_s` raises FeedFailure, which ends the engine with its own exit code (docs/contract.md).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from kiteconnect import KiteTicker
from pydantic import SecretStr
from twisted.internet import reactor

from engines.errors import EngineFailure, ExitCode
from engines.kite.wire import Malformed, decode
from engines.market.calendar import ms, now_ist
from engines.market.feed import FeedEvent
from engines.market.instruments import Instrument
from engines.market.ticks import TickBatch

MAX_INSTRUMENTS = 3_000  # per connection (Kite's limit)


class FeedFailure(EngineFailure):
    """The live feed stopped delivering for longer than the configured limit."""

    exit_code = ExitCode.FEED


class _Ticker(KiteTicker):  # type: ignore[misc]  # the client ships no type hints
    """KiteTicker with its connection handling intact; binary frames go to the hub's parser instead of
    the client's per-field one."""

    def __init__(self, hub: TickerHub, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hub = hub

    def _on_message(self, ws: Any, payload: bytes, is_binary: bool) -> None:
        if is_binary:
            self._hub.frame(payload)
        else:
            super()._on_message(ws, payload, is_binary)


class TickerHub:
    """One ticker connection, shared by the feeds (engines) of this process."""

    def __init__(self, api_key: str, access_token: SecretStr, ws_root: str, log: logging.Logger) -> None:
        self._log = log
        self._feeds: list[KiteFeed] = []
        self._tokens: set[int] = set()
        self._lock = threading.Lock()
        self._connected = False
        self._connections = 0
        self.malformed = 0
        self._ticker = _Ticker(self, api_key, access_token.get_secret_value(), root=ws_root, reconnect=True)
        self._ticker.on_connect = self._on_connect
        self._ticker.on_close = self._on_close
        self._ticker.on_error = self._on_error
        self._ticker.on_reconnect = self._on_reconnect
        self._ticker.on_noreconnect = self._on_noreconnect
        self._started = False
        self._closing = False

    # --- engines' side -------------------------------------------------------------------------------

    def attach(self, feed: KiteFeed) -> None:
        with self._lock:
            self._feeds.append(feed)

    def subscribe(self, tokens: Sequence[int]) -> None:
        with self._lock:
            new = [t for t in tokens if t not in self._tokens]
            if len(self._tokens) + len(new) > MAX_INSTRUMENTS:
                raise EngineFailure(
                    f"the Kite feed would stream {len(self._tokens) + len(new)} instruments on one "
                    f"connection; Kite allows {MAX_INSTRUMENTS}: subscribe fewer (a smaller universe or "
                    f"chain window)"
                )
            self._tokens.update(new)
        if new and self._connected:
            reactor.callFromThread(self._send_subscription, new)
        self._start()

    def _start(self) -> None:
        if not self._started:
            self._started = True
            self._ticker.connect(threaded=True)

    def detach(self, feed: KiteFeed) -> None:
        """A feed is done; the connection closes with the last one (an engine that stops early leaves it
        to the others)."""
        with self._lock:
            if feed in self._feeds:
                self._feeds.remove(feed)
            last = not self._feeds
            self._closing = last
        if last and self._started:
            reactor.callFromThread(self._ticker.close)  # a socket still connecting: closed in _on_connect

    # --- the reactor thread --------------------------------------------------------------------------

    def frame(self, payload: bytes) -> None:
        arrival = ms(now_ist())
        try:
            # Every token is streamed in full mode. On a subscription Kite sends a quote-mode snapshot at
            # once, before the mode message takes effect: it has no depth (a paper order would meet an
            # empty book) and no timestamp, and the full snapshot follows, so it is skipped.
            ticks = decode(payload, arrival, full_only=True)
        except Malformed as exc:
            self.malformed += 1
            self._event(FeedEvent("malformed", {"count": self.malformed, "detail": str(exc)}))
            return
        if not len(ticks):
            return  # a heartbeat
        with self._lock:
            feeds = list(self._feeds)
        for feed in feeds:
            feed.deliver(ticks)

    def _send_subscription(self, tokens: list[int]) -> None:
        self._ticker.subscribe(tokens)
        self._ticker.set_mode(self._ticker.MODE_FULL, tokens)

    def _on_connect(self, ws: Any, response: Any) -> None:
        if self._closing:  # every feed left while the handshake was under way
            self._ticker.close()
            return
        self._connections += 1
        first = self._connections == 1
        self._connected = True
        with self._lock:
            tokens = sorted(self._tokens)
        if first and tokens:  # later connections: the client resubscribes by itself
            self._send_subscription(tokens)
        self._event(FeedEvent("connected" if first else "reconnected", {"instruments": len(tokens)}))

    def _on_close(self, ws: Any, code: Any, reason: Any) -> None:
        self._connected = False
        self._event(FeedEvent("dropped", {"code": code, "reason": str(reason)[:200]}))

    def _on_error(self, ws: Any, code: Any, reason: Any) -> None:
        self._event(FeedEvent("error", {"code": code, "reason": str(reason)[:200]}))

    def _on_reconnect(self, ws: Any, attempts: int) -> None:
        self._event(FeedEvent("reconnecting", {"attempt": attempts}))

    def _on_noreconnect(self, ws: Any) -> None:
        self._event(FeedEvent("gave_up", {}))

    def _event(self, event: FeedEvent) -> None:
        self._log.log(
            logging.INFO if event.what in ("connected", "reconnected") else logging.WARNING,
            "kite feed %s %s",
            event.what,
            event.detail,
        )
        with self._lock:
            feeds = list(self._feeds)
        for feed in feeds:
            feed.note(event)


class KiteFeed:
    """One engine's view of the hub: the ticks of its instruments, read up to a moment of the wall clock."""

    def __init__(self, hub: TickerHub, silence_warn_s: float, silence_limit_s: float) -> None:
        self._hub = hub
        self._queue: queue.Queue[TickBatch] = queue.Queue()
        self._events: queue.Queue[FeedEvent] = queue.Queue()
        self._tokens = np.zeros(0, dtype=np.int64)
        self._held = TickBatch.empty()  # arrived early: stamped after the last read's moment
        self._last_through = 0
        self._silence_warn_ms = int(silence_warn_s * 1000)
        self._silence_limit_ms = int(silence_limit_s * 1000)
        self._opened_ms = 0
        self._last_tick_ms = 0
        self._silent = False
        hub.attach(self)

    # --- the Feed protocol ---------------------------------------------------------------------------

    def subscribe(self, instruments: Sequence[Instrument]) -> None:
        tokens = {i.token for i in instruments} | set(self._tokens.tolist())
        self._tokens = np.array(sorted(tokens), dtype=np.int64)
        self._hub.subscribe([i.token for i in instruments])

    def unsubscribe(self, instruments: Sequence[Instrument]) -> None:
        # The connection keeps streaming them (another engine may want them); this feed drops them.
        gone = {i.token for i in instruments}
        self._tokens = np.array([t for t in self._tokens.tolist() if t not in gone], dtype=np.int64)

    def open(self, after: int) -> None:
        self._last_through = after
        self._opened_ms = ms(now_ist())

    def read(self, through: int, stop: threading.Event) -> TickBatch:
        """What arrived stamped up to `through`, once the wall clock has passed it."""
        delay = (through - ms(now_ist())) / 1000
        if delay > 0:
            stop.wait(delay)
        batches = [self._held]
        while True:
            try:
                batches.append(self._queue.get_nowait())
            except queue.Empty:
                break
        ticks = TickBatch.concat(batches).sorted_by_time()
        if len(ticks):
            ticks = ticks.take(np.flatnonzero(np.isin(ticks.token, self._tokens)))
        # A tick stamped at or before a moment already read is stamped just after it: the engine's
        # moments only move forward.
        late = ticks.ts <= self._last_through
        if late.any():
            ticks = _restamp(ticks, late, self._last_through + 1)
        split = int(np.searchsorted(ticks.ts, through, side="right"))
        self._held = ticks.take(slice(split, None))
        self._last_through = max(self._last_through, through)
        self._watch_silence(through)
        return ticks.take(slice(0, split))

    def events(self) -> list[FeedEvent]:
        out = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        self._hub.detach(self)

    # --- the hub's side ------------------------------------------------------------------------------

    def deliver(self, ticks: TickBatch) -> None:
        self._last_tick_ms = ms(now_ist())
        self._queue.put(ticks)

    def note(self, event: FeedEvent) -> None:
        self._events.put(event)

    def _watch_silence(self, now: int) -> None:
        last = self._last_tick_ms or self._opened_ms
        quiet = now - last
        if quiet >= self._silence_limit_ms:
            raise FeedFailure(
                f"the Kite feed has been silent for {quiet / 1000:.0f} s (limit: market_data.kite."
                f"silence_limit_s = {self._silence_limit_ms / 1000:.0f} s)"
            )
        if quiet >= self._silence_warn_ms and not self._silent:
            self._silent = True
            self.note(FeedEvent("silent", {"seconds": round(quiet / 1000, 1)}))
        elif quiet < self._silence_warn_ms and self._silent:
            self._silent = False
            self.note(FeedEvent("resumed", {}))


def _restamp(ticks: TickBatch, late: np.ndarray[Any, Any], floor: int) -> TickBatch:
    columns = {name: getattr(ticks, name) for name in ticks.__dataclass_fields__}
    columns["ts"] = np.where(late, floor, ticks.ts)
    return TickBatch(**columns).sorted_by_time()
