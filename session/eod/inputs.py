"""Reading the day's artifacts (docs/artifacts.md) for the end-of-day job, validated at the edge.

A missing file is not an error (no orders.csv means no orders, no checkpoint means the engine's
status is `missing`, no journal means no timeline, no session record means the engines ran outside
the controller), but a file that exists and cannot be read or parsed is: the error names the file,
the line or key, the value found and what was expected, so the day's report is never computed from
half-understood input.
"""

from __future__ import annotations

import json
import logging
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
from engines.orders import OrderStatus, OrderTag, OrderType, Product, Validity

log = logging.getLogger("eod")


class ArtifactError(PaperfleetError):
    """An artifact exists but is unreadable or malformed; the message names the file and line or key."""


MONEY = r"-?\d+\.\d{2}"  # the CSV rupee convention: "1234.50", "-0.05"
ENGINE_NAME = r"[a-z][a-z0-9_]*"  # also a file name under checkpoints/, so nothing path-like
ISO_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}.*"
_FIX = "the file is corrupt or from another version; repair it or move it aside and run again"
_ENDED = (OrderStatus.COMPLETE, OrderStatus.REJECTED, OrderStatus.CANCELLED)


def _one_of(values: Any) -> tuple[str, str]:
    words = [v.value for v in values]
    return "|".join(re.escape(w) for w in words), "one of " + ", ".join(words)


# Every column of every row must match its rule (line numbers count the header as line 1).
_ROW_RULES: dict[str, tuple[str, str]] = {
    "ts_ist": (ISO_TIME, "an ISO 8601 time like 2026-11-27T09:38:00.000+05:30"),
    "engine": (ENGINE_NAME, "an engine name like fno"),
    "seq": (r"[1-9]\d*", "a positive integer"),
    "order_id": (r".+", "an order id"),
    "status": _one_of(_ENDED),
    "symbol": (r".+", "a tradingsymbol"),
    "exchange": (r"[A-Z]+", "an exchange like NSE or NFO"),
    "instrument_type": (r"EQ|FUT|CE|PE", "one of EQ, FUT, CE, PE"),
    "product": _one_of(Product),
    "order_type": _one_of(OrderType),
    "validity": _one_of(Validity),
    "side": (r"BUY|SELL", "BUY or SELL"),
    "quantity": (r"[1-9]\d*", "a positive integer"),
    "filled_quantity": (r"\d+", "an integer >= 0"),
    "lots": (r"\d*", "an integer, or empty for cash equities"),
    "limit_price": (rf"({MONEY})?", "rupees like 1234.50, or empty"),
    "trigger_price": (rf"({MONEY})?", "rupees like 1234.50, or empty"),
    "touch_price": (rf"({MONEY})?", "rupees like 1234.50, or empty"),
    "average_price": (r"(\d+\.\d{4})?", "rupees to 4 decimals like 1234.5000, or empty"),
    "fills": (r"\d+", "an integer >= 0"),
    "tag": _one_of(OrderTag),
    "placed_ist": (ISO_TIME, "an ISO 8601 time like 2026-11-27T09:38:00.000+05:30"),
    "wall_time": (r".+", "a wall-clock time (an empty one means a truncated row)"),
}
CHARGE_ITEMS = ("brokerage", "stt", "exchange_charges", "sebi_charges", "stamp_duty", "gst", "dp_charges")
# orders.csv rupee column -> the int64 paise column `read_orders` adds.
PAISE_COLUMNS = {
    "value": "value_paise",
    "charges": "charges_paise",
    **{item: f"{item}_paise" for item in CHARGE_ITEMS},
    "realised_pnl": "realised_paise",
}
_INT_COLUMNS = ("seq", "quantity", "filled_quantity", "fills")

_CHECKPOINT_INTS = ("realised_paise", "charges_paise", "unrealised_paise")
_POSITION_INTS = ("quantity", "cost_paise", "last_price_paise")
_SESSION_KEYS = ("date", "layout", "started_at", "ended_at", "ended_by", "engines", "exit_code")
FILL_COLUMNS = (
    "ts_ist",
    "engine",
    "seq",
    "order_id",
    "strategy",
    "symbol",
    "side",
    "units",
    "value_paise",
    "price_paise",
    "realised_paise",
    "charges_paise",
)


