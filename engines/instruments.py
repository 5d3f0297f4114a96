"""Instruments as Kite describes them, and the static facts about the index underlyings.

Lot sizes, strike intervals and tick rules: shared/reference/KITE_AND_NSE.md §4 (lot sizes from the
January 2026 expiries; index futures tick by index level; options 0.05). A live Kite instruments dump
would override these; the simulator uses them as they are.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum

from engines.money import Paise


class Segment(IntEnum):
    """Kite's segment code, carried in the low byte of every instrument token."""

    NSE = 1
    NFO = 2
    INDICES = 9


class Kind(StrEnum):
    INDEX = "INDEX"
    EQ = "EQ"
    FUT = "FUT"
    CE = "CE"
    PE = "PE"


class Underlying(StrEnum):
    NIFTY = "NIFTY"
    BANKNIFTY = "BANKNIFTY"
    FINNIFTY = "FINNIFTY"


@dataclass(frozen=True, slots=True)
class UnderlyingSpec:
    index_symbol: str  # Kite's tradingsymbol of the index itself
    index_token: int
    lot_size: int
    strike_step: int  # rupees between listed strikes
    weekly_options: bool  # only NIFTY kept weeklies after Nov 2024
    freeze_qty: int  # units per order (NSE, Feb 2026)


UNDERLYINGS: dict[Underlying, UnderlyingSpec] = {
    Underlying.NIFTY: UnderlyingSpec("NIFTY 50", 256265, 65, 50, True, 1800),
    Underlying.BANKNIFTY: UnderlyingSpec("NIFTY BANK", 260105, 30, 100, False, 600),
    Underlying.FINNIFTY: UnderlyingSpec("NIFTY FIN SERVICE", 257801, 60, 50, False, 1800),
}

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKLY_MONTH_CODES = "123456789OND"


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable (or index) instrument. Prices and strikes are in paise."""

    token: int
    symbol: str  # Kite tradingsymbol
    exchange: str  # "NSE" or "NFO"
    kind: Kind
    name: str  # underlying or company name
    tick: Paise
    lot_size: int
    expiry: date | None = None
    strike: Paise | None = None
    underlying: Underlying | None = None

    @property
    def tradable(self) -> bool:
        return self.kind is not Kind.INDEX

    @property
    def is_option(self) -> bool:
        return self.kind in (Kind.CE, Kind.PE)

    @property
    def key(self) -> str:
        """Kite's instrument key, EXCHANGE:TRADINGSYMBOL."""
        return f"{self.exchange}:{self.symbol}"


def synthetic_token(symbol: str, segment: Segment) -> int:
    """A stable Kite-shaped token for a simulated instrument: 24 hash bits, then the segment byte."""
    return ((zlib.crc32(symbol.encode()) & 0xFFFFFF) << 8) | segment


def futures_tick(index_level: float) -> Paise:
    """Index futures tick by index level (NSE, from 15 Apr 2025): <=15k 0.05, <=30k 0.10, else 0.20."""
    if index_level <= 15_000:
        return 5
    return 10 if index_level <= 30_000 else 20


def equity_tick(price: float) -> Paise:
    """Cash-market tick: 0.01 below Rs 250, 0.05 from Rs 250 (NSE price-band tick rule)."""
    return 1 if price < 250 else 5


def future_symbol(underlying: Underlying, expiry: date) -> str:
    return f"{underlying}{expiry:%y}{_MONTHS[expiry.month - 1]}FUT"


def option_symbol(underlying: Underlying, expiry: date, strike_rupees: int, kind: Kind, monthly: bool) -> str:
    """Kite option symbol: monthly NIFTY26DEC26000CE, weekly NIFTY26D0126000CE (month code 1-9,O,N,D)."""
    if monthly:
        stem = f"{underlying}{expiry:%y}{_MONTHS[expiry.month - 1]}"
    else:
        stem = f"{underlying}{expiry:%y}{_WEEKLY_MONTH_CODES[expiry.month - 1]}{expiry:%d}"
    return f"{stem}{strike_rupees}{kind}"
