"""The whole configuration as one validated, frozen model, loaded once, before anything starts.

Two layers, as everywhere here: the schema (types, unknown keys, enums) and then small named
cross-field rules. Every error names the key (or file:line), the value, and what is allowed, and is
raised as ConfigError (exit code 2). See configs/dev.yaml for the annotated shape.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import math
import os
import re
from collections.abc import Collection, Sequence
from datetime import time
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from engines.errors import ConfigError
from engines.fields import ClockTime
from engines.market.calendar import NseCalendar, now_ist
from engines.market.rules import RuleError, load_rules
from engines.market.sim.reference import STOCKS


class EngineName(StrEnum):
    FNO = "fno"
    EQUITY = "equity"
    OPTIONS = "options"


class FeedKind(StrEnum):
    SIM = "sim"  # the built-in simulator
    REPLAY = "replay"  # a recorded day (market_data.replay.recording)
    KITE = "kite"  # Kite's live ticker


# --- field types: the constraints live here, not in scattered ifs -------------------------------


def _parse_underlying(value: Any) -> str:
    known_underlyings = load_rules().underlyings
    if isinstance(value, str) and value in known_underlyings:
        return value
    else:
        known = ", ".join(known_underlyings)
        raise PydanticCustomError(
            "underlying",
            "{value} is not a known underlying (known: {known})",
            {"value": repr(value), "known": known},
        ) from None


def _parse_speed(value: Any) -> float:
    if value == "max":
        return math.inf
    if not isinstance(value, bool):
        try:
            speed = float(value)
        except (TypeError, ValueError):
            pass
        else:
            if speed > 0 and math.isfinite(speed):
                return speed
    raise PydanticCustomError(
        "speed",
        "{value} is not a speed; use a positive multiple of real time "
        "(e.g. 400 plays a day in about a minute) or 'max'",
        {"value": repr(value)},
    )


# scheme://host[:port][/path], no query or fragment (urllib would do, but the paper path imports no
# network modules: tests/test_engine_runs.py)
_URL = re.compile(
    r"^(?P<scheme>[a-z]+)://(?P<host>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>\d{1,5}))?(?P<path>/[^?#\s]*)?$"
)


def _kite_root(schemes: tuple[str, ...], example: str, path_allowed: bool) -> BeforeValidator:
    """A Kite root URL: one of `schemes`, a host, no query or fragment; the REST root takes no path either,
    because the official client joins every route (all start with '/') onto the host and drops it."""
    shape = f"{' or '.join(f'{s}://' for s in schemes)}host[:port]" + (
        "[/path] with no query (the client appends its own)"
        if path_allowed
        else " with no path or query (the official client sends every route to the host's root)"
    )

    def parse(value: Any) -> str:
        match = _URL.match(value.strip()) if isinstance(value, str) else None
        if (
            match is not None
            and match["scheme"] in schemes
            and (match["port"] is None or 0 < int(match["port"]) <= 65535)
            and (path_allowed or match["path"] in (None, "/"))
        ):
            return str(value).strip()
        raise PydanticCustomError(
            "url",
            "{value} is not a usable URL; expected {shape}, e.g. {example}",
            {"value": repr(value), "shape": shape, "example": example},
        )

    return BeforeValidator(parse)


UnderlyingField = Annotated[str, BeforeValidator(_parse_underlying)]
KiteRestRoot = Annotated[
    str,
    _kite_root(("https", "http"), "https://api.kite.trade or the emulator's http://127.0.0.1:PORT", False),
]
KiteWsRoot = Annotated[
    str, _kite_root(("wss", "ws"), "wss://ws.kite.trade or the emulator's ws://127.0.0.1:PORT", True)
]
Speed = Annotated[float, BeforeValidator(_parse_speed)]
Rupees = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
Symbol = Annotated[str, Field(pattern=r"^[A-Z0-9&\-]{1,20}$")]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- sections -----------------------------------------------------------------------------------


class SessionConfig(Frozen):
    market_open_ist: ClockTime = time(9, 15)
    market_close_ist: ClockTime = time(15, 30)
    square_off_ist: ClockTime = time(15, 20)  # flatten every position and stop new entries

    @model_validator(mode="after")
    def _times_in_order(self) -> SessionConfig:
        if self.market_close_ist <= self.market_open_ist:
            raise _rule_error(
                "market_close_ist",
                self.market_close_ist,
                f"must be after market_open_ist ({self.market_open_ist:%H:%M})",
            )
        if not self.market_open_ist < self.square_off_ist <= self.market_close_ist:
            raise _rule_error(
                "square_off_ist",
                self.square_off_ist,
                f"must be after market_open_ist ({self.market_open_ist:%H:%M}) and not after "
                f"market_close_ist ({self.market_close_ist:%H:%M})",
            )
        return self


class TradingConfig(Frozen):
    mode: Literal["paper"] = "paper"
    fno_universe: tuple[UnderlyingField, ...] = ("NIFTY", "BANKNIFTY", "FINNIFTY")
    options_underlyings: tuple[UnderlyingField, ...] = ("NIFTY", "BANKNIFTY", "FINNIFTY")
    equity_universe: tuple[Symbol, ...] = ()  # empty: read equity_universe_csv
    equity_universe_csv: Path = Path("universe_equity.csv")  # relative to the config file
    paper_capital: Rupees  # per engine: each engine is its own paper account
    max_daily_loss: Rupees  # per engine: breach squares off everything and halts new entries
    per_symbol_max_loss: Rupees  # breach squares off that symbol and blocks it for the day
    max_open_positions: Annotated[int, Field(gt=0)]

    @model_validator(mode="after")
    def _consistent(self) -> TradingConfig:
        for key in ("fno_universe", "options_underlyings", "equity_universe"):
            _reject_duplicates(key, getattr(self, key))
        if self.max_daily_loss >= self.paper_capital:
            raise _rule_error(
                "max_daily_loss", self.max_daily_loss, f"must be below paper_capital ({self.paper_capital})"
            )
        return self


class EngineConfig(Frozen):
    """One engine: whether it runs, and its strategy (a built-in name, `module:Class` or `file.py:Class`,
    see engines/strategies) with the parameters its `Params` model validates."""

    enabled: bool = True
    strategy: Annotated[str, Field(min_length=1)] = "ema_cross"
    params: dict[str, Any] = Field(default_factory=dict)


class OptionsEngineConfig(EngineConfig):
    strategy: Annotated[str, Field(min_length=1)] = "atm_option_buyer"
    strikes_each_side: Annotated[int, Field(ge=2, le=30)] = 10  # chain window around ATM; it follows spot


class EnginesConfig(Frozen):
    fno: EngineConfig = EngineConfig()
    equity: EngineConfig = EngineConfig()
    options: OptionsEngineConfig = OptionsEngineConfig()

    def enabled(self) -> tuple[EngineName, ...]:
        return tuple(name for name in EngineName if getattr(self, name.value).enabled)

    def of(self, name: EngineName) -> EngineConfig:
        section: EngineConfig = getattr(self, name.value)
        return section


class ExecutionConfig(Frozen):
    """How the paper broker executes (engines/broker.py)."""

    latency_ms: Annotated[int, Field(ge=0, le=60_000)] = (
        0  # decision to market: 0 fills at that moment's quote
    )
    market_protection_pct: Annotated[Decimal, Field(gt=0, le=20)] = Decimal(
        2
    )  # MARKET orders fill within this


class SimConfig(Frozen):
    seed: int = 7
    speed: Speed = math.inf  # multiple of real time; inf is written 'max' in YAML
    date: dt.date | None = None  # default: the last trading day on or before today (IST)
    tick_interval_s: Annotated[int, Field(ge=1, le=60)] = 1  # Kite full mode is about one tick a second

    def check_trading_day(self) -> None:
        """The simulator plays NSE trading days only (a replay plays whatever day was recorded)."""
        if self.date is None:
            return
        calendar = NseCalendar()
        try:
            closed = calendar.why_closed(self.date)
        except RuleError as exc:
            raise _rule_error(
                "market_data.sim.date", self.date.isoformat(), f"cannot be used: {exc}"
            ) from None
        if closed:
            before = calendar.previous_trading_day(self.date)
            after = calendar.next_trading_day(self.date)
            raise _rule_error(
                "market_data.sim.date",
                self.date.isoformat(),
                f"is not a trading day ({closed}); the nearest are {before} and {after}",
            )

    def trading_date(self) -> dt.date:
        return self.date or NseCalendar().last_trading_day(now_ist().date())


KITE_API_ROOT = "https://api.kite.trade"


class KiteConfig(Frozen):
    """Where Kite is: the real API by default, or the emulator (engines/kite/emulator) in tests."""

    api_root: KiteRestRoot = KITE_API_ROOT  # REST: login, profile, instruments, history, quotes
    ws_root: KiteWsRoot = "wss://ws.kite.trade"  # the KiteTicker WebSocket
    # A file name inside secrets_dir (no directory part: it cannot point elsewhere); see secrets/README.md
    secrets_file: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")] = "kite.yaml"
    silence_warn_s: Annotated[float, Field(gt=0)] = 10.0  # no tick this long in the session: reported
    silence_limit_s: Annotated[float, Field(gt=0)] = 60.0  # ... this long: the engine stops, exit 4
    # The emulator streams on any calendar day: true waives the NSE calendar for a test day (never with
    # Kite's own api_root, whose market is closed on holidays).
    emulator: bool = False

    @model_validator(mode="after")
    def _limits_in_order(self) -> KiteConfig:
        if self.silence_limit_s <= self.silence_warn_s:
            raise _rule_error(
                "silence_limit_s",
                self.silence_limit_s,
                f"must exceed silence_warn_s ({self.silence_warn_s:g})",
            )
        if self.emulator and self.api_root == KITE_API_ROOT:
            raise _rule_error(
                "emulator", True, f"is for a Kite emulator, but api_root is Kite's own ({KITE_API_ROOT})"
            )
        return self


class ReplayConfig(Frozen):
    recording: Path | None = None  # the artifacts directory that holds market/<date>/ of the day to replay


class MarketDataConfig(Frozen):
    feed: FeedKind = FeedKind.SIM
    record: bool = True  # write the ticks each engine consumes to market/<date>/ (replays, backtests)
    sim: SimConfig = SimConfig()
    replay: ReplayConfig = ReplayConfig()
    kite: KiteConfig = KiteConfig()


class FaultsConfig(Frozen):
    """A testing aid: when the engine's clock reaches `at_ist`, make it fail (exit 1), or send its process
    SIGTERM as an operator would (`action: sigterm`: a clean stop exactly after that moment)."""

    fail_engine: EngineName
    at_ist: ClockTime
    action: Literal["fail", "sigterm"] = "fail"  # sigterm: the engine's process gets SIGTERM, as from outside


class EodConfig(Frozen):
    """The end-of-day job (session/eod): `backtest` replays the day through the same strategies, risk and
    execution under artifacts/backtest/<date>/ and diffs its orders against the paper day's."""

    backtest: bool = True


