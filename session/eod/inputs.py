"""Reading the day's artifacts (docs/artifacts.md) for the end-of-day job, validated at the edge.

A missing file is not an error (no orders.csv means no orders, no checkpoint means the engine's
status is `missing`, no session record means the engines ran outside the controller), but a file
that exists and cannot be read or parsed is: the error names the file, the line or key, the value
found and what was expected, so the day's report is never computed from half-understood input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from engines.artifacts.layout import ArtifactPaths
from engines.artifacts.recorder import ORDER_COLUMNS
from engines.config import EngineName
from engines.errors import PaperfleetError
from engines.orders import OrderStatus, OrderTag


class ArtifactError(PaperfleetError):
    """An artifact exists but is unreadable or malformed; the message names the file and line or key."""


MONEY = r"-?\d+\.\d{2}"  # the CSV rupee convention: "1234.50", "-0.05"
ENGINE_NAME = r"[a-z][a-z0-9_]*"  # also a file name under checkpoints/, so nothing path-like
_FIX = "the file is corrupt or from another version; repair it or move it aside and run again"

# Every column must match; money columns only on filled rows (a rejection leaves them empty).
_ROW_RULES: dict[str, tuple[str, str]] = {
    "ts_ist": (r"\d{4}-\d{2}-\d{2}T.+", "an ISO 8601 time like 2026-11-27T09:38:00.000+05:30"),
    "engine": (ENGINE_NAME, "an engine name like fno"),
    "seq": (r"[1-9]\d*", "a positive integer"),
    "order_id": (r".+", "an order id"),
    "symbol": (r".+", "a tradingsymbol"),
    "side": (r"BUY|SELL", "BUY or SELL"),
    "quantity": (r"[1-9]\d*", "a positive integer"),
    "tag": ("|".join(t.value for t in OrderTag), "one of " + ", ".join(t.value for t in OrderTag)),
    "event": ("fill|reject|cancel", "fill, reject or cancel"),
    "status": ("|".join(s.value for s in OrderStatus), "one of " + ", ".join(s.value for s in OrderStatus)),
    "wall_time": (r".+", "a wall-clock time (an empty one means a truncated row)"),
}
_MONEY_COLUMNS = {"price": "price_paise", "charges": "charges_paise", "realised_pnl": "realised_paise"}

_CHECKPOINT_INTS = ("realised_paise", "charges_paise", "unrealised_paise")
_POSITION_INTS = ("quantity", "cost_paise", "last_price_paise")
_SESSION_KEYS = ("date", "layout", "started_at", "ended_at", "ended_by", "engines", "exit_code")


@dataclass(frozen=True, slots=True)
class DayInputs:
    """Everything the statistics need, parsed: see `stats.daily_report` for the shapes."""

    orders: pd.DataFrame
    checkpoints: dict[str, dict[str, Any]]
    session: dict[str, Any] | None


def load_inputs(paths: ArtifactPaths, day: date) -> DayInputs:
    """Read orders.csv, the session record and every checkpoint that may concern the day."""
    orders = read_orders(paths.orders)
    session = read_session(paths.session_outcome(day), day)
    names = {e.value for e in EngineName} | set(orders["engine"]) | set(session["engines"] if session else ())
    checkpoints = {}
    for name in sorted(names):
        checkpoint = read_checkpoint(paths.checkpoint(name))
        if checkpoint is not None:
            checkpoints[name] = checkpoint
    return DayInputs(orders, checkpoints, session)


def read_orders(path: Path) -> pd.DataFrame:
    """orders.csv as typed columns: the CSV's columns (strings) with `seq` and `quantity` as ints, plus
    `price_paise`, `charges_paise` and `realised_paise` (int64 paise, 0 on rejected rows).
    No file gives an empty frame of the same shape."""
    if not path.exists():
        return parse_orders(pd.DataFrame({c: pd.Series(dtype=str) for c in ORDER_COLUMNS}), path)
    try:
        # Every column as text: money is parsed exactly below, and an empty cell stays "" (not NaN).
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except pd.errors.ParserError as exc:  # the message carries the line: "Expected 17 fields in line 9"
        raise ArtifactError(f"{path}: {exc}; {_FIX}") from None
    except (OSError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ArtifactError(f"{path}: cannot read it ({exc}); {_FIX}") from None
    if tuple(raw.columns) != ORDER_COLUMNS:
        raise ArtifactError(
            f"{path}:1: header is {','.join(map(str, raw.columns))!r}, expected {','.join(ORDER_COLUMNS)!r}; "
            f"{_FIX}"
        )
    return parse_orders(raw, path)


def parse_orders(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Validate every row of the text frame and add the typed columns; line numbers count the header
    as line 1 (rows never span lines: the engines write no newlines inside a field)."""
    for column, (pattern, expected) in _ROW_RULES.items():
        _check(raw, raw[column].str.fullmatch(pattern), column, expected, path)
    filled = raw["event"] == "fill"
    orders = raw.assign(seq=raw["seq"].astype("int64"), quantity=raw["quantity"].astype("int64"))
    for column, paise_column in _MONEY_COLUMNS.items():
        _check(raw, ~filled | raw[column].str.fullmatch(MONEY), column, "rupees like 1234.50 on a fill", path)
        # "1234.50" -> 123450 and "-0.05" -> -5: exact, no float ever holds the amount.
        digits = raw[column].where(filled, "0").str.replace(".", "", regex=False)
        orders[paise_column] = digits.astype("int64")
    return orders


