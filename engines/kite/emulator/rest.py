"""Kite Connect's REST routes, answered as the official client expects (KITE_AND_NSE.md §1).

    session     POST /session/token (login, checksum), DELETE /session/token (logout)
    user        GET /user/profile, /user/margins, /user/margins/{segment}
    instruments GET /instruments, /instruments/{exchange}: the simulator master as Kite's CSV
    quotes      GET /quote, /quote/ltp, /quote/ohlc: from the tape's current step
    history     GET /instruments/historical/{instrument_token}/{interval}
    portfolio   GET /portfolio/positions, /portfolio/holdings: empty (the emulator holds nothing)
    orders      every order, trade, GTT, MF and position-conversion route: 403 PermissionException,
                logged as an order-route call (Paperfleet trades on paper; a live order is a bug)

Anything else is a 404 GeneralException. Authentication (`Authorization: token api_key:access_token`) is
checked by the middleware in server.py for every route but login and logout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from engines.kite.emulator.auth import Sessions
from engines.kite.emulator.candles import Candles, parse_moment
from engines.kite.emulator.envelope import (
    ORDERS_REFUSED,
    ErrorType,
    KiteError,
    csv_response,
    input_error,
    success,
)
from engines.kite.emulator.tape import Snapshot, Tape
from engines.market.instruments import Instrument, InstrumentMaster

EXCHANGES = frozenset({"NSE", "BSE", "NFO", "CDS", "BFO", "MCX", "BCD", "NCO"})
MAX_QUOTE, MAX_LTP = 500, 1000  # instruments per call (DOC)
USER = {
    "user_id": "PF0001",
    "user_type": "individual",
    "email": "emulator@paperfleet.invalid",
    "user_name": "Paperfleet Emulator",
    "user_shortname": "Emulator",
    "broker": "ZERODHA",
    "exchanges": ["NSE", "NFO"],
    "products": ["CNC", "NRML", "MIS"],
    "order_types": ["MARKET", "LIMIT", "SL", "SL-M"],
    "avatar_url": None,
    "meta": {"demat_consent": "physical"},
}
# Order-family routes: every method refused. (template, methods)
ORDER_ROUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/orders", ("GET",)),
    ("/orders/{variety}", ("GET", "POST")),  # GET /orders/{order_id} shares the shape
    ("/orders/{variety}/{order_id}", ("GET", "PUT", "DELETE")),  # GET /orders/{order_id}/trades too
    ("/trades", ("GET",)),
    ("/portfolio/positions", ("PUT",)),
    ("/gtt/triggers", ("GET", "POST")),
    ("/gtt/triggers/{trigger_id}", ("GET", "PUT", "DELETE")),
    ("/mf/{route:.*}", ("GET", "POST", "PUT", "DELETE")),
)


def _margin(cash: float) -> dict[str, Any]:
    zero = dict.fromkeys(("adhoc_margin", "collateral", "intraday_payin"), 0.0)
    used = (
        "debits",
        "exposure",
        "m2m_realised",
        "m2m_unrealised",
        "option_premium",
        "payout",
        "span",
        "holding_sales",
        "turnover",
        "liquid_collateral",
        "stock_collateral",
        "delivery",
    )
    return {
        "enabled": True,
        "net": cash,
        "available": {**zero, "cash": cash, "opening_balance": cash, "live_balance": cash},
        "utilised": dict.fromkeys(used, 0.0),
    }


MARGINS = {"equity": _margin(1_000_000.0), "commodity": _margin(0.0)}


class KiteRest:
    """The handlers; they read the tape's latest snapshot and never advance it (the pump does)."""

    def __init__(self, sessions: Sessions, tape: Tape, candles: Candles) -> None:
        self._sessions, self._tape, self._candles = sessions, tape, candles
        self._csv: dict[str, str] = {}
        self.order_routes: set[tuple[str, str]] = set()  # (method, canonical template), for the request log

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_post("/session/token", self.login)
        r.add_delete("/session/token", self.logout)
        r.add_get("/user/profile", self.profile)
        r.add_get("/user/margins", self.margins)
        r.add_get("/user/margins/{segment}", self.margins)
        r.add_get("/instruments", self.instruments)
        r.add_get("/instruments/{exchange}", self.instruments)
        r.add_get("/instruments/historical/{instrument_token}/{interval}", self.historical)
        r.add_get("/quote", self.quote)
        r.add_get("/quote/ltp", self.ltp)
        r.add_get("/quote/ohlc", self.ohlc)
        r.add_get("/portfolio/positions", self.positions)
        r.add_get("/portfolio/holdings", self.holdings)
        for template, methods in ORDER_ROUTES:
            for method in methods:
                route = r.add_route(method, template, self.refuse_order)
                if route.resource is not None:
                    self.order_routes.add((method, route.resource.canonical))

    # --- session and user --------------------------------------------------------------------

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        fields = {name: form.get(name) for name in ("api_key", "request_token", "checksum")}
        for name, value in fields.items():
            if not isinstance(value, str) or not value:
                raise input_error(f"Missing or empty `{name}`.")
        api_key, request_token, checksum = (str(fields[n]) for n in ("api_key", "request_token", "checksum"))
        access_token = self._sessions.login(api_key, request_token, checksum)
        login_time = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 19800))  # IST, 19 chars
        return success(
            {
                **USER,
                "api_key": api_key,
                "access_token": access_token,
                "public_token": "",
                "enctoken": "",
                "refresh_token": "",
                "silo": "",
                "login_time": login_time,
            }
        )

    async def logout(self, request: web.Request) -> web.Response:
        self._sessions.logout(request.query.get("api_key", ""), request.query.get("access_token", ""))
        return success(True)

    async def profile(self, request: web.Request) -> web.Response:
        return success(USER)

    async def margins(self, request: web.Request) -> web.Response:
        segment = request.match_info.get("segment")
        if segment is None:
            return success(MARGINS)
        if segment not in MARGINS:
            raise input_error("Invalid segment; expected equity or commodity.")
        return success(MARGINS[segment])

    async def positions(self, request: web.Request) -> web.Response:
        return success({"net": [], "day": []})

    async def holdings(self, request: web.Request) -> web.Response:
        return success([])

    async def refuse_order(self, request: web.Request) -> web.Response:
        raise KiteError(403, ErrorType.PERMISSION, ORDERS_REFUSED)

    # --- instruments and quotes ----------------------------------------------------------------

    async def instruments(self, request: web.Request) -> web.Response:
        exchange = request.match_info.get("exchange", "")
        if exchange and exchange not in EXCHANGES:
            raise input_error(f"Invalid exchange; expected one of {', '.join(sorted(EXCHANGES))}.")
        if exchange not in self._csv:
            self._csv[exchange] = _instruments_csv(self._tape.master, exchange)
        return csv_response(self._csv[exchange])

    async def quote(self, request: web.Request) -> web.Response:
        return success(self._quotes(request, MAX_QUOTE, _full_quote))

    async def ltp(self, request: web.Request) -> web.Response:
        return success(self._quotes(request, MAX_LTP, _ltp_quote))

    async def ohlc(self, request: web.Request) -> web.Response:
        return success(self._quotes(request, MAX_LTP, _ohlc_quote))

    def _quotes(
        self, request: web.Request, limit: int, shape: Callable[[Snapshot, int, Instrument], dict[str, Any]]
    ) -> dict[str, Any]:
        keys = request.query.getall("i", [])
        if not keys:
            raise input_error("No instruments; pass i=EXCHANGE:TRADINGSYMBOL.")
        if len(keys) > limit:
            raise input_error(f"Too many instruments: at most {limit} per call.")
        snap = self._tape.snapshot
        if snap is None:
            raise KiteError(503, ErrorType.GENERAL, "emulator: the market is not ready yet")
        out: dict[str, Any] = {}
        for key in keys:
            row = self._tape.row_of_key.get(key)
            if row is not None:  # unknown keys are left out, as Kite does
                out[key] = shape(snap, row, self._tape.instruments[row])
        return out

    # --- history -------------------------------------------------------------------------------

    async def historical(self, request: web.Request) -> web.Response:
        try:
            token = int(request.match_info["instrument_token"])
        except ValueError:
            raise input_error("invalid token") from None
        start = parse_moment(request.query.get("from", ""), "from")
        end = parse_moment(request.query.get("to", ""), "to")
        with_oi = request.query.get("oi", "0") == "1"
        step = self._tape.position[1]
        candles = await asyncio.get_running_loop().run_in_executor(
            None, self._candles.candles, token, request.match_info["interval"], start, end, with_oi, step
        )
        return success({"candles": candles})


