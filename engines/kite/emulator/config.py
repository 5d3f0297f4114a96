"""The emulator's configuration: where it listens, which day it plays and how fast, and its credentials.

Credentials come from a YAML (or JSON) file, never from a command line: `api_key`, `api_secret`, and
at least one of `access_token` (accepted as if issued by a login, so the engines' own secrets/kite.yaml
works unchanged) and `request_tokens` (single-use, exchanged by POST /session/token). Values are
SecretStr: a repr, log line or error shows '**********'; errors name the file and the key, never the value.
"""

from __future__ import annotations

import math
import stat
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from engines.errors import ConfigError

MARKET_OPEN = time(9, 15)
MARKET_CLOSE = time(15, 30)


class Credentials(BaseModel):
    """The one API key the emulator serves, its secret, and the tokens a client may present."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr = Field(min_length=1)
    api_secret: SecretStr = Field(min_length=1)
    access_token: SecretStr | None = None
    request_tokens: tuple[SecretStr, ...] = ()

    def secret_values(self) -> list[str]:
        """Every value the request log and the server's output must never contain (the api_key is not
        a secret in Kite's model: it travels in clear in every URL and header)."""
        values = [self.api_secret.get_secret_value(), *(t.get_secret_value() for t in self.request_tokens)]
        if self.access_token is not None:
            values.append(self.access_token.get_secret_value())
        return values


def load_credentials(path: Path) -> Credentials:
    """Read the credentials file; refuse one that other users can read (as engines/kite/secrets.py does)."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: credentials file not found; see engines/kite/emulator/config.py"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the credentials ({exc.strerror})") from None
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        raise ConfigError(f"{path}: readable or writable by every user; run: chmod o-rwx {path}")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(f"{path}: not valid YAML or JSON") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping with api_key, api_secret, access_token, request_tokens"
        )
    try:
        credentials = Credentials.model_validate(data)
    except ValidationError as exc:
        # Pydantic's own text would quote the input values: name the keys and the rule only.
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None
    if credentials.access_token is None and not credentials.request_tokens:
        raise ConfigError(f"{path}: give access_token or request_tokens, else no client can authenticate")
    return credentials


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    """Everything one emulator run needs. `day` None means the last trading day on or before today (IST)."""

    credentials: Credentials
    host: str = "127.0.0.1"
    port: int = 0  # 0: the OS picks a free port; the server reports the one it got
    day: date | None = None
    seed: int = 7
    speed: float = 1.0  # market seconds per wall second
    start_time: time = MARKET_OPEN  # market time (IST) at the emulator's start
    market_open: time = MARKET_OPEN
    market_close: time = MARKET_CLOSE
    heartbeat_s: float = 2.0  # an idle ticker socket gets a 1-byte frame this often ("every couple seconds")
    max_connections: int = 3  # ticker sockets per api_key, as Kite allows; the next handshake gets 429
    log_path: Path | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ConfigError(f"speed: {self.speed} must be a positive number of market seconds per second")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port: {self.port} must be 0 (any free port) to 65535")
        if self.heartbeat_s <= 0:
            raise ConfigError(f"heartbeat_s: {self.heartbeat_s} must be positive")
        if self.max_connections < 1:
            raise ConfigError(f"max_connections: {self.max_connections} must be at least 1")
        if not self.market_open <= self.start_time < self.market_close:
            raise ConfigError(
                f"start_time: {self.start_time:%H:%M:%S} must be within the session "
                f"({self.market_open:%H:%M}-{self.market_close:%H:%M} IST)"
            )