def _check(raw: pd.DataFrame, good: pd.Series, column: str, expected: str, path: Path) -> None:
    bad = raw.index[~good.astype(bool)]
    if len(bad):
        first = bad[0]
        raise ArtifactError(
            f"{path}:{int(first) + 2}: column {column!r} is {raw.at[first, column]!r}, expected {expected} "
            f"({len(bad)} such row(s)); {_FIX}"
        )


def read_checkpoint(path: Path) -> dict[str, Any] | None:
    """One engine's checkpoint, with the keys the report uses checked; None when there is none."""
    data = _read_json_object(path)
    if data is None:
        return None
    for key in ("engine", "date", "status", "as_of_ist"):
        _require(path, key, data.get(key), str, "a string")
    for key in _CHECKPOINT_INTS:
        _require(path, key, data.get(key), int, "an integer of paise")
    _require(path, "positions", data.get("positions"), list, "a list")
    for i, position in enumerate(data["positions"]):
        _require(path, f"positions[{i}]", position, dict, "an object")
        _require(path, f"positions[{i}].symbol", position.get("symbol"), str, "a string")
        for key in _POSITION_INTS:
            _require(path, f"positions[{i}].{key}", position.get(key), int, "an integer")
    return data


def read_session(path: Path, day: date) -> dict[str, Any] | None:
    """The controller's record of the day, or None when the engines ran without the controller."""
    data = _read_json_object(path)
    if data is None:
        return None
    for key in _SESSION_KEYS:
        if key not in data:
            raise ArtifactError(f"{path}: key {key!r} is missing (keys: {', '.join(_SESSION_KEYS)}); {_FIX}")
    if data["date"] != day.isoformat():
        raise ArtifactError(f"{path}: key 'date' is {data['date']!r}, expected {day.isoformat()!r}; {_FIX}")
    _require(path, "engines", data["engines"], dict, "an object of engine name -> container")
    for name, entry in data["engines"].items():
        if not re.fullmatch(ENGINE_NAME, name):
            raise ArtifactError(f"{path}: engines has key {name!r}, expected an engine name like fno; {_FIX}")
        _require(path, f"engines.{name}", entry, dict, "an object")
        exit_code = entry.get("exit_code")
        if exit_code is not None:
            _require(path, f"engines.{name}.exit_code", exit_code, int, "an integer or null")
    return data


def _read_json_object(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: cannot read it ({exc}); {_FIX}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArtifactError(
            f"{path}:{exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno}); {_FIX}"
        ) from None
    _require(path, "(top level)", data, dict, "an object")
    return data  # type: ignore[no-any-return]


def _require(path: Path, key: str, value: object, kind: type, expected: str) -> None:
    # bool is an int subclass, but True is never an amount of paise.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        shown = "missing" if value is None else f"{value!r}"
        raise ArtifactError(f"{path}: key {key!r} is {shown}, expected {expected}; {_FIX}")