def _rupees(paise: int) -> float:
    return paise / 100


def _ltp_quote(snap: Snapshot, row: int, instrument: Instrument) -> dict[str, Any]:
    return {"instrument_token": instrument.token, "last_price": _rupees(int(snap.last_price[row]))}


def _ohlc(snap: Snapshot, row: int) -> dict[str, float]:
    return {
        "open": _rupees(int(snap.open[row])),
        "high": _rupees(int(snap.high[row])),
        "low": _rupees(int(snap.low[row])),
        "close": _rupees(int(snap.close[row])),
    }


def _ohlc_quote(snap: Snapshot, row: int, instrument: Instrument) -> dict[str, Any]:
    return {**_ltp_quote(snap, row, instrument), "ohlc": _ohlc(snap, row)}


def _full_quote(snap: Snapshot, row: int, instrument: Instrument) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 19800))  # the wall clock, IST
    close = int(snap.close[row])
    band = close // 5 if instrument.tradable else 0  # a 20% circuit band

    def side(prices: Any, quantities: Any, orders: Any) -> list[dict[str, float | int]]:
        return [
            {"price": _rupees(int(p)), "quantity": int(q), "orders": int(o)}
            for p, q, o in zip(prices[row], quantities[row], orders[row], strict=True)
        ]

    return {
        "instrument_token": instrument.token,
        "timestamp": now,
        "last_trade_time": now if instrument.tradable else None,
        "last_price": _rupees(int(snap.last_price[row])),
        "last_quantity": int(snap.last_quantity[row]),
        "buy_quantity": int(snap.buy_quantity[row]),
        "sell_quantity": int(snap.sell_quantity[row]),
        "volume": int(snap.volume[row]),
        "average_price": _rupees(int(snap.average_price[row])),
        "oi": int(snap.oi[row]),
        "oi_day_high": int(snap.oi_day_high[row]),
        "oi_day_low": int(snap.oi_day_low[row]),
        "net_change": _rupees(int(snap.last_price[row]) - close),
        "lower_circuit_limit": _rupees(close - band),
        "upper_circuit_limit": _rupees(close + band),
        "ohlc": _ohlc(snap, row),
        "depth": {
            "buy": side(snap.bid_price, snap.bid_quantity, snap.bid_orders),
            "sell": side(snap.ask_price, snap.ask_quantity, snap.ask_orders),
        },
    }


def _instruments_csv(master: InstrumentMaster, exchange: str) -> str:
    """Kite's dump of one exchange (all of them when empty), written by the master's own CSV writer."""
    if not exchange:
        return master.to_csv()
    return InstrumentMaster(master.day, [i for i in master if i.exchange == exchange], master.rules).to_csv()
