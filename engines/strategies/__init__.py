"""Strategies: the built-in ones by name, and the trader's own, loaded from a module or a file.

    ema_cross          EMA crossover on any instrument (the FnO and Equity engines' default)
    rsi_reversion      RSI mean reversion
    atm_option_buyer   ATM calls or puts on the index trend, with a stop loss (the Options engine's default)
    short_straddle     ATM call and put sold at a time, SL-M stops, time exit

`resolve("ema_cross")` gives a built-in; `resolve("mypackage.strats:Breakout")` imports a module (from an
installed package, or from `strategies_dir`); `resolve("breakout.py:Breakout")` loads a file inside
`strategies_dir`. The API is engines/strategies/api.py; the tutorial is docs/strategies.md.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from engines.strategies.api import Strategy
from engines.strategies.atm_option_buyer import AtmOptionBuyer
from engines.strategies.ema_cross import EmaCross
from engines.strategies.rsi_reversion import RsiReversion
from engines.strategies.short_straddle import ShortStraddle

BUILTINS: dict[str, type[Strategy]] = {
    "ema_cross": EmaCross,
    "rsi_reversion": RsiReversion,
    "atm_option_buyer": AtmOptionBuyer,
    "short_straddle": ShortStraddle,
}


class StrategyNotFound(Exception):
    """The strategy named in the config cannot be loaded; the message says what was tried."""


def resolve(spec: str, strategies_dir: Path | None = None) -> type[Strategy]:
    """The strategy class a config names: a built-in name, `module:Class` or `file.py:Class`."""
    if spec in BUILTINS:
        return BUILTINS[spec]
    if ":" not in spec:
        raise StrategyNotFound(
            f"is not a built-in strategy ({', '.join(BUILTINS)}) nor 'module:Class' or 'file.py:Class'"
        )
    where, _, name = spec.partition(":")
    module = _load_file(where, strategies_dir) if where.endswith(".py") else _import(where, strategies_dir)
    found = getattr(module, name, None)
    if not (isinstance(found, type) and issubclass(found, Strategy)):
        raise StrategyNotFound(f"{where} has no Strategy subclass named {name!r}")
    return found


def _import(module_name: str, strategies_dir: Path | None) -> object:
    if strategies_dir is not None and str(strategies_dir) not in sys.path:
        sys.path.insert(0, str(strategies_dir))
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        where = f" (looked in {strategies_dir} and the installed packages)" if strategies_dir else ""
        raise StrategyNotFound(f"cannot import {module_name}{where}: {exc}") from None


def _load_file(file: str, strategies_dir: Path | None) -> object:
    if strategies_dir is None:
        raise StrategyNotFound(f"{file} is a file: set strategies_dir to the directory that holds it")
    path = (strategies_dir / file).resolve()
    if not path.is_relative_to(strategies_dir.resolve()) or not path.is_file():
        raise StrategyNotFound(f"{file} is not a file inside strategies_dir ({strategies_dir})")
    name = f"paperfleet_user_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StrategyNotFound(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the trader's code: say where it broke, not a traceback
        raise StrategyNotFound(f"{path} failed to load: {type(exc).__name__}: {exc}") from None
    return module
