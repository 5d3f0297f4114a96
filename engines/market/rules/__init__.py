"""Market facts as dated data: the CSV files beside this module, each row holding from a date on.

A new NSE or Zerodha circular is one added row, never a code change. Every lookup takes the date it is
asked about and answers with the latest row that holds on that date, so a 2025 day gets 2025's lot sizes,
expiry weekday, freeze limits, margin and charge rates. A date before the first row, or in a year with no
holiday list, is refused with a RuleError that names the file and the fix: a guessed rule would make
numbers that look right and are not.

Files (each documents its source in its header comments):
    holidays.csv           date, description
    underlyings.csv        underlying, index_symbol, index_token (identity, not dated)
    lot_sizes.csv          underlying, from_expiry, lot_size (by contract expiry)
    expiry_weekdays.csv    from_expiry, weekday
    weekly_options.csv     underlying, from_date, weekly
    freeze_quantities.csv  underlying, from_date, freeze_quantity
    strike_steps.csv       underlying, from_date, strike_step
    tick_sizes.csv         instrument_type, from_date, max_price, tick_size
    margin_rates.csv       instrument_type, product, from_date, span_pct, exposure_pct, min_pct
    charge_rates.csv       segment, from_date, brokerage_pct, brokerage_max, stt_buy_pct, stt_sell_pct,
                           exchange_pct, sebi_per_crore, stamp_buy_pct, gst_pct, dp_per_scrip
"""

from __future__ import annotations

import bisect
import csv
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Generic, TypeVar

from engines.errors import ConfigError
from engines.money import Paise, rupees_to_paise

RULES_DIR = Path(__file__).parent
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


T = TypeVar("T")
K = TypeVar("K")


class RuleError(ConfigError):
    """A date or key the market rules do not cover; the message names the file and how to extend it."""


@dataclass(frozen=True, slots=True)
class ChargeRates:
    """One segment's charge rates on a date, as percentages of turnover (Decimal, exact)."""

    brokerage_pct: Decimal | None  # None: a flat brokerage_max per executed order
    brokerage_max: Decimal  # rupees per executed order
    stt_buy_pct: Decimal
    stt_sell_pct: Decimal
    exchange_pct: Decimal
    sebi_per_crore: Decimal
    stamp_buy_pct: Decimal
    gst_pct: Decimal
    dp_per_scrip: Decimal  # rupees before GST, per scrip per day of delivery sells (on the ledger)


@dataclass(frozen=True, slots=True)
class MarginRate:
    span_pct: Decimal
    exposure_pct: Decimal
    min_pct: Decimal  # short options' minimum SPAN, % of the index level

    @property
    def total_pct(self) -> Decimal:
        return self.span_pct + self.exposure_pct


class Dated(Generic[T]):
    """Rows of one key ordered by the date they hold from; `on(day)` is the row in force that day."""

    def __init__(self, file: str, key: str, rows: Sequence[tuple[date, T]]) -> None:
        self._file, self._key = file, key
        ordered = sorted(rows, key=lambda row: row[0])
        self._dates = [d for d, _ in ordered]
        self._values = [v for _, v in ordered]

    def on(self, day: date) -> T:
        i = bisect.bisect_right(self._dates, day)
        if i == 0:
            first = self._dates[0].isoformat() if self._dates else "none"
            raise RuleError(
                f"engines/market/rules/{self._file}: no row for {self._key} on {day.isoformat()} "
                f"(the first holds from {first}); add a row for that date to cover it"
            )
        return self._values[i - 1]


