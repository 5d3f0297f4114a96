"""The config battery: every bad input is rejected before anything starts, with a message that names
the key (or file:line), the value and what is allowed; the engines exit 2 on it."""

from __future__ import annotations

import math
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from engines.config import load_config, read_universe_csv
from engines.errors import ConfigError
from engines.market.calendar import IST, now_ist
from tests.helpers import DEV_CONFIG, run_engine, write_config


def config_error(tmp_path: Path, patch: dict[str, Any] | None = None, universe_csv: str | None = None) -> str:
    path = write_config(tmp_path, patch, universe_csv)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_dev_config_loads_with_the_universe_from_the_csv() -> None:
    config = load_config(DEV_CONFIG)
    assert config.trading.mode == "paper"
    assert config.trading.fno_universe == ("NIFTY", "BANKNIFTY", "FINNIFTY")
    assert len(config.trading.equity_universe) == 50
    assert config.trading.equity_universe[0] == "RELIANCE"
    assert config.session.market_open_ist == time(9, 15)
    assert math.isinf(config.market_data.sim.speed)
    assert config.trading.paper_capital == Decimal(1_000_000)


def test_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"trading": {"paper_captial": 5}})
    assert "trading.paper_captial: unknown key; did you mean 'paper_capital'?" in message


def test_wrong_type_names_key_value_and_expected_type(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"trading": {"max_open_positions": "five"}})
    assert "trading.max_open_positions: got 'five' (str); expected a valid integer" in message


def test_unknown_underlying_lists_the_known_ones(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"trading": {"fno_universe": ["NIFTY", "NIFTYY"]}})
    assert (
        "trading.fno_universe[1]: 'NIFTYY' is not a known underlying "
        "(known: NIFTY, BANKNIFTY, FINNIFTY, MIDCPNIFTY)" in message
    )


def test_close_before_open_is_rejected(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"session": {"market_close_ist": "09:00"}})
    assert "session.market_close_ist: '09:00' must be after market_open_ist (09:15)" in message


def test_malformed_time_says_how_to_write_it(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"session": {"market_open_ist": "9.15am"}})
    assert "session.market_open_ist: '9.15am' is not a time of day; use 'HH:MM' in IST" in message


def test_only_paper_mode_exists(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"trading": {"mode": "live"}})
    assert "trading.mode: 'live' is not allowed (allowed: 'paper')" in message


def test_bad_speed_explains_the_choices(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"market_data": {"sim": {"speed": "fast"}}})
    assert "market_data.sim.speed: 'fast' is not a speed" in message and "or 'max'" in message


def test_kite_roots_default_to_kite_and_point_anywhere_else(tmp_path: Path) -> None:
    kite = load_config(DEV_CONFIG).market_data.kite
    assert (kite.api_root, kite.ws_root) == ("https://api.kite.trade", "wss://ws.kite.trade")
    emulator = {"api_root": "http://127.0.0.1:8123", "ws_root": "ws://127.0.0.1:8123"}
    config = load_config(write_config(tmp_path, {"market_data": {"kite": emulator}}))
    assert config.market_data.kite.model_dump(include={"api_root", "ws_root"}) == emulator


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("api_root", "htp://api.kite.trade", "expected https:// or http://host[:port] with no path or query"),
        ("api_root", "http://127.0.0.1:8123/v3", "(the official client sends every route to the host's "),
        ("api_root", "https://", "expected https:// or http://host[:port]"),
        ("ws_root", "https://ws.kite.trade", "expected wss:// or ws://host[:port][/path] with no query"),
        ("ws_root", "wss://ws.kite.trade?api_key=x", "with no query (the client appends its own)"),
        ("ws_root", "ws://127.0.0.1:99999", "expected wss:// or ws://"),
    ],
)
def test_a_bad_kite_url_names_the_key_the_value_and_the_shape(
    tmp_path: Path, key: str, value: str, rule: str
) -> None:
    message = config_error(tmp_path, {"market_data": {"kite": {key: value}}})
    assert f"market_data.kite.{key}: {value!r} is not a usable URL; " in message and rule in message


