"""A Kite-fed test day against the emulator: its credentials, the engines' secrets file (a canary token), and
a config whose session opens within the next minute and lasts three, with the test strategy
(tests/strategies/opening_trade.py) in every engine, so the day trades whatever the market does."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from engines.kite.secrets import KiteSecrets, write_kite_secrets
from engines.market.calendar import now_ist
from tests.helpers import ROOT, write_config

API_KEY = "paperfleetemukey"
API_SECRET = "emulator-api-secret-0123456789abcdef"
CANARY = "canaryAccessToken-7f3c9e1d5b2a4e60"  # the access token: found nowhere but the two secret files
CONTAINER_UID = 10001
STRATEGY = "opening_trade.py:OpeningTrade"
STOCKS = ["RELIANCE", "TCS", "INFY"]


@dataclass(frozen=True)
class KiteDay:
    root: Path
    config: Path
    credentials: Path  # the emulator's
    open: datetime
    close: datetime

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def date(self) -> str:
        return self.open.date().isoformat()


def session_window(lead_s: float = 30, minutes: int = 3) -> tuple[datetime, datetime, datetime]:
    """(open, square-off, close): the first minute at least `lead_s` ahead, square-off a minute before the
    close. A window that would cross midnight IST waits for the new day first."""
    while True:
        now = now_ist()
        start = (now + timedelta(seconds=lead_s + 59)).replace(second=0, microsecond=0)
        close = start + timedelta(minutes=minutes)
        if close.date() == now.date() and close.time().hour * 60 + close.time().minute < 24 * 60 - 1:
            return start, close - timedelta(minutes=1), close
        time.sleep(5)


def write_kite_day(
    root: Path, rest_root: str, ws_root: str, for_containers: bool = False, minutes: int = 3
) -> KiteDay:
    """Files for a day at `rest_root`/`ws_root` (the host's view of the emulator). `for_containers`: owned
    by the container user when running as root, as `session run` would need them."""
    root.mkdir(parents=True, exist_ok=True)
    credentials = root / "emulator" / "credentials.yaml"
    credentials.parent.mkdir()
    credentials.write_text(
        yaml.safe_dump({"api_key": API_KEY, "api_secret": API_SECRET, "access_token": CANARY})
    )
    credentials.chmod(0o600)
    secrets_dir = root / "secrets"
    secrets_dir.mkdir()
    write_kite_secrets(
        secrets_dir / "kite.yaml",
        KiteSecrets(
            api_key=SecretStr(API_KEY),
            api_secret=SecretStr(API_SECRET),
            access_token=SecretStr(CANARY),
            issued_at=now_ist(),
            issued_for=SecretStr(API_KEY),
        ),
    )
    if for_containers and os.geteuid() == 0:
        for path in (credentials, credentials.parent, secrets_dir / "kite.yaml"):
            os.chown(path, CONTAINER_UID, CONTAINER_UID)
    start, square_off, close = session_window(minutes=minutes)
    engine = {"strategy": STRATEGY, "params": {"instruments": 2, "warmup_bars": 5}}
    patch: dict[str, Any] = {
        "artifacts_dir": str(root / "artifacts"),
        "secrets_dir": str(secrets_dir),
        "strategies_dir": str(ROOT / "tests" / "strategies"),
        "session": {
            "market_open_ist": f"{start:%H:%M}",
            "square_off_ist": f"{square_off:%H:%M}",
            "market_close_ist": f"{close:%H:%M}",
        },
        "market_data": {
            "feed": "kite",
            "kite": {"api_root": rest_root, "ws_root": ws_root, "emulator": True},
        },
        "trading": {
            "fno_universe": ["NIFTY"],
            "options_underlyings": ["NIFTY"],
            "equity_universe": STOCKS,
        },
        "engines": {
            "fno": engine,
            "equity": engine,
            "options": {**engine, "strikes_each_side": 2},
        },
    }
    config = write_config(root / "cfg", patch)
    raw = yaml.safe_load(config.read_text())
    for name in ("fno", "equity", "options"):
        raw["engines"][name]["params"] = engine["params"]  # not merged into the built-in's
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    return KiteDay(root, config, credentials, start, close)


def files_holding(root: Path, text: str) -> list[Path]:
    """Every file under `root` whose bytes contain `text`."""
    needle = text.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]
