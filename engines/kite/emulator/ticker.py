"""The KiteTicker WebSocket: handshake, subscriptions and modes, the pump that streams the tape, heartbeats.

    client -> GET /?api_key=..&access_token=.. (upgrade)   403 bad token, 429 past max_connections
    client -> {"a": "subscribe"|"unsubscribe", "v": [tokens]}, {"a": "mode", "v": [mode, [tokens]]}
    pump   -> each step: tape.advance -> one binary frame per socket with its packets (packets.py)
    writer -> per socket: sends its queued frames; a 1-byte heartbeat after heartbeat_s without one

A socket's frames go through its own queue (bounded in bytes) and writer task, so a slow client loses
its own oldest frames (counted as `dropped`) and never stalls the others. A pump that falls behind the
clock (speeds past what one core can price and encode) sends only the latest steps of its backlog and
folds the rest into the day state, so it degrades to fewer frames instead of falling further behind.

New subscriptions get the current step at once, as Kite sends a first tick right after subscribing. A
subscription starts in quote mode (the official client assumes so); `mode` applies to subscribed tokens
only. Pings are answered by hand (autoping off) so that the silent fault can stop the pongs too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from engines.kite.emulator.auth import Sessions
from engines.kite.emulator.envelope import ErrorType, KiteError, failure
from engines.kite.emulator.packets import HEARTBEAT, Encoder, Mode, Plan, malformed_frame
from engines.kite.emulator.reqlog import RequestLog
from engines.kite.emulator.tape import MarketClock, Snapshot, Tape

log = logging.getLogger("kite-emulator")
MAX_TOKENS = 3000  # per socket, as Kite allows
QUEUE_BYTES = 16 << 20  # per socket; past this a slow client's oldest frames are dropped
BACKLOG_S = 0.25  # a lagging pump sends at most this many wall seconds' worth of steps per round
FOLD_SLICE = 50  # backlog steps folded between two yields to the event loop (about 50 ms)


@dataclass(eq=False)
class Connection:
    """One ticker socket and what it subscribed."""

    number: int
    ws: web.WebSocketResponse
    request: web.Request
    modes: dict[int, Mode] = field(default_factory=dict)  # master row -> mode
    plan: Plan | None = None
    pending: deque[bytes] = field(default_factory=deque)
    pending_bytes: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    frames: int = 0
    heartbeats: int = 0
    dropped: int = 0

    def offer(self, frame: bytes) -> None:
        self.pending.append(frame)
        self.pending_bytes += len(frame)
        while self.pending_bytes > QUEUE_BYTES and len(self.pending) > 1:
            self.pending_bytes -= len(self.pending.popleft())
            self.dropped += 1
        self.wake.set()

    def take(self) -> bytes | None:
        if not self.pending:
            self.wake.clear()
            return None
        frame = self.pending.popleft()
        self.pending_bytes -= len(frame)
        return frame


class Ticker:
    def __init__(
        self,
        sessions: Sessions,
        tape: Tape,
        clock: MarketClock,
        reqlog: RequestLog,
        heartbeat_s: float,
        max_connections: int,
    ) -> None:
        self._sessions, self._tape, self._clock, self._log = sessions, tape, clock, reqlog
        self._heartbeat_s, self._max = heartbeat_s, max_connections
        self._encoder = Encoder(tape.tokens)
        self._emit = max(2, math.ceil(BACKLOG_S * clock.speed))
        self.connections: set[Connection] = set()
        self.silent = False
        self._numbers = 0
        self.ticks_sent = 0

    # --- the socket ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
        if not ws.can_prepare(request).ok:
            self._log.record("ws", event="connect", status=400, connections=len(self.connections))
            return failure(KiteError(400, ErrorType.INPUT, "Expected a WebSocket upgrade."))
        api_key, token = request.query.get("api_key", ""), request.query.get("access_token", "")
        if not self._sessions.valid(api_key, token):
            self._log.record("ws", event="connect", status=403, connections=len(self.connections))
            return failure(KiteError(403, ErrorType.TOKEN, "Incorrect `api_key` or `access_token`."))
        if len(self.connections) >= self._max:
            self._log.record("ws", event="connect", status=429, connections=len(self.connections))
            return failure(KiteError(429, ErrorType.GENERAL, "Too many connections for this api_key."))
        await ws.prepare(request)
        self._numbers += 1
        conn = Connection(self._numbers, ws, request)
        self.connections.add(conn)
        self._log.record(
            "ws", event="connect", status=101, conn=conn.number, connections=len(self.connections)
        )
        writer = asyncio.create_task(self._write(conn))
        started = time.monotonic()
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self._on_text(conn, msg.data)
                elif msg.type is WSMsgType.PING and not self.silent:
                    await ws.pong(msg.data)
        finally:
            self.connections.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._log.record(
                "ws",
                event="disconnect",
                conn=conn.number,
                frames=conn.frames,
                heartbeats=conn.heartbeats,
                dropped=conn.dropped,
                seconds=round(time.monotonic() - started, 3),
                connections=len(self.connections),
            )
        return ws

    def _on_text(self, conn: Connection, text: str) -> None:
        try:
            message: Any = json.loads(text)
            action, value = message["a"], message["v"]
        except (ValueError, KeyError, TypeError):
            self._log.record("ws", event="bad_message", conn=conn.number)
            return
        if action == "mode" and isinstance(value, list) and len(value) == 2 and isinstance(value[1], list):
            mode, tokens = value
            if mode not in set(Mode):
                self._log.record("ws", event="bad_message", conn=conn.number)
                return
            rows = [r for r in self._rows(tokens) if r in conn.modes]
            conn.modes.update(dict.fromkeys(rows, Mode(mode)))
            self._log.record(
                "ws", event="mode", conn=conn.number, mode=mode, requested=len(tokens), applied=len(rows)
            )
            self._send_now(conn, rows)
        elif action in ("subscribe", "unsubscribe") and isinstance(value, list):
            rows = self._rows(value)
            if action == "subscribe":
                room = max(0, MAX_TOKENS - len(conn.modes))
                new = [r for r in rows if r not in conn.modes][:room]
                conn.modes.update(dict.fromkeys(new, Mode.QUOTE))
                self._send_now(conn, new)
            else:
                for row in rows:
                    conn.modes.pop(row, None)
            self._log.record(
                "ws",
                event=action,
                conn=conn.number,
                requested=len(value),
                known=len(rows),
                subscribed=len(conn.modes),
            )
        else:
            self._log.record("ws", event="bad_message", conn=conn.number)
            return
        conn.plan = None

    def _rows(self, tokens: list[Any]) -> list[int]:
        """Master rows of the known tokens (unknown ones are ignored, as Kite does)."""
        rows = (self._tape.row_of.get(t) for t in tokens if isinstance(t, int) and not isinstance(t, bool))
        return [r for r in rows if r is not None]

    def _send_now(self, conn: Connection, rows: list[int]) -> None:
        snap = self._tape.snapshot
        if rows and snap is not None and not self.silent:
            plan = Plan.build({r: conn.modes[r] for r in rows}, self._tape.tradable)
            conn.offer(self._encoder.frame(snap, plan, int(time.time())))

    async def _write(self, conn: Connection) -> None:
        while not conn.ws.closed:
            frame = conn.take()
            if frame is None:
                try:
                    await asyncio.wait_for(conn.wake.wait(), self._heartbeat_s)
                    continue
                except TimeoutError:
                    frame = HEARTBEAT
            if self.silent:
                continue
            try:
                await conn.ws.send_bytes(frame)
            except (ConnectionError, RuntimeError):
                return  # the reader sees the close and cleans up
            if frame is HEARTBEAT:
                conn.heartbeats += 1
            else:
                conn.frames += 1

    # --- the pump ------------------------------------------------------------------------------

    async def pump(self) -> None:
        """Advance the tape with the clock and send each step to every subscribed socket, yielding to
        the loop between steps (and between slices of a backlog) so the writers and REST keep going."""
        while True:
            cycle, step = self._clock.position(time.monotonic())
            while not self._tape.fold_until(cycle, step - self._emit, limit=FOLD_SLICE):
                await asyncio.sleep(0)
            for snap in self._tape.steps_until(cycle, step):
                self._broadcast(snap)
                await asyncio.sleep(0)
            wake = self._clock.wall_time(cycle, step + 1)
            await asyncio.sleep(max(0.0, wake - time.monotonic()))

    def _broadcast(self, snap: Snapshot) -> None:
        if self.silent:
            return
        now_s = int(time.time())
        for conn in self.connections:
            if not conn.modes:
                continue
            if conn.plan is None:
                conn.plan = Plan.build(conn.modes, self._tape.tradable)
            conn.offer(self._encoder.frame(snap, conn.plan, now_s))
            self.ticks_sent += len(conn.plan)

    # --- faults --------------------------------------------------------------------------------

    def drop(self) -> int:
        """Abort every socket (no close frame, as a network failure does)."""
        count = 0
        for conn in list(self.connections):
            transport = conn.request.transport
            if transport is not None:
                transport.abort()
                count += 1
        return count

    def malformed(self) -> int:
        for conn in self.connections:
            conn.offer(malformed_frame())
        return len(self.connections)