@dataclass(frozen=True, slots=True)
class DayInputs:
    """Everything the report needs, parsed and validated.

    `orders`: orders.csv as `read_orders` types it (every date; the report keeps the day's rows).
    `checkpoints`: by engine name, whatever their date. `session`: the controller's record or None.
    `journals`: by engine name, the day's journal events that the report reads (read_journal);
    engines without a journal are absent."""

    orders: pd.DataFrame
    checkpoints: dict[str, dict[str, Any]]
    session: dict[str, Any] | None
    journals: dict[str, list[dict[str, Any]]]
    single_fills: dict[str, frozenset[str]]  # by engine: orders whose one fill was left to their row


def load_inputs(paths: ArtifactPaths, day: date) -> DayInputs:
    """Read orders.csv, the session record, every checkpoint and the day's journals."""
    orders = read_orders(paths.orders)
    session = read_session(paths.session_outcome(day), day)
    journal_dir = paths.journal(day, "x").parent
    journalled = {p.stem for p in journal_dir.glob("*.jsonl")} if journal_dir.is_dir() else set()
    names = (
        {e.value for e in EngineName}
        | set(orders["engine"])
        | set(session["engines"] if session else ())
        | {name for name in journalled if re.fullmatch(ENGINE_NAME, name)}
    )
    # A COMPLETE order of one fill has a row that says all the fill does (its ts_ist and seq are the
    # fill's): its journal line need not be parsed. (A cancelled one's row is the cancellation's.)
    complete = orders["status"] == OrderStatus.COMPLETE.value
    todays = orders[orders["ts_ist"].str.startswith(day.isoformat()) & (orders["fills"] == 1) & complete]
    checkpoints, journals, single = {}, {}, {}
    for name in sorted(names):
        checkpoint = read_checkpoint(paths.checkpoint(name))
        if checkpoint is not None:
            checkpoints[name] = checkpoint
        known = frozenset(todays.loc[todays["engine"] == name, "order_id"])
        read = read_journal(paths.journal(day, name), known)
        if read is not None:
            journals[name], single[name] = read
    return DayInputs(orders, checkpoints, session, journals, single)


# --- orders.csv ---------------------------------------------------------------------------------


def read_orders(path: Path) -> pd.DataFrame:
    """orders.csv as typed columns: the CSV's columns as text, with `seq`, `quantity`,
    `filled_quantity` and `fills` as int64, plus the money columns in int64 paise (`value_paise`,
    `charges_paise`, each charge item's `<column>_paise`, `realised_paise`) and `touch_paise`
    (0 when the order's side had no quote). No file gives an empty frame of the same shape."""
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
    """Validate every row of the text frame and add the typed columns (rows never span lines: the
    engines write no newline inside a field)."""
    for column, (pattern, expected) in _ROW_RULES.items():
        _check_values(raw, column, pattern, expected, path)
    for column in PAISE_COLUMNS:
        _check_values(raw, column, MONEY, "rupees like 1234.50", path)
    orders = raw.assign(**{c: raw[c].astype("int64") for c in _INT_COLUMNS})
    for column, paise_column in PAISE_COLUMNS.items():
        orders[paise_column] = to_paise(raw[column])
    orders["touch_paise"] = to_paise(raw["touch_price"].where(raw["touch_price"] != "", "0.00"))
    _check(
        raw,
        orders["filled_quantity"] <= orders["quantity"],
        "filled_quantity",
        "at most the order's quantity",
        path,
    )
    complete = orders["status"] == OrderStatus.COMPLETE.value
    _check(
        raw,
        ~complete | (orders["filled_quantity"] == orders["quantity"]),
        "filled_quantity",
        "the whole quantity on a COMPLETE order",
        path,
    )
    items = sum((orders[f"{item}_paise"] for item in CHARGE_ITEMS), start=pd.Series(0, index=orders.index))
    _check(raw, items == orders["charges_paise"], "charges", f"the sum of {', '.join(CHARGE_ITEMS)}", path)
    return orders