def test_fast_ema_must_be_below_slow(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"engines": {"fno": {"params": {"fast_ema": 30}}}})
    assert "engines.fno.params: fast_ema (30) must be smaller than slow_ema (21)" in message


def test_a_strategy_parameter_is_checked_by_the_strategy_and_named(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"engines": {"equity": {"params": {"fast_ema": 1, "lotz": 2}}}})
    assert "engines.equity.params.fast_ema: got 1; input should be greater than or equal to 2" in message
    assert "engines.equity.params.lotz: unknown parameter for this strategy" in message


def test_an_unknown_strategy_lists_the_built_in_ones(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"engines": {"options": {"strategy": "straddle"}}})
    assert (
        "engines.options.strategy: 'straddle' is not a built-in strategy (ema_cross, rsi_reversion, "
        "atm_option_buyer, short_straddle) nor 'module:Class' or 'file.py:Class'" in message
    )


def test_daily_loss_must_be_below_capital(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"trading": {"max_daily_loss": 2_000_000}})
    assert "trading.max_daily_loss: 2000000 must be below paper_capital (1000000)" in message


def test_at_least_one_engine_must_be_enabled(tmp_path: Path) -> None:
    off = {"enabled": False}
    message = config_error(tmp_path, {"engines": {"fno": off, "equity": off, "options": off}})
    assert "engines: 'all disabled' leaves nothing to run; enable at least one engine" in message


def test_a_fault_must_target_an_enabled_engine_inside_the_session(tmp_path: Path) -> None:
    message = config_error(
        tmp_path / "a",
        {"engines": {"fno": {"enabled": False}}, "faults": {"fail_engine": "fno", "at_ist": "10:00"}},
    )
    assert "faults.fail_engine: 'fno' is not an enabled engine" in message
    message = config_error(tmp_path / "b", {"faults": {"fail_engine": "fno", "at_ist": "16:00"}})
    assert "faults.at_ist: '16:00' must fall inside the session" in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"trading": {"mode": "live", "max_open_positions": -1}, "extra": 1})
    assert "(3 problem(s))" in message
    assert "extra: unknown key" in message


def test_empty_universe_csv(tmp_path: Path) -> None:
    message = config_error(tmp_path, universe_csv="")
    assert message.endswith(
        "universe_equity.csv: file is empty; expected the header 'symbol,enabled' and one row per stock"
    )


def test_universe_csv_with_header_only_has_no_enabled_symbols(tmp_path: Path) -> None:
    message = config_error(tmp_path, universe_csv="symbol,enabled\n")
    assert "universe_equity.csv: no enabled symbols" in message


@pytest.mark.parametrize("flag", ["maybe", "2", "Y"])
def test_universe_csv_bad_enabled_value_names_file_and_line(tmp_path: Path, flag: str) -> None:
    message = config_error(tmp_path, universe_csv=f"symbol,enabled\nRELIANCE,1\nTCS,{flag}\n")
    assert "universe_equity.csv:3: the enabled column is not one of 1/0, true/false, yes/no" in message
    assert flag not in message.split("universe_equity.csv:3")[1]  # the file's contents are never echoed