class ControllerConfig(Frozen):
    """How `session run` watches the engines (session/controller.py)."""

    heartbeat_limit_s: Annotated[float, Field(gt=0)] = 60.0  # a beat older than this: the engine is hung
    restart: Literal["no", "on-failure"] = "no"  # on-failure: a failed engine restarts, resuming its day
    max_restarts: Annotated[int, Field(ge=0)] = 2  # per engine; one more failure ends the day


class Config(Frozen):
    session: SessionConfig = SessionConfig()
    controller: ControllerConfig = ControllerConfig()
    trading: TradingConfig
    engines: EnginesConfig = EnginesConfig()
    execution: ExecutionConfig = ExecutionConfig()
    market_data: MarketDataConfig = MarketDataConfig()
    artifacts_dir: Path = Path("artifacts")  # relative to the working directory
    secrets_dir: Path = Path("secrets")
    strategies_dir: Path | None = None  # the trader's own strategies; relative to the config file
    faults: FaultsConfig | None = None
    eod: EodConfig = EodConfig()

    def trading_date(self) -> dt.date:
        """The day the engines trade: today on the live feed, else the simulated or replayed day."""
        if self.market_data.feed is FeedKind.KITE:
            return now_ist().date()
        return self.market_data.sim.trading_date()

    @property
    def kite_secrets_path(self) -> Path:
        return self.secrets_dir / self.market_data.kite.secrets_file

    @model_validator(mode="after")
    def _cross_rules(self) -> Config:
        if not self.engines.enabled():
            raise _rule_error("engines", "all disabled", "leaves nothing to run; enable at least one engine")
        if self.engines.fno.enabled and not self.trading.fno_universe:
            raise _rule_error("trading.fno_universe", [], "is empty but engines.fno is enabled")
        if self.engines.options.enabled and not self.trading.options_underlyings:
            raise _rule_error("trading.options_underlyings", [], "is empty but engines.options is enabled")
        if self.market_data.feed is FeedKind.SIM:
            self.market_data.sim.check_trading_day()
            for i, symbol in enumerate(self.trading.equity_universe):
                if symbol not in STOCKS:
                    raise _rule_error(f"trading.equity_universe[{i}]", symbol, _unknown_stock_hint(symbol))
        date = self.market_data.sim.date
        if self.market_data.feed is FeedKind.KITE and date is not None and date != now_ist().date():
            raise _rule_error(
                "market_data.sim.date", date.isoformat(), "must be unset: the Kite feed trades today"
            )
        recording = self.market_data.replay.recording
        if self.market_data.feed is FeedKind.REPLAY:
            if recording is None:
                raise _rule_error(
                    "market_data.replay.recording", "null", "must name the artifacts of the day to replay"
                )
            if recording.resolve() == self.artifacts_dir.resolve():
                raise _rule_error(
                    "artifacts_dir",
                    str(self.artifacts_dir),
                    "is the recording being replayed: a replay must not write into the recorded day's "
                    "artifacts; point artifacts_dir elsewhere",
                )
        if (
            self.faults
            and not self.session.market_open_ist < self.faults.at_ist < self.session.market_close_ist
        ):
            raise _rule_error("faults.at_ist", self.faults.at_ist, "must fall inside the session")
        if self.faults and self.faults.fail_engine not in self.engines.enabled():
            raise _rule_error("faults.fail_engine", self.faults.fail_engine.value, "is not an enabled engine")
        return self


