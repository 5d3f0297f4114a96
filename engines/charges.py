"""Zerodha's charges for an executed order, in paise, at the dated rates of rules/charge_rates.csv.

Each component is computed exactly in Decimal and rounded to the paisa (half up); the total is the sum
of the rounded components, so a fill's charges always add up. Kite's virtual contract note
(/charges/orders) reports the same components per order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from engines.market.instruments import Instrument, Kind
from engines.market.rules import MarketRules, load_rules
from engines.money import Paise

_PCT = Decimal("0.01")
_CRORE = Decimal(10_000_000)


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

    def to_json(self) -> dict[str, int]:
        return {**asdict(self), "total": self.total}


def charge_segment(instrument: Instrument) -> str:
    """The charge_rates.csv segment of an intraday order in `instrument`."""
    if instrument.kind is Kind.EQ:
        return "EQ_INTRADAY"
    if instrument.kind is Kind.FUT:
        return "FUT"
    if instrument.is_option:
        return "OPT"
    raise ValueError(f"{instrument.symbol} ({instrument.kind}) is not tradable")


def order_charges(
    instrument: Instrument, side: Side, quantity: int, price: Paise, day: date, rules: MarketRules | None = None
) -> Charges:
    """Charges Zerodha would book for one executed intraday order of `quantity` units at `price`."""
    rates = (rules or load_rules()).charge_rates(charge_segment(instrument), day)
    turnover = Decimal(price * quantity) / 100  # rupees; premium turnover for options
    if rates.brokerage_pct is None:
        brokerage = rates.brokerage_max
    else:
        brokerage = min(turnover * rates.brokerage_pct * _PCT, rates.brokerage_max)
    stt_pct = rates.stt_buy_pct if side is Side.BUY else rates.stt_sell_pct
    stt = turnover * stt_pct * _PCT
    exchange = turnover * rates.exchange_pct * _PCT
    sebi = turnover * rates.sebi_per_crore / _CRORE
    stamp = turnover * rates.stamp_buy_pct * _PCT if side is Side.BUY else Decimal(0)
    gst = (brokerage + sebi + exchange) * rates.gst_pct * _PCT
    return Charges(_paise(brokerage), _paise(stt), _paise(exchange), _paise(sebi), _paise(stamp), _paise(gst))


def _paise(rupees: Decimal) -> Paise:
    return int((rupees * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