def to_paise(rupees: pd.Series) -> pd.Series:
    """Validated rupee strings to int64 paise, exactly: "1234.50" -> 123450, "-0.05" -> -5."""
    return rupees.str.replace(".", "", regex=False).astype("int64")


def _check_values(raw: pd.DataFrame, column: str, pattern: str, expected: str, path: Path) -> None:
    """Every value of `column` must match `pattern`. Each distinct value is matched once: most columns
    repeat a few values, so this is far faster than matching every row."""
    rule = re.compile(pattern)
    bad = [value for value in pd.unique(raw[column]) if not rule.fullmatch(str(value))]
    if bad:
        _check(raw, ~raw[column].isin(bad), column, expected, path)


def _check(raw: pd.DataFrame, good: pd.Series, column: str, expected: str, path: Path) -> None:
    bad = raw.index[~good.astype(bool)]
    if len(bad):
        first = bad[0]
        raise ArtifactError(
            f"{path}:{int(first) + 2}: column {column!r} is {raw.at[first, column]!r}, expected {expected} "
            f"({len(bad)} such row(s)); {_FIX}"
        )


def fills_from_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """One fill per order that filled anything, at its end (for engines without a journal): the
    columns of FILL_COLUMNS, `units` signed, `price_paise` the average price rounded to the paisa."""
    filled = orders[orders["filled_quantity"] > 0]
    sign = filled["side"].map({"BUY": 1, "SELL": -1}).astype("int64")
    frame = pd.DataFrame(
        {
            "ts_ist": filled["ts_ist"],
            "engine": filled["engine"],
            "seq": filled["seq"],
            "order_id": filled["order_id"],
            "strategy": filled["strategy"],
            "symbol": filled["symbol"],
            "side": filled["side"],
            "units": sign * filled["filled_quantity"],
            "value_paise": filled["value_paise"],
            "price_paise": (filled["value_paise"] * 2 + filled["filled_quantity"])
            // (filled["filled_quantity"] * 2),  # value / units, half up
            "realised_paise": filled["realised_paise"],
            "charges_paise": filled["charges_paise"],
        }
    )
    return frame.reset_index(drop=True)


# --- the journal ----------------------------------------------------------------------------------


# Events the report never reads (it reads fills, the notable events and the last event's time): their
# lines are only checked to be whole JSON objects, not parsed, which keeps a 50,000-order day fast. The
# engines write compact JSON, so the kind is found as a plain substring; a line written otherwise is
# simply parsed.
_FILL = b'"event":"fill"'
_ORDER_ID = re.compile(rb'"order_id":"([^"]*)"')
_UNREAD = tuple(
    f'"event":"{kind}"'.encode() for kind in ("signal", "order", "reject", "cancel", "triggered", "modify")
)


