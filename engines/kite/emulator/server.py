"""The emulator as one aiohttp application on one port: Kite's REST routes, the ticker WebSocket at `/`,
and the admin routes under `/_emulator/` (outside Kite's namespace).

    request -> edge middleware (auth, Kite envelope for every error, request log) -> rest.py handler
    GET / (upgrade) -> ticker.py; the pump task advances the tape with the wall clock
    /_emulator/health, /_emulator/log, POST /_emulator/fault/{name} -> faults.py

aiohttp's access log is off: Kite puts the access token in the query string of the ticker URL and of
DELETE /session/token, so a raw request line must never be written anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

from aiohttp import web
from aiohttp.typedefs import Handler

from engines.errors import ConfigError
from engines.kite.emulator.auth import Sessions
from engines.kite.emulator.candles import Candles
from engines.kite.emulator.config import EmulatorConfig
from engines.kite.emulator.envelope import ErrorType, KiteError, failure
from engines.kite.emulator.faults import Fault, apply
from engines.kite.emulator.reqlog import Redactor, RequestLog
from engines.kite.emulator.rest import KiteRest
from engines.kite.emulator.tape import MarketClock, Tape
from engines.kite.emulator.ticker import Ticker
from engines.market.calendar import NseCalendar, at_ist, ms, now_ist
from engines.market.sim import MarketSimulator, SimSession

log = logging.getLogger("kite-emulator")
PUBLIC_ROUTES = frozenset({("POST", "/session/token"), ("DELETE", "/session/token")})
_HTTP_ERRORS = {
    404: KiteError(404, ErrorType.GENERAL, "Route not found"),
    405: KiteError(405, ErrorType.GENERAL, "Method not allowed"),
}


class EmulatorServer:
    """Builds the day's market at construction (seconds: the simulator and the tape's first step), then
    serves on the running event loop between `start` and `stop`."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        credentials = config.credentials
        self.redactor = Redactor(
            credentials.api_key.get_secret_value(),
            credentials.api_secret.get_secret_value(),
            credentials.secret_values(),
        )
        self.reqlog = RequestLog(config.log_path, self.redactor)
        calendar = NseCalendar()
        day = config.day or calendar.last_trading_day(now_ist().date())
        closed = calendar.why_closed(day)
        if closed:
            before, after = calendar.previous_trading_day(day), calendar.next_trading_day(day)
            raise ConfigError(f"date: {day} is not a trading day ({closed}); nearest: {before}, {after}")
        self.market = MarketSimulator(SimSession(config.seed, day, config.market_open, config.market_close))
        session = self.market.session
        self._start_step = (ms(at_ist(day, config.start_time)) - session.start_ms) // session.interval_ms
        self.tape = Tape(self.market)
        self.tape.advance(0, self._start_step, emit=1)  # the day up to the start time, before the clock runs
        self.sessions = Sessions(credentials, self.redactor)
        self.rest = KiteRest(self.sessions, self.tape, Candles(self.market))
        self._runner: web.AppRunner | None = None
        self._pump: asyncio.Task[None] | None = None
        self.ticker: Ticker | None = None
        self.port = 0

    async def start(self) -> int:
        """Bind, start the pump; returns the port (the OS's pick when the config says 0)."""
        clock = MarketClock(self.market.session, self.config.speed, self._start_step, time.monotonic())
        ticker = Ticker(
            self.sessions, self.tape, clock, self.reqlog, self.config.heartbeat_s, self.config.max_connections
        )
        self.ticker = ticker
        app = web.Application(middlewares=[self._edge])
        app.router.add_get("/", ticker.handle)
        self.rest.add_routes(app)
        app.router.add_get("/_emulator/health", self._health)
        app.router.add_get("/_emulator/log", self._log)
        app.router.add_post("/_emulator/fault/{name}", self._fault)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._pump = asyncio.create_task(ticker.pump())
        self._pump.add_done_callback(_report_pump_end)
        self.reqlog.record("admin", event="start", port=self.port, date=self.market.session.day.isoformat())
        log.info(
            "serving %s on %s:%d (speed %g)",
            self.market.session.day,
            self.config.host,
            self.port,
            self.config.speed,
        )
        return self.port

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        if self.ticker is not None:
            self.ticker.drop()
        if self._runner is not None:
            await self._runner.cleanup()
        self.reqlog.record("admin", event="stop")
        self.reqlog.close()

    def fault(self, name: str) -> dict[str, int | bool]:
        if name not in set(Fault) or self.ticker is None:
            raise KiteError(400, ErrorType.INPUT, f"unknown fault; expected one of {', '.join(Fault)}")
        result = apply(Fault(name), self.ticker, self.sessions)
        self.reqlog.record("fault", fault=name, **result)
        return result

    def health(self) -> dict[str, object]:
        cycle, step = self.tape.position
        session = self.market.session
        moment = at_ist(session.day, session.market_open) + timedelta(
            seconds=max(step, 0) * session.tick_interval_s
        )
        ticker = self.ticker
        pump_ok = self._pump is not None and not self._pump.done()
        return {
            "status": "ok" if pump_ok else "failed",
            "date": session.day.isoformat(),
            "seed": session.seed,
            "speed": self.config.speed,
            "cycle": cycle,
            "step": step,
            "market_time": moment.strftime("%H:%M:%S"),
            "instruments": len(self.tape.instruments),
            "connections": len(ticker.connections) if ticker else 0,
            "subscribed": sum(len(c.modes) for c in ticker.connections) if ticker else 0,
            "silent": ticker.silent if ticker else False,
            "ticks_sent": ticker.ticks_sent if ticker else 0,
        }

    # --- routes of our own ---------------------------------------------------------------------

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response(self.health())

    async def _log(self, request: web.Request) -> web.Response:
        return web.json_response({"entries": self.reqlog.entries()})

    async def _fault(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"fault": request.match_info["name"], **self.fault(request.match_info["name"])}
        )

    @web.middleware
    async def _edge(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = _template(request)
        if route == "/":
            return await handler(request)  # the ticker logs its own events
        started = time.perf_counter()
        error: KiteError | None = None
        response: web.StreamResponse
        try:
            if _needs_token(request.method, route):
                self.sessions.require_header(request.headers.get("Authorization"))
            response = await handler(request)
        except KiteError as exc:
            error = exc
        except web.HTTPException as exc:
            error = _HTTP_ERRORS.get(exc.status, KiteError(exc.status, ErrorType.GENERAL, exc.reason))
        except Exception as exc:  # a bug here must still answer in Kite's envelope, and say only its type
            log.error("%s %s failed: %s", request.method, route, type(exc).__name__)
            error = KiteError(500, ErrorType.GENERAL, "emulator: internal error")
        if error is not None:
            response = failure(error)
        self.reqlog.record(
            "admin" if route.startswith("/_emulator/") else "rest",
            method=request.method,
            route=route,
            status=response.status,
            error_type=error.error_type.value if error else None,
            order_route=(request.method, route) in self.rest.order_routes,
            kite_v3=request.headers.get("X-Kite-Version") == "3",
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return response


def _needs_token(method: str, route: str) -> bool:
    """Every Kite route but login and logout; not ours, and not an unknown route (a 404 says more)."""
    ours = route.startswith("/_emulator/") or route == "<unmatched>"
    return not ours and (method, route) not in PUBLIC_ROUTES


def _template(request: web.Request) -> str:
    """The matched route's template, never the path itself (paths and queries may carry tokens)."""
    info = request.match_info
    if info.http_exception is not None or info.route.resource is None:
        return "<unmatched>"
    return info.route.resource.canonical


def _report_pump_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the tick pump stopped: %s", type(task.exception()).__name__)


__all__ = ["EmulatorServer"]