# --- loading ------------------------------------------------------------------------------------


def load_config(path: Path | str, overrides: dict[str, Any] | None = None) -> Config:
    """Read, validate and resolve the config file. `overrides` maps dotted keys to values (CLI flags)."""
    path = Path(path)
    raw = _read_yaml(path)
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None
    if config.engines.equity.enabled and not config.trading.equity_universe:
        csv_path = inside(path.parent, config.trading.equity_universe_csv, "trading.equity_universe_csv")
        known = STOCKS if config.market_data.feed is FeedKind.SIM else None
        symbols = read_universe_csv(csv_path, known)
        trading = config.trading.model_copy(update={"equity_universe": symbols})
        config = config.model_copy(update={"trading": trading})
    # The trader's strategies: PAPERFLEET_STRATEGIES_DIR (the containers' read-only mount) wins over the file.
    strategies_dir = os.environ.get("PAPERFLEET_STRATEGIES_DIR") or config.strategies_dir
    if strategies_dir is not None:
        config = config.model_copy(update={"strategies_dir": (path.parent / strategies_dir).resolve()})
    problems = strategy_problems(config)
    if problems:
        raise ConfigError(
            f"{path}: invalid configuration ({len(problems)} problem(s)):\n  " + "\n  ".join(problems)
        )
    return config