def read_journal(
    path: Path, single_fill_orders: frozenset[str] = frozenset()
) -> tuple[list[dict[str, Any]], frozenset[str]] | None:
    """One engine's journal: its fills, its other events but the routine ones the report does not read
    (signals, orders, rejections, cancellations, triggers, modifications), and its last event, in
    order; each checked for the keys every event has (and a fill for the keys the report reads). The
    fill of an order in `single_fill_orders` (orders.csv rows of one fill, which say what it did) is left
    out too; the second value names the orders whose fill was. None when there is no journal. A last
    line cut short without its newline (a crash mid-write, which the engine itself cuts off when it
    resumes) is skipped with a warning."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read it ({exc}); {_FIX}") from None
    lines = data.split(b"\n")
    if lines[-1]:
        log.warning("%s: the last line is cut short (a crash mid-write); it is left out", path)
    whole = lines[:-1]
    events = []
    left: set[str] = set()
    for number, line in enumerate(whole, start=1):
        unread = number < len(whole) and any(kind in line for kind in _UNREAD)
        if not unread and single_fill_orders and number < len(whole) and _FILL in line:
            found = _ORDER_ID.search(line)
            if found and found.group(1).decode() in single_fill_orders:
                left.add(found.group(1).decode())
                unread = True
        if unread:
            if not (line.startswith(b"{") and line.endswith(b"}")):
                raise ArtifactError(f"{path}:{number}: not a journal event (not a JSON object); {_FIX}")
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:
            raise ArtifactError(f"{path}:{number}: not a journal event ({exc}); {_FIX}") from None
        if not isinstance(event, dict):
            raise ArtifactError(f"{path}:{number}: a journal line must be a JSON object; {_FIX}")
        for key, kind in (("seq", int), ("ts_ist", str), ("event", str)):
            _require(path, key, event.get(key), kind, _kinds[kind], f":{number}")
        if event["event"] == "fill":
            _check_fill(path, number, event)
        events.append(event)
    return events, frozenset(left)


_kinds: dict[type, str] = {int: "an integer", str: "a string", list: "a list", dict: "an object"}
_FILL_KEYS: dict[str, type] = {
    "order_id": str,
    "strategy": str,
    "symbol": str,
    "side": str,
    "fill_levels": list,
    "fill_charges_paise": dict,
    "fill_realised_paise": int,
}


def _check_fill(path: Path, number: int, event: dict[str, Any]) -> None:
    where = f":{number}"
    for key, kind in _FILL_KEYS.items():
        _require(path, key, event.get(key), kind, _kinds[kind], where)
    _require(path, "fill_charges_paise.total", event["fill_charges_paise"].get("total"), int, "paise", where)
    levels = event["fill_levels"]
    if not levels or not all(
        isinstance(level, list) and len(level) == 2 and all(type(x) is int for x in level) for level in levels
    ):
        raise ArtifactError(
            f"{path}{where}: key 'fill_levels' is {levels!r}, expected [[units, price_paise], ...]; {_FIX}"
        )
    if event["side"] not in ("BUY", "SELL"):
        raise ArtifactError(f"{path}{where}: key 'side' is {event['side']!r}, expected BUY or SELL; {_FIX}")


def fills_from_journal(events: list[dict[str, Any]]) -> pd.DataFrame:
    """Every execution of one engine's journal, in journal order: the columns of FILL_COLUMNS, with
    this fill's own part (`fill_levels`, `fill_charges_paise`, `fill_realised_paise`); `price_paise`
    is the last level's price (the last trade of the symbol)."""
    rows = []
    for e in events:
        if e["event"] != "fill":
            continue
        levels = e["fill_levels"]
        units = sum(level[0] for level in levels)
        rows.append(
            (
                e["ts_ist"],
                e.get("engine", ""),
                e["seq"],
                e["order_id"],
                e["strategy"],
                e["symbol"],
                e["side"],
                units if e["side"] == "BUY" else -units,
                sum(u * p for u, p in levels),
                levels[-1][1],
                e["fill_realised_paise"],
                e["fill_charges_paise"]["total"],
            )
        )
    frame = pd.DataFrame.from_records(rows, columns=list(FILL_COLUMNS))
    for column in ("seq", "units", "value_paise", "price_paise", "realised_paise", "charges_paise"):
        frame[column] = frame[column].astype("int64")
    for column in ("ts_ist", "engine", "order_id", "strategy", "symbol", "side"):
        frame[column] = frame[column].astype(str)
    return frame


# --- checkpoints and the session record -------------------------------------------------------------


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
    working = data.get("desk", {}).get("working", []) if isinstance(data.get("desk"), dict) else []
    _require(path, "desk.working", working, list, "a list")
    for i, order in enumerate(working):
        _require(path, f"desk.working[{i}]", order, dict, "an object")
        for key in ("filled", "realised"):
            _require(path, f"desk.working[{i}].{key}", order.get(key), int, "an integer")
        _require(path, f"desk.working[{i}].charges", order.get("charges"), dict, "an object of paise")
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


def _require(path: Path, key: str, value: object, kind: type, expected: str, where: str = "") -> None:
    # bool is an int subclass, but True is never an amount of paise.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        shown = "missing" if value is None else f"{value!r}"
        raise ArtifactError(f"{path}{where}: key {key!r} is {shown}, expected {expected}; {_FIX}")