class MarketRules:
    """Every dated market fact, loaded once from the CSV files (see `load_rules`)."""

    def __init__(self, directory: Path = RULES_DIR) -> None:
        self.directory = directory
        self.holidays: dict[date, str] = {
            date.fromisoformat(r["date"]): r["description"] for r in _rows(directory, "holidays.csv")
        }
        self.holiday_years = frozenset(d.year for d in self.holidays)
        self.index_symbols: dict[str, str] = {}
        self.index_tokens: dict[str, int] = {}
        for r in _rows(directory, "underlyings.csv"):
            self.index_symbols[r["underlying"]] = r["index_symbol"]
            self.index_tokens[r["underlying"]] = int(r["index_token"])
        self.underlyings: tuple[str, ...] = tuple(self.index_symbols)
        self._lots = _by_key(
            directory, "lot_sizes.csv", "underlying", "from_expiry", lambda r: int(r["lot_size"])
        )
        self._weekdays = Dated(
            "expiry_weekdays.csv",
            "expiries",
            [
                (date.fromisoformat(r["from_expiry"]), WEEKDAYS.index(r["weekday"]))
                for r in _rows(directory, "expiry_weekdays.csv")
            ],
        )
        self._weekly = _by_key(
            directory, "weekly_options.csv", "underlying", "from_date", lambda r: r["weekly"] == "yes"
        )
        self._freeze = _by_key(
            directory, "freeze_quantities.csv", "underlying", "from_date", lambda r: int(r["freeze_quantity"])
        )
        self._steps = _by_key(
            directory,
            "strike_steps.csv",
            "underlying",
            "from_date",
            lambda r: rupees_to_paise(r["strike_step"]),
        )
        ticks: dict[str, dict[date, list[tuple[Decimal | None, Paise]]]] = {}
        for r in _rows(directory, "tick_sizes.csv"):
            bound = Decimal(r["max_price"]) if r["max_price"] else None
            by_date = ticks.setdefault(r["instrument_type"], {})
            by_date.setdefault(date.fromisoformat(r["from_date"]), []).append(
                (bound, rupees_to_paise(r["tick_size"]))
            )
        self._ticks = {
            kind: Dated("tick_sizes.csv", kind, list(rows.items())) for kind, rows in ticks.items()
        }
        self._margins = _by_key(
            directory,
            "margin_rates.csv",
            ("instrument_type", "product"),
            "from_date",
            lambda r: MarginRate(
                Decimal(r["span_pct"]), Decimal(r["exposure_pct"]), Decimal(r["min_pct"] or 0)
            ),
        )
        self._charges = _by_key(directory, "charge_rates.csv", "segment", "from_date", _charge_rates)

    # --- the calendar's raw facts ---------------------------------------------------------------

    def check_covered(self, day: date) -> None:
        """Refuse a date whose year has no holiday list: every weekday would wrongly look tradable."""
        if day.year not in self.holiday_years:
            years = ", ".join(str(y) for y in sorted(self.holiday_years))
            raise RuleError(
                f"{day.isoformat()}: engines/market/rules/holidays.csv has no NSE holiday list for "
                f"{day.year} (it covers {years}); add that year's holidays to use the date"
            )

    def expiry_weekday(self, expiry: date) -> int:
        """The weekday (Monday 0) that contracts expiring around `expiry` expire on."""
        return self._weekdays.on(expiry)

    # --- instruments -------------------------------------------------------------------------------

    def lot_size(self, underlying: str, expiry: date) -> int:
        return self._table(self._lots, underlying, "lot_sizes.csv").on(expiry)

    def weekly_options(self, underlying: str, day: date) -> bool:
        return self._table(self._weekly, underlying, "weekly_options.csv").on(day)

    def freeze_quantity(self, underlying: str, day: date) -> int:
        return self._table(self._freeze, underlying, "freeze_quantities.csv").on(day)

    def strike_step(self, underlying: str, day: date) -> Paise:
        return self._table(self._steps, underlying, "strike_steps.csv").on(day)

    def tick_size(self, instrument_type: str, day: date, price: Decimal) -> Paise:
        """The tick of an instrument type at `price` rupees (the index level for futures)."""
        for bound, tick in self._table(self._ticks, instrument_type, "tick_sizes.csv").on(day):
            if bound is None or price <= bound:
                return tick
        raise RuleError(
            f"engines/market/rules/tick_sizes.csv: no {instrument_type} tick for {price} on {day}"
        )

    # --- money -------------------------------------------------------------------------------------

    def margin_rate(self, instrument_type: str, product: str, day: date) -> MarginRate:
        return self._table(self._margins, (instrument_type, product), "margin_rates.csv").on(day)

    def charge_rates(self, segment: str, day: date) -> ChargeRates:
        return self._table(self._charges, segment, "charge_rates.csv").on(day)

    @staticmethod
    def _table(tables: dict[K, Dated[T]], key: K, file: str) -> Dated[T]:
        found = tables.get(key)
        if found is None:
            known = ", ".join(str(k) for k in tables)
            raise RuleError(f"engines/market/rules/{file}: no rows for {key} (rows exist for {known})")
        return found


@functools.cache
def load_rules() -> MarketRules:
    """The market rules shipped with Paperfleet (read once per process)."""
    return MarketRules()


def _rows(directory: Path, file: str) -> Iterator[dict[str, str]]:
    path = directory / file
    lines = [
        line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")
    ]
    for row in csv.DictReader(lines):
        yield {k: (v or "").strip() for k, v in row.items()}


def _by_key(
    directory: Path,
    file: str,
    key: str | tuple[str, ...],
    date_column: str,
    value: Callable[[dict[str, str]], T],
) -> dict[object, Dated[T]]:
    grouped: dict[object, list[tuple[date, T]]] = {}
    for r in _rows(directory, file):
        k: object = r[key] if isinstance(key, str) else tuple(r[c] for c in key)
        grouped.setdefault(k, []).append((date.fromisoformat(r[date_column]), value(r)))
    return {k: Dated(file, str(k), rows) for k, rows in grouped.items()}


def _charge_rates(r: dict[str, str]) -> ChargeRates:
    return ChargeRates(
        Decimal(r["brokerage_pct"]) if r["brokerage_pct"] else None,
        Decimal(r["brokerage_max"]),
        Decimal(r["stt_buy_pct"]),
        Decimal(r["stt_sell_pct"]),
        Decimal(r["exchange_pct"]),
        Decimal(r["sebi_per_crore"]),
        Decimal(r["stamp_buy_pct"]),
        Decimal(r["gst_pct"]),
        Decimal(r["dp_per_scrip"]),
    )
