"""What `session backtest` runs: the days and the parameter sets, checked before anything runs.

A parameter set is the config with dotted overrides (`--set engines.fno.params.fast_ema=5`, for every
set) and one combination of the grid (`--grid engines.fno.params.fast_ema=5,9`: one set per value, the
grids multiplied). Values are YAML scalars (5, 0.5, true, ema_cross). Every set is validated for every
day with the config's own rules, so a bad key or parameter is a usage error naming it, before a core is
spent.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from engines.config import Config, EngineName, load_config
from engines.errors import ConfigError
from engines.market.calendar import NseCalendar


@dataclass(frozen=True, slots=True)
class ParamSet:
    name: str  # set-1, set-2, ... in grid order
    overrides: tuple[tuple[str, Any], ...]  # (dotted key, value), the --set ones first

    def label(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in self.overrides) or "(the config as it is)"


@dataclass(frozen=True, slots=True)
class Run:
    """One backtest: a parameter set over one day, into its own artifacts directory."""

    param_set: ParamSet
    day: date
    out_dir: Path
    config_path: Path
    engines: tuple[EngineName, ...] | None
    paper_root: Path  # the artifacts directory of the paper days (their orders and recordings)

    def config(self) -> Config:
        return load_config(
            self.config_path, {**dict(self.param_set.overrides), "market_data.sim.date": self.day}
        )


def parse_assignment(text: str, flag: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ConfigError(f"{flag} {text!r}: expected KEY=VALUE, e.g. {flag} engines.fno.params.fast_ema=5")
    return key.strip(), value.strip()


def scalar(text: str) -> Any:
    """A value as YAML reads it: 5 -> 5, 0.5 -> 0.5, true -> True, ema_cross -> 'ema_cross'."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def param_sets(sets: list[str], grids: list[str]) -> list[ParamSet]:
    base = [(key, scalar(value)) for key, value in (parse_assignment(s, "--set") for s in sets)]
    axes = []
    for grid in grids:
        key, values = parse_assignment(grid, "--grid")
        axes.append([(key, scalar(v.strip())) for v in values.split(",") if v.strip()])
    combos = list(itertools.product(*axes)) if axes else [()]
    return [ParamSet(f"set-{i}", (*base, *combo)) for i, combo in enumerate(combos, start=1)]


def trading_days(dates: list[str], first: str | None, last: str | None, default: date) -> list[date]:
    """The --date days and every trading day from --from to --to (inclusive); `default` without any."""
    calendar = NseCalendar()
    days = {_day(d, "--date") for d in dates}
    if (first is None) != (last is None):
        raise ConfigError("--from and --to go together: pass both, e.g. --from 2026-11-23 --to 2026-11-27")
    if first is not None and last is not None:
        start, end = _day(first, "--from"), _day(last, "--to")
        if end < start:
            raise ConfigError(f"--to {end} is before --from {start}")
        days |= set(calendar.trading_days(start, end))
    for day in days:
        closed = calendar.why_closed(day)
        if closed:
            raise ConfigError(f"--date {day}: not a trading day ({closed})")
    return sorted(days) or [default]


def _day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{flag} {text!r}: not a date; use YYYY-MM-DD, e.g. 2026-11-27") from None


def check(runs: list[Run]) -> None:
    """Load every run's config now: a bad override is a usage error before anything runs."""
    for run in runs:
        try:
            run.config()
        except ConfigError as exc:
            raise ConfigError(f"{run.param_set.name} ({run.param_set.label()}) on {run.day}: {exc}") from None