def inside(directory: Path, relative: Path, key: str) -> Path:
    """`relative` under `directory`, refused when it resolves outside (a `..` or a link): a path key never
    reaches another directory, the secrets' least of all."""
    resolved = (directory / relative).resolve()
    if not resolved.is_relative_to(directory.resolve()):
        raise ConfigError(
            f"{key}: {str(relative)!r} resolves outside {directory}/; put the file in that directory "
            f"(the config's own) and name it relative to it"
        )
    return resolved


def strategy_problems(config: Config) -> list[str]:
    """Each enabled engine's strategy must load and its params must pass the strategy's own Params model;
    every problem names the key, e.g. `engines.fno.params.fast_ema: ...`."""
    from engines.strategies import StrategyNotFound, resolve  # the strategies import the engine's parts

    problems = []
    for name in config.engines.enabled():
        section = config.engines.of(name)
        try:
            strategy = resolve(section.strategy, config.strategies_dir)
        except StrategyNotFound as exc:
            problems.append(f"engines.{name}.strategy: {section.strategy!r} {exc}")
            continue
        try:
            strategy.Params.model_validate(section.params)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                where = _dotted(err["loc"])
                key = f"engines.{name}.params" + (f".{where}" if where else "")
                problems.append(f"{key}: {_param_message(err)}")
    return problems


def _param_message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown parameter for this strategy"
    if err["type"] == "missing":
        return "required parameter is missing"
    msg = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    return msg if err["type"] in ("value_error", "clock_time") else f"got {value!r}; {msg.lower()}"


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so pydantic validates them and names the key on error."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found; pass --config with an existing file (e.g. configs/dev.yaml)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    try:
        raw = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: {problem}; fix the YAML syntax") from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: expected a mapping of sections (session, trading, ...), got {type(raw).__name__}"
        )
    return raw


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    node = raw
    *parents, leaf = dotted.split(".")
    for key in parents:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{'.'.join(parents)}: expected a mapping to override {dotted}")
        node = child
    node[leaf] = value


# --- the equity universe CSV --------------------------------------------------------------------

_ENABLED_WORDS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
_CSV_HEADER = ["symbol", "enabled"]


