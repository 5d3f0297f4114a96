"""Instruments and the instrument master: one table with the columns of Kite's instrument dump.

Every universe resolves from the master: the current-month future of an index, the option chain of the
right expiry, the cash stocks of the universe CSV; so do lot sizes, tick sizes, strike steps and expiries.
The simulator writes the master of its date (engines/market/sim/master.py), the live feed downloads Kite's,
and a replay reads the recorded one: the engines never know which.

The CSV is Kite's `/instruments` format (KITE_AND_NSE.md §1.5), header
`instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,
instrument_type,segment,exchange`. Reading it tolerates the real dump's quirks: empty `name` on options
(the underlying then comes from the tradingsymbol), empty or `0`/`0.0` strikes and prices, quoted names,
and rows of exchanges the engines do not trade (skipped).
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

from engines.errors import ConfigError
from engines.market.rules import MarketRules, load_rules
from engines.money import Paise, rupees_to_paise

COLUMNS = (
    "instrument_token",
    "exchange_token",
    "tradingsymbol",
    "name",
    "last_price",
    "expiry",
    "strike",
    "tick_size",
    "lot_size",
    "instrument_type",
    "segment",
    "exchange",
)
TRADED_SEGMENTS = frozenset({"NSE", "INDICES", "NFO-FUT", "NFO-OPT"})
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKLY_MONTH_CODES = "123456789OND"
# NIFTY26DECFUT, NIFTY26DEC26000CE, NIFTY26D0126000CE: the underlying is the letters before the year.
_DERIVATIVE_SYMBOL = re.compile(r"^(?P<name>[A-Z&\-]+?)\d{2}(?:[A-Z]{3}|[1-9OND]\d{2})")


class Kind(StrEnum):
    INDEX = "INDEX"  # segment INDICES (Kite's instrument_type is EQ there): quoted, not traded
    EQ = "EQ"
    FUT = "FUT"
    CE = "CE"
    PE = "PE"


@dataclass(frozen=True, slots=True)
class Instrument:
    """One row of the master. Prices (strike, tick) are in paise."""

    token: int  # Kite's instrument_token
    symbol: str  # Kite's tradingsymbol
    exchange: str  # NSE or NFO
    segment: str  # NSE, INDICES, NFO-FUT or NFO-OPT
    kind: Kind
    name: str  # company name, index name, or the underlying of a derivative
    tick: Paise
    lot_size: int  # 1 for stocks, 0 for indices
    expiry: date | None = None
    strike: Paise = 0
    underlying: str | None = None  # NIFTY, BANKNIFTY, ... for index derivatives and the indices themselves
    exchange_token: str = ""

    @property
    def tradable(self) -> bool:
        return self.kind is not Kind.INDEX

    @property
    def is_option(self) -> bool:
        return self.kind in (Kind.CE, Kind.PE)

    @property
    def is_derivative(self) -> bool:
        return self.kind in (Kind.FUT, Kind.CE, Kind.PE)

    @property
    def key(self) -> str:
        """Kite's instrument key, EXCHANGE:TRADINGSYMBOL."""
        return f"{self.exchange}:{self.symbol}"

    def lots(self, quantity: int) -> int:
        return quantity // self.lot_size if self.lot_size > 1 else quantity


@dataclass(frozen=True, slots=True)
class OptionChain:
    """The listed strikes of one underlying and expiry, calls and puts by strike (paise)."""

    underlying: str
    expiry: date
    strikes: tuple[Paise, ...]  # ascending
    calls: dict[Paise, Instrument]
    puts: dict[Paise, Instrument]

    def nearest_strike(self, spot: Paise) -> Paise:
        """The listed strike closest to `spot` (the lower one on a tie)."""
        i = bisect.bisect_left(self.strikes, spot)
        candidates = self.strikes[max(0, i - 1) : i + 1]
        return min(candidates, key=lambda strike: (abs(strike - spot), strike))

    def step_near(self, strike: Paise) -> Paise:
        """The gap between listed strikes around `strike` (strikes far out may be wider apart)."""
        i = self.strikes.index(strike)
        near = self.strikes[max(0, i - 1) : i + 2]
        return min((b - a for a, b in itertools.pairwise(near)), default=0)

    def option(self, strike: Paise, kind: Kind) -> Instrument | None:
        return (self.calls if kind is Kind.CE else self.puts).get(strike)

    def window(self, centre: Paise, each_side: int) -> list[Instrument]:
        """Calls and puts at the `each_side` strikes either side of `centre` and at `centre` itself."""
        i = bisect.bisect_left(self.strikes, centre)
        picked = self.strikes[max(0, i - each_side) : i + each_side + 1]
        return [
            o for strike in picked for o in (self.calls.get(strike), self.puts.get(strike)) if o is not None
        ]


