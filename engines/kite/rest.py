"""Kite's REST API through the official client (kiteconnect 5.2.2), behind the shared rate limits.

Every call takes a slot of its route family first (ratelimit.py) and turns the client's failures into
the errors of errors.py: KiteTokenError (run `session login`), KiteUnreachable, KiteError. Messages name
the route, the error type and the HTTP status, never a credential: a message from Kite is passed on
with the api_key and access token masked. Each thread gets its own client (a requests Session is not
meant to be shared between threads), so a request goes out right after its slot is taken.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import requests
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kex
from pydantic import SecretStr

from engines.kite.errors import KiteError, KiteTokenError, KiteUnreachable
from engines.kite.ratelimit import KiteLimits, Route
from engines.market.calendar import IST

TIMEOUT_S = 7.0  # the client's default
_MOMENT = "%Y-%m-%d %H:%M:%S"  # Kite's from/to format, read as IST


class KiteRest:
    """The REST calls Paperfleet makes, each behind its route family's shared rate limit."""

    def __init__(
        self,
        *,
        api_key: SecretStr,
        access_token: SecretStr,
        api_root: str,
        limits: KiteLimits,
        timeout_s: float = TIMEOUT_S,
        stop: threading.Event | None = None,
    ) -> None:
        self.api_root = api_root
        self._api_key, self._access_token = api_key, access_token
        self._limits = limits
        self._stop = stop  # set: a call waiting for its rate-limit slot raises LimiterStopped
        self._timeout_s = timeout_s
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"KiteRest(api_root={self.api_root!r})"

    # --- the calls ---------------------------------------------------------------------------------

    def instruments_csv(self) -> bytes:
        """GET /instruments: Kite's whole instrument dump as the CSV bytes it serves. The client's public
        instruments() would parse them with a reader that fails on the real dump's quirks (empty strikes);
        InstrumentMaster.from_csv reads them instead."""
        raw = self._call(Route.OTHER, "GET /instruments", lambda kite: kite._get("market.instruments.all"))
        if not isinstance(raw, bytes):
            raise KiteError(f"{self.api_root}/instruments: expected a CSV, got a {type(raw).__name__}")
        return raw

    def minute_candles(self, token: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """GET /instruments/historical/{token}/minute from `start` to `end` (both taken in IST): the
        client's dicts, `date` tz-aware (+05:30), prices in rupees, volume."""
        first, last = start.astimezone(IST).strftime(_MOMENT), end.astimezone(IST).strftime(_MOMENT)
        candles = self._call(
            Route.HISTORICAL,
            f"GET /instruments/historical/{token}/minute",
            lambda kite: kite.historical_data(token, first, last, "minute"),
        )
        return list(candles)

    def quote(self, *keys: str) -> dict[str, Any]:
        """GET /quote for `EXCHANGE:TRADINGSYMBOL` keys (at most 500; unknown keys are left out)."""
        result: dict[str, Any] = self._call(Route.QUOTE, "GET /quote", lambda kite: kite.quote(list(keys)))
        return result

    def ltp(self, *keys: str) -> dict[str, Any]:
        """GET /quote/ltp (at most 1000 keys)."""
        result: dict[str, Any] = self._call(Route.QUOTE, "GET /quote/ltp", lambda kite: kite.ltp(list(keys)))
        return result

    def profile(self) -> dict[str, Any]:
        """GET /user/profile: who the token belongs to; the cheapest proof that it works."""
        result: dict[str, Any] = self._call(Route.OTHER, "GET /user/profile", lambda kite: kite.profile())
        return result

    # --- plumbing ----------------------------------------------------------------------------------

    def _client(self) -> KiteConnect:
        client: KiteConnect | None = getattr(self._local, "client", None)
        if client is None:
            client = KiteConnect(
                self._api_key.get_secret_value(),
                access_token=self._access_token.get_secret_value(),
                root=self.api_root,
                timeout=self._timeout_s,
            )
            self._local.client = client
        return client

    def _call(self, route: Route, what: str, call: Callable[[KiteConnect], Any]) -> Any:
        client = self._client()
        self._limits[route].acquire(self._stop)
        try:
            return call(client)
        except kex.TokenException as exc:
            raise KiteTokenError(
                f"Kite refused the access token on {what} (TokenException, HTTP {exc.code}); "
                f"run: session login"
            ) from None
        except kex.KiteException as exc:
            raise KiteError(
                f"Kite answered {what} with {type(exc).__name__} (HTTP {exc.code}): {self._masked(str(exc))}"
            ) from None
        except requests.RequestException as exc:
            raise KiteUnreachable(
                f"Kite unreachable at {self.api_root} on {what} ({type(exc).__name__}); check the network "
                f"and market_data.kite.api_root"
            ) from None
        except (KeyError, ValueError, TypeError) as exc:  # the client trips on an answer it cannot parse
            raise KiteError(f"{self.api_root}: unreadable answer to {what} ({type(exc).__name__})") from None

    def _masked(self, text: str) -> str:
        for secret in (self._access_token.get_secret_value(), self._api_key.get_secret_value()):
            if secret:
                text = text.replace(secret, "***")
        return text