def test_universe_csv_accepts_every_spelling_and_skips_comments(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("symbol,enabled\n# comment\nRELIANCE,1\nTCS,true\nINFY,yes\nSBIN,0\nITC,False\n\nLT,NO\n")
    assert read_universe_csv(path) == ("RELIANCE", "TCS", "INFY")


def test_universe_csv_duplicate_and_unknown_symbols(tmp_path: Path) -> None:
    duplicate = config_error(tmp_path / "a", universe_csv="symbol,enabled\nTCS,1\nTCS,0\n")
    assert "universe_equity.csv:3: TCS is listed again (first on line 2)" in duplicate
    unknown = config_error(tmp_path / "b", universe_csv="symbol,enabled\nRELIANCE,1\nRELIANC,1\n")
    assert "universe_equity.csv:3: 'RELIANC' is not in the simulator's stock list" in unknown


def test_universe_csv_wrong_header(tmp_path: Path) -> None:
    message = config_error(tmp_path, universe_csv="ticker,on\nTCS,1\n")
    assert "universe_equity.csv:1: the header is not 'symbol,enabled'" in message
    assert "ticker" not in message


def test_missing_universe_csv_names_the_key(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    (tmp_path / "universe_equity.csv").unlink()
    with pytest.raises(ConfigError, match=r"equity universe file not found \(trading.equity_universe_csv\)"):
        load_config(path)


def test_disabled_equity_engine_needs_no_universe(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"engines": {"equity": {"enabled": False}}}, universe_csv="")
    assert load_config(path).engines.enabled() == ("fno", "options")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("session:\n  market_open_ist: '09:15'\n trading: [\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:3: .*fix the YAML syntax"):
        load_config(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_overrides_are_validated_like_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    assert load_config(path, {"market_data.sim.speed": "400"}).market_data.sim.speed == 400.0
    with pytest.raises(ConfigError, match=r"market_data.sim.date: got '2026-02-30'"):
        load_config(path, {"market_data.sim.date": "2026-02-30"})


@pytest.mark.parametrize(
    ("patch", "universe", "expected"),
    [
        ({"trading": {"surprise": 1}}, None, "trading.surprise: unknown key"),
        ({"trading": {"paper_capital": "lots"}}, None, "trading.paper_capital: got 'lots' (str)"),
        (
            {"trading": {"options_underlyings": ["SENSEX"]}},
            None,
            "trading.options_underlyings[0]: 'SENSEX' is not a known underlying",
        ),
        ({"session": {"market_close_ist": "09:00"}}, None, "session.market_close_ist: '09:00' must be after"),
        ({}, "", "universe_equity.csv: file is empty"),
        ({}, "symbol,enabled\nTCS,perhaps\n", "universe_equity.csv:2: the enabled column is not one of"),
    ],
    ids=["unknown-key", "wrong-type", "unknown-underlying", "close-before-open", "empty-csv", "bad-enabled"],
)
def test_engines_exit_2_on_bad_config_and_say_why(
    tmp_path: Path, patch: dict[str, Any], universe: str | None, expected: str
) -> None:
    config = write_config(tmp_path / "cfg", patch, universe)
    result = run_engine("engines.fno", config, tmp_path / "artifacts", timeout=30)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert not (tmp_path / "artifacts").exists(), "nothing may be written when the config is bad"


def test_usage_error_exits_2(tmp_path: Path) -> None:
    result = run_engine("engines.fno", DEV_CONFIG, tmp_path, "--mode", "live", timeout=30)
    assert result.returncode == 2
    assert "invalid choice: 'live'" in result.stderr


def test_a_holiday_or_weekend_date_is_refused_with_the_nearest_trading_days(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"market_data": {"sim": {"date": "2026-11-24"}}})
    assert (
        "market_data.sim.date: '2026-11-24' is not a trading day (an NSE holiday (Prakash Gurpurb Sri Guru "
        "Nanak Dev)); the nearest are 2026-11-23 and 2026-11-25" in message
    )
    message = config_error(tmp_path, {"market_data": {"sim": {"date": "2026-11-28"}}})
    assert (
        "'2026-11-28' is not a trading day (a Saturday); the nearest are 2026-11-27 and 2026-11-30" in message
    )


def test_a_date_without_a_holiday_list_is_refused_rather_than_guessed(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"market_data": {"sim": {"date": "2027-03-10"}}})
    assert "market_data.sim.date: '2027-03-10' cannot be used" in message
    assert "holidays.csv has no NSE holiday list for 2027" in message