def read_universe_csv(path: Path, known: Collection[str] | None = None) -> tuple[str, ...]:
    """The enabled symbols of a `symbol,enabled` CSV; blank lines and lines starting with # are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: equity universe file not found (trading.equity_universe_csv); create it "
            f"with the header 'symbol,enabled' or list symbols in trading.equity_universe"
        ) from None
    rows = [
        (n, row)
        for n, row in enumerate(csv.reader(text.splitlines()), start=1)
        if row and not row[0].lstrip().startswith("#") and any(cell.strip() for cell in row)
    ]
    if not rows:
        raise ConfigError(
            f"{path}: file is empty; expected the header 'symbol,enabled' and one row per stock"
        )
    header_line, header = rows[0]
    if [cell.strip().lower() for cell in header] != _CSV_HEADER:
        raise ConfigError(
            f"{path}:{header_line}: the header is not 'symbol,enabled' (it must be exactly that)"
        )
    symbols: list[str] = []
    first_seen: dict[str, int] = {}
    for line, row in rows[1:]:
        if len(row) != 2:
            raise ConfigError(f"{path}:{line}: expected 2 columns (symbol,enabled), got {len(row)}")
        symbol, flag = row[0].strip().upper(), row[1].strip().lower()
        if flag not in _ENABLED_WORDS:
            raise ConfigError(f"{path}:{line}: the enabled column is not one of 1/0, true/false, yes/no")
        if not symbol:
            raise ConfigError(f"{path}:{line}: symbol is empty")
        if symbol in first_seen:
            raise ConfigError(f"{path}:{line}: {symbol} is listed again (first on line {first_seen[symbol]})")
        first_seen[symbol] = line
        if known is not None and symbol not in known:
            raise ConfigError(f"{path}:{line}: {_unknown_stock_hint(symbol)}")
        if _ENABLED_WORDS[flag]:
            symbols.append(symbol)
    if not symbols:
        raise ConfigError(
            f"{path}: no enabled symbols; the equity engine needs at least one "
            f"(or set engines.equity.enabled: false)"
        )
    return tuple(symbols)


# --- error formatting ---------------------------------------------------------------------------


def _rule_error(key: str, value: object, rule: str) -> PydanticCustomError:
    """A cross-field rule's error; the value is shown as the user wrote it (times as 'HH:MM')."""
    if isinstance(value, time):
        shown = repr(value.strftime("%H:%M"))
    elif isinstance(value, str):
        shown = repr(value)
    else:
        shown = str(value)
    return PydanticCustomError("rule", "{key}: {value} {rule}", {"key": key, "value": shown, "rule": rule})


def _reject_duplicates(key: str, values: Sequence[object]) -> None:
    seen: set[object] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise _rule_error(f"{key}[{i}]", str(value), "is listed twice")
        seen.add(value)


def _unknown_stock_hint(symbol: str) -> str:
    close = difflib.get_close_matches(symbol, STOCKS, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{symbol!r} is not in the simulator's stock list (engines/market/sim/reference.py){hint}"


def format_validation_error(path: Path, exc: ValidationError) -> str:
    """One line per problem: file: dotted.key: what is wrong, the value, and what is allowed."""
    lines = [f"{path}: invalid configuration ({exc.error_count()} problem(s)):"]
    for err in exc.errors(include_url=False):
        loc = _dotted(err["loc"])
        kind, value = err["type"], err.get("input")
        if kind == "extra_forbidden":
            lines.append(f"  {loc}: unknown key{_key_hint(err['loc'])}")
        elif kind == "missing":
            lines.append(f"  {loc}: required key is missing")
        elif kind == "rule":
            ctx = err.get("ctx", {})
            key = f"{loc}.{ctx['key']}" if loc else ctx["key"]  # rules raised by the root name the full key
            lines.append(f"  {key}: {ctx['value']} {ctx['rule']}")
        elif kind in ("clock_time", "underlying", "speed", "url"):
            lines.append(f"  {loc}: {err['msg']}")
        elif kind in ("literal_error", "enum"):
            lines.append(f"  {loc}: {value!r} is not allowed (allowed: {err.get('ctx', {}).get('expected')})")
        else:
            msg = err["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
            lines.append(f"  {loc}: got {value!r} ({type(value).__name__}); expected {msg}")
    return "\n".join(lines)


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("function-"):
            continue
        else:
            out += f".{part}" if out else part
    return out


def _key_hint(loc: tuple[int | str, ...]) -> str:
    """'; did you mean X?' plus the allowed keys at the location of an unknown key."""
    model: type[BaseModel] | None = Config
    for part in loc[:-1]:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return ""
        annotation = model.model_fields[part].annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    if model is None:
        return ""
    allowed = sorted(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} (allowed here: {', '.join(allowed)})"