class InstrumentMaster:
    """The day's instruments, indexed for the questions the engines ask."""

    def __init__(
        self, day: date, instruments: Iterable[Instrument], rules: MarketRules | None = None
    ) -> None:
        self.day = day
        self.rules = rules or load_rules()
        self._rows = list(instruments)
        self._by_token = {i.token: i for i in self._rows}
        self._by_key = {i.key: i for i in self._rows}
        self._futures: dict[str, list[Instrument]] = {}
        self._options: dict[tuple[str, date], list[Instrument]] = {}
        self._indices: dict[str, Instrument] = {}
        for row in self._rows:
            if row.kind is Kind.FUT and row.underlying:
                self._futures.setdefault(row.underlying, []).append(row)
            elif row.is_option and row.underlying and row.expiry:
                self._options.setdefault((row.underlying, row.expiry), []).append(row)
            elif row.kind is Kind.INDEX and row.underlying:
                self._indices[row.underlying] = row
        for futures in self._futures.values():
            futures.sort(key=lambda f: f.expiry or date.max)

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._rows)

    def get(self, token: int) -> Instrument | None:
        return self._by_token.get(token)

    def find(self, exchange: str, symbol: str) -> Instrument | None:
        return self._by_key.get(f"{exchange}:{symbol}")

    def index(self, underlying: str) -> Instrument:
        found = self._indices.get(underlying)
        if found is None:
            raise ConfigError(f"instrument master of {self.day}: no index row for {underlying}")
        return found

    def current_future(self, underlying: str) -> Instrument:
        """The near-month future: the earliest expiry on or after the master's day."""
        for future in self._futures.get(underlying, []):
            if future.expiry is not None and future.expiry >= self.day:
                return future
        raise ConfigError(f"instrument master of {self.day}: no live {underlying} future")

    def option_expiries(self, underlying: str) -> list[date]:
        return sorted(e for u, e in self._options if u == underlying and e >= self.day)

    def chain(self, underlying: str, expiry: date | None = None) -> OptionChain:
        """The chain of `expiry`, by default the nearest one on or after the master's day."""
        if expiry is None:
            expiries = self.option_expiries(underlying)
            if not expiries:
                raise ConfigError(f"instrument master of {self.day}: no live {underlying} options")
            expiry = expiries[0]
        rows = self._options.get((underlying, expiry), [])
        calls = {o.strike: o for o in rows if o.kind is Kind.CE}
        puts = {o.strike: o for o in rows if o.kind is Kind.PE}
        return OptionChain(underlying, expiry, tuple(sorted(set(calls) | set(puts))), calls, puts)

    def equity(self, symbol: str) -> Instrument | None:
        found = self._by_key.get(f"NSE:{symbol}")
        return found if found is not None and found.kind is Kind.EQ else None

    def equities(self) -> list[str]:
        return sorted(i.symbol for i in self._rows if i.kind is Kind.EQ)

    # --- Kite's CSV format ---------------------------------------------------------------------

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in self._rows:
            writer.writerow(_kite_row(i))
        return out.getvalue()

    @classmethod
    def from_csv(
        cls, text: str, day: date, source: str, rules: MarketRules | None = None
    ) -> InstrumentMaster:
        """Parse a Kite instruments CSV; `source` names it in errors (a path or a URL)."""
        rules = rules or load_rules()
        underlying_of_index = {symbol: u for u, symbol in rules.index_symbols.items()}
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise ConfigError(f"{source}:1: header is {header!r}; expected Kite's {','.join(COLUMNS)}")
        rows = []
        for line, values in enumerate(reader, start=2):
            if not values:
                continue
            if len(values) != len(COLUMNS):
                raise ConfigError(f"{source}:{line}: expected {len(COLUMNS)} columns, got {len(values)}")
            row = dict(zip(COLUMNS, (v.strip() for v in values), strict=True))
            if row["segment"] not in TRADED_SEGMENTS:
                continue
            try:
                rows.append(_instrument(row, underlying_of_index))
            except (ValueError, InvalidOperation) as exc:
                raise ConfigError(f"{source}:{line}: {exc} in {row['tradingsymbol']!r}") from None
        return cls(day, rows, rules)

    def write(self, path: Path) -> None:
        from engines.artifacts.files import write_atomic  # artifacts import the master's types, not back

        write_atomic(path, self.to_csv().encode(), durable=True)

    @classmethod
    def read(cls, path: Path, day: date) -> InstrumentMaster:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the instrument master ({exc.strerror})") from None
        return cls.from_csv(text, day, str(path))


