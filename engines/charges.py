"""Zerodha's charges for an executed order, in paise (shared/reference/KITE_AND_NSE.md §3).

Each component is computed exactly in Decimal and rounded to the paisa (half up); the total is the sum
of the rounded components, so a fill's charges always add up. Kite's virtual contract note
(/charges/orders) reports the same components per order. The STT rates changed on 1 Apr 2026.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from engines.instruments import Instrument, Kind
from engines.money import Paise


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


@dataclass(frozen=True, slots=True)
class Charges:
    brokerage: Paise
    stt: Paise
    exchange: Paise  # NSE transaction charge incl. IPFT, as Zerodha shows it
    sebi: Paise
    stamp: Paise
    gst: Paise

    @property
    def total(self) -> Paise:
        return self.brokerage + self.stt + self.exchange + self.sebi + self.stamp + self.gst


@dataclass(frozen=True, slots=True)
class _Rates:
    brokerage_pct: Decimal | None  # None: flat per order
    stt_sell_pct: Decimal
    exchange_pct: Decimal
    stamp_buy_pct: Decimal


_PCT = Decimal("0.01")
_BROKERAGE_CAP = Decimal(20)  # rupees per executed order
_SEBI_PCT = Decimal("0.0001")  # Rs 10 per crore
_GST = Decimal("0.18")
_STT_CHANGE = date(2026, 4, 1)

_EQUITY_INTRADAY = _Rates(Decimal("0.03"), Decimal("0.025"), Decimal("0.00307"), Decimal("0.003"))
_FUTURES = _Rates(Decimal("0.03"), Decimal("0.05"), Decimal("0.00183"), Decimal("0.002"))
_FUTURES_BEFORE = _Rates(Decimal("0.03"), Decimal("0.02"), Decimal("0.00183"), Decimal("0.002"))
_OPTIONS = _Rates(None, Decimal("0.15"), Decimal("0.03553"), Decimal("0.003"))
_OPTIONS_BEFORE = _Rates(None, Decimal("0.1"), Decimal("0.03553"), Decimal("0.003"))


def _rates(kind: Kind, day: date) -> _Rates:
    new = day >= _STT_CHANGE
    if kind is Kind.EQ:
        return _EQUITY_INTRADAY
    if kind is Kind.FUT:
        return _FUTURES if new else _FUTURES_BEFORE
    if kind in (Kind.CE, Kind.PE):
        return _OPTIONS if new else _OPTIONS_BEFORE
    raise ValueError(f"{kind} is not tradable")


def _paise(rupees: Decimal) -> Paise:
    return int((rupees * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def order_charges(instrument: Instrument, side: Side, quantity: int, price: Paise, day: date) -> Charges:
    """Charges Zerodha would book for one executed intraday order (MIS) of `quantity` units at `price`."""
    rates = _rates(instrument.kind, day)
    turnover = Decimal(price * quantity) / 100  # rupees; premium turnover for options
    if rates.brokerage_pct is None:
        brokerage = _BROKERAGE_CAP
    else:
        brokerage = min(turnover * rates.brokerage_pct * _PCT, _BROKERAGE_CAP)
    stt = turnover * rates.stt_sell_pct * _PCT if side is Side.SELL else Decimal(0)
    exchange = turnover * rates.exchange_pct * _PCT
    sebi = turnover * _SEBI_PCT * _PCT
    stamp = turnover * rates.stamp_buy_pct * _PCT if side is Side.BUY else Decimal(0)
    gst = (brokerage + sebi + exchange) * _GST
    return Charges(_paise(brokerage), _paise(stt), _paise(exchange), _paise(sebi), _paise(stamp), _paise(gst))