def test_the_default_date_is_the_last_trading_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engines.config as config_module

    monkeypatch.setattr(
        config_module, "now_ist", lambda: datetime(2026, 11, 25, 8, 0, tzinfo=IST)
    )  # a Wednesday after the 24 Nov holiday
    assert load_config(write_config(tmp_path)).trading_date() == date(2026, 11, 25)
    monkeypatch.setattr(config_module, "now_ist", lambda: datetime(2026, 11, 24, 20, 0, tzinfo=IST))
    assert load_config(write_config(tmp_path)).trading_date() == date(2026, 11, 23)


def with_fno_strategy(directory: Path, mine: Path, strategy: str, params: dict[str, Any]) -> Path:
    """configs/dev.yaml with the fno engine running `strategy` with exactly `params`."""
    raw = yaml.safe_load(DEV_CONFIG.read_text())
    raw["strategies_dir"] = str(mine)
    raw["engines"]["fno"] = {"enabled": True, "strategy": strategy, "params": params}
    path = write_config(directory)
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_strategy_from_a_directory_outside_the_repo_is_loaded_and_checked(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "breakout.py").write_text(
        "from engines.strategies.api import Strategy, StrategyParams\n"
        "class Breakout(Strategy):\n"
        "    class Params(StrategyParams):\n"
        "        lookback: int = 20\n"
    )
    config = load_config(with_fno_strategy(tmp_path / "ok", mine, "breakout.py:Breakout", {"lookback": 5}))
    assert config.strategies_dir == mine.resolve()
    with pytest.raises(ConfigError, match=r"engines\.fno\.params\.lookback: got 'x'"):
        load_config(with_fno_strategy(tmp_path / "bad", mine, "breakout.py:Breakout", {"lookback": "x"}))
    with pytest.raises(ConfigError, match=r"nothing\.py is not a file inside strategies_dir"):
        load_config(with_fno_strategy(tmp_path / "none", mine, "nothing.py:Breakout", {}))


@pytest.mark.parametrize(
    ("kite", "message"),
    [
        (
            {"silence_warn_s": 30, "silence_limit_s": 20},
            "market_data.kite.silence_limit_s: 20.0 must exceed silence_warn_s (30)",
        ),
        (
            {"emulator": True},
            "market_data.kite.emulator: True is for a Kite emulator, but api_root is Kite's own",
        ),
    ],
)
def test_kite_feed_rules_name_the_key(tmp_path: Path, kite: dict[str, object], message: str) -> None:
    assert message in config_error(tmp_path, {"market_data": {"kite": kite}})


def test_the_kite_feed_trades_today_whatever_the_simulator_date(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, {"market_data": {"feed": "kite"}}))
    assert config.trading_date() == now_ist().date()
    message = config_error(tmp_path, {"market_data": {"feed": "kite", "sim": {"date": "2026-11-23"}}})
    assert "market_data.sim.date: '2026-11-23' must be unset: the Kite feed trades today" in message


def test_a_path_key_never_reaches_outside_its_directory_nor_echoes_what_it_read(tmp_path: Path) -> None:
    """`equity_universe_csv: ../secrets/kite.yaml` would have printed the API key inside the error."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "kite.yaml").write_text("api_key: canaryapikey0123\napi_secret: canarysecret4567\n")
    config_dir = tmp_path / "cfg"
    message = config_error(config_dir, {"trading": {"equity_universe_csv": "../secrets/kite.yaml"}})
    assert "trading.equity_universe_csv: '../secrets/kite.yaml' resolves outside" in message
    assert "canary" not in message
    (config_dir / "linked.csv").symlink_to(secrets / "kite.yaml")  # a link out is refused the same way
    message = config_error(config_dir, {"trading": {"equity_universe_csv": "linked.csv"}})
    assert "resolves outside" in message and "canary" not in message
    message = config_error(config_dir, {"market_data": {"kite": {"secrets_file": "../kite.yaml"}}})
    assert "market_data.kite.secrets_file" in message