def _instrument(row: dict[str, str], underlying_of_index: dict[str, str]) -> Instrument:
    segment, symbol = row["segment"], row["tradingsymbol"]
    kind = Kind.INDEX if segment == "INDICES" else Kind(row["instrument_type"])
    underlying: str | None = None
    if kind is Kind.INDEX:
        underlying = underlying_of_index.get(symbol)
    elif kind is not Kind.EQ:
        match = _DERIVATIVE_SYMBOL.match(symbol)
        underlying = row["name"] or (match.group("name") if match else None)
    return Instrument(
        token=int(row["instrument_token"]),
        symbol=symbol,
        exchange=row["exchange"],
        segment=segment,
        kind=kind,
        name=row["name"] or (underlying or symbol),
        tick=rupees_to_paise(row["tick_size"] or "0"),
        lot_size=int(row["lot_size"] or 0),
        expiry=date.fromisoformat(row["expiry"]) if len(row["expiry"]) == 10 else None,
        strike=rupees_to_paise(Decimal(row["strike"] or "0")),
        underlying=underlying,
        exchange_token=row["exchange_token"],
    )


def _kite_row(i: Instrument) -> list[object]:
    return [
        i.token,
        i.exchange_token,
        i.symbol,
        i.name,
        "0.0",
        i.expiry.isoformat() if i.expiry else "",
        _rupees_text(i.strike) if i.strike else "0.0",
        _rupees_text(i.tick) if i.tick else "0",
        i.lot_size,
        "EQ" if i.kind is Kind.INDEX else i.kind.value,
        i.segment,
        i.exchange,
    ]


def _rupees_text(paise: Paise) -> str:
    """Paise as Kite's CSV writes rupees: 2600000 -> '26000.0', 5 -> '0.05'."""
    text = format((Decimal(paise) / 100).normalize(), "f")
    return text if "." in text else text + ".0"


# --- symbols, as Kite writes them ----------------------------------------------------------------


def future_symbol(underlying: str, expiry: date) -> str:
    return f"{underlying}{expiry:%y}{_MONTHS[expiry.month - 1]}FUT"


def option_symbol(underlying: str, expiry: date, strike: Paise, kind: Kind, monthly: bool) -> str:
    """Monthly NIFTY26DEC26000CE; weekly NIFTY26D0126000CE (month code 1-9, O, N, D)."""
    if monthly:
        stem = f"{underlying}{expiry:%y}{_MONTHS[expiry.month - 1]}"
    else:
        stem = f"{underlying}{expiry:%y}{_WEEKLY_MONTH_CODES[expiry.month - 1]}{expiry:%d}"
    rupees = Decimal(strike) / 100
    return f"{stem}{rupees.normalize():f}{kind.value}"
