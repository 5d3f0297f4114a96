"""KiteMarket: the live market as a MarketSource (engines/market/source.py): Kite's instrument dump as the
day's master, the wall clock, warm-up bars from Kite's history, and the ticker feed.

    KiteMarket(config, paths) -> .master, .clock(), .warmup(instrument, count), .rest, .feed()

Every feed of one KiteMarket (one per process: the single layout's three engines) shares one ticker
connection (feed.py's TickerHub), opened by the first subscription and closed with the last feed.

Building one checks the access token without the network first (present, for this api_key, not past its
06:00 IST expiry: a KiteTokenError says to run `session login`), then loads the day's master: the cached
dump when there is one, else a download (instruments.py). Every REST call shares the rate limits of all
engines on the artifacts directory (ratelimit.py).
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime
from pathlib import Path

from pydantic import SecretStr

from engines.artifacts.layout import ArtifactPaths
from engines.clock import Clock, WallClock
from engines.config import Config
from engines.kite.errors import KiteTokenError
from engines.kite.feed import KiteFeed, TickerHub
from engines.kite.history import warmup_bars
from engines.kite.instruments import load_kite_master
from engines.kite.ratelimit import KiteLimits
from engines.kite.rest import KiteRest
from engines.kite.secrets import KiteSecrets, SecretsError, load_kite_secrets, token_problem
from engines.market.calendar import at_ist, now_ist
from engines.market.feed import Feed
from engines.market.instruments import Instrument, InstrumentMaster
from engines.quotes import Bar

log = logging.getLogger("kite")


def token_of(secrets: KiteSecrets) -> SecretStr:
    if secrets.access_token is None:  # KiteMarket checked it: unreachable
        raise KiteTokenError("no access_token; run: session login")
    return secrets.access_token


class KiteMarket:
    """The live market of `day` (default: today, IST). `secrets` default to the config's secrets file
    (`secrets_path` overrides where that is: the containers mount the secrets directory at /secrets).
    `stop`, when set, ends a wait for a rate-limit slot with LimiterStopped (a SIGTERM at the open)."""

    def __init__(
        self,
        config: Config,
        paths: ArtifactPaths,
        *,
        secrets: KiteSecrets | None = None,
        secrets_path: Path | None = None,
        day: date | None = None,
        now: datetime | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        now = now or now_ist()
        self.day = day or now.date()
        self._paths = paths
        path = secrets_path or config.kite_secrets_path
        if secrets is None:
            try:
                secrets = load_kite_secrets(path)
            except SecretsError as exc:
                raise KiteTokenError(str(exc)) from None
        close = at_ist(self.day, config.session.market_close_ist)
        problem = token_problem(secrets, path, now, needed_until=close if now < close else None)
        token = secrets.access_token
        if problem is not None or token is None:
            raise KiteTokenError(f"{problem or f'{path}: no access_token'}; run: session login")
        self.secrets = secrets  # api_key and access_token for the ticker (SecretStr: never printed)
        self.rest = KiteRest(
            api_key=secrets.api_key,
            access_token=token,
            api_root=config.market_data.kite.api_root,
            limits=KiteLimits(paths),
            stop=stop,
        )
        self.ws_root = config.market_data.kite.ws_root
        self.master: InstrumentMaster = load_kite_master(self.rest, paths, self.day)
        self.replayable = False  # what the ticker sent is gone: a restarted engine resumes from now
        self._silence = (config.market_data.kite.silence_warn_s, config.market_data.kite.silence_limit_s)
        self._hub: TickerHub | None = None

    def feed(self) -> Feed:
        if self._hub is None:
            self._hub = TickerHub(
                self.secrets.api_key.get_secret_value(), token_of(self.secrets), self.ws_root, log
            )
        return KiteFeed(self._hub, *self._silence)

    def clock(self) -> Clock:
        return WallClock()

    def warmup(self, instrument: Instrument, count: int) -> list[Bar]:
        """The `count` latest minute bars of `instrument` before today (cached for the day)."""
        return warmup_bars(self.rest, self._paths, instrument, self.day, count)
