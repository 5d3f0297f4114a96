"""The day's contract note: Zerodha's charges of one client's trades of a day, as the contract note totals
them.

The note sums each charge over a clearing segment (NSE cash, NSE F&O) and rounds the sum once; STT is fixed
per scrip (per contract in F&O) and rounded to the rupee; NSE cash is netted per scrip before STT and stamp
duty know what was delivery. The rules and their sources are in the package docstring.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from engines.charges.model import (
    CRORE,
    PCT,
    Charges,
    GstSupply,
    Trade,
    gst_on,
    kite_number,
    to_paise,
    to_rupee,
)
from engines.charges.order import brokerage_on, dp_charge
from engines.market.instruments import Kind
from engines.market.rules import ChargeRates, MarketRules, RuleError, load_rules
from engines.money import PAISE_PER_RUPEE, Paise
from engines.vocabulary import Product, Side

# "For delivery based trades, a minimum of Rs. 0.01 will be charged per contract note" (support.zerodha.com,
# "What is the brokerage at Zerodha for equity?"): a service cannot be invoiced at zero.
MIN_DELIVERY_NOTE_BROKERAGE: Paise = 1


@dataclass(frozen=True, slots=True)
class ContractNote:
    """Charges of one day's trades by clearing segment ("NSE" cash, "NFO" F&O; only those traded), and the
    day's DP charges, which go to the ledger rather than the note."""

    day: date
    supply: GstSupply
    segments: dict[str, Charges]
    dp: Paise

    @property
    def charges(self) -> Charges:
        """Everything the day cost: the segments' charges plus the DP charges."""
        total = Charges(dp=self.dp)
        for charges in self.segments.values():
            total = total + charges
        return total

    def to_json(self) -> dict[str, object]:
        """The note in Kite's rupee numbers: each segment as a virtual-contract-note `charges` block."""
        return {
            "date": self.day.isoformat(),
            "gst": self.supply.value,
            "segments": {name: charges.to_contract_note() for name, charges in self.segments.items()},
            "total": kite_number(self.charges.note_total),
            "dp_charges": kite_number(self.dp),
        }


@dataclass(slots=True)
class _Segment:
    """Exact running sums of one clearing segment (rupees), and its STT in paise (rounded per scrip)."""

    gst_pct: Decimal | None = None
    brokerage: Decimal = Decimal(0)
    exchange: Decimal = Decimal(0)
    sebi: Decimal = Decimal(0)
    stamp: Decimal = Decimal(0)
    stt: Paise = 0
    delivery: bool = False  # shares changed hands for delivery

    def levy(self, turnover: Decimal, rates: ChargeRates) -> None:
        """Exchange charge and SEBI fee on `turnover` rupees."""
        self.exchange += turnover * rates.exchange_pct * PCT
        self.sebi += turnover * rates.sebi_per_crore / CRORE
        if self.gst_pct is not None and self.gst_pct != rates.gst_pct:
            raise RuleError(
                f"engines/market/rules/charge_rates.csv: two GST rates in one segment ({rates.gst_pct}%)"
            )
        self.gst_pct = rates.gst_pct

    def charges(self, supply: GstSupply, brokerage_floor: Paise) -> Charges:
        brokerage = max(to_paise(self.brokerage), brokerage_floor)
        exchange, sebi = to_paise(self.exchange), to_paise(self.sebi)
        return Charges(
            brokerage=brokerage,
            stt=self.stt,
            exchange=exchange,
            sebi=sebi,
            stamp=to_paise(self.stamp),
            **gst_on(brokerage + exchange + sebi, self.gst_pct or Decimal(0), supply),
        )


def contract_note(
    trades: Iterable[Trade],
    day: date,
    rules: MarketRules | None = None,
    supply: GstSupply = GstSupply.INTERSTATE,
) -> ContractNote:
    """The contract note's charges for one client's `trades` of `day` (every fill of the day, any product)."""
    rules = rules or load_rules()
    scrips: dict[tuple[str, str], list[Trade]] = {}
    for trade in trades:
        scrips.setdefault((trade.exchange, trade.symbol), []).append(trade)
    segments: dict[str, _Segment] = {}
    dp: Paise = 0
    for (exchange, _), scrip in scrips.items():
        segment = segments.setdefault(exchange, _Segment())
        if exchange == "NSE":
            dp += _equity_scrip(scrip, day, rules, segment, supply)
        else:
            _derivative_contract(scrip, day, rules, segment)
    minimum_due = any(s.delivery for s in segments.values()) and all(
        to_paise(s.brokerage) == 0 for s in segments.values()
    )
    return ContractNote(
        day,
        supply,
        {
            name: s.charges(supply, MIN_DELIVERY_NOTE_BROKERAGE if minimum_due and name == "NSE" else 0)
            for name, s in segments.items()
        },
        dp,
    )


def _equity_scrip(
    trades: list[Trade], day: date, rules: MarketRules, segment: _Segment, supply: GstSupply
) -> Paise:
    """Add one NSE stock's day to `segment`; return its DP charge (paise, GST included; 0 without a delivery
    sell). Buys and sells net per scrip whatever their product (STT Rules 2004, rule 3(a); NSE/CMO/0146/2004):
    the matched quantity is non-delivery (intraday), the rest delivery, all valued at the day's VWAP."""
    intraday = rules.charge_rates("EQ_INTRADAY", day)
    delivery = rules.charge_rates("EQ_DELIVERY", day)
    bought = sum(t.quantity for t in trades if t.side is Side.BUY)
    sold = sum(t.quantity for t in trades if t.side is Side.SELL)
    buy_value = Decimal(sum(t.value for t in trades if t.side is Side.BUY)) / PAISE_PER_RUPEE
    sell_value = Decimal(sum(t.value for t in trades if t.side is Side.SELL)) / PAISE_PER_RUPEE
    # VWAP of all the day's trades in the scrip, rounded to the paisa: STT's value per share (rule 3(a)(iv)).
    vwap = ((buy_value + sell_value) / (bought + sold)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    matched = min(bought, sold)
    delivered_in, delivered_out = bought - matched, sold - matched
    segment.stt += to_rupee(
        vwap
        * (
            matched * (intraday.stt_buy_pct + intraday.stt_sell_pct)
            + delivered_in * delivery.stt_buy_pct
            + delivered_out * delivery.stt_sell_pct
        )
        * PCT
    )
    # Stamp duty is the buyer's, split into non-delivery and delivery by quantity (Indian Stamp Rules 2019:
    # the clearing corporation decides delivery at settlement).
    if bought:
        stamp_pct = (matched * intraday.stamp_buy_pct + delivered_in * delivery.stamp_buy_pct) / bought
        segment.stamp += buy_value * stamp_pct * PCT
    # Exchange charge and SEBI fee: the same rates either way today, applied by row in case they ever differ.
    matched_turnover = (buy_value / bought + sell_value / sold) * matched if matched else Decimal(0)
    segment.levy(matched_turnover, intraday)
    segment.levy(buy_value + sell_value - matched_turnover, delivery)
    segment.delivery |= bool(delivered_in or delivered_out)
    # A CNC order in a scrip also sold (or bought) back the same day is intraday for brokerage
    # (support.zerodha.com, "Why have I been charged brokerage even though I have taken delivery trades").
    squared_off = bool(matched)
    for value, product in _orders(trades):
        rates = delivery if product is Product.CNC and not squared_off else intraday
        segment.brokerage += brokerage_on(value, rates)
    return dp_charge(delivery, supply) if delivered_out else 0


def _derivative_contract(trades: list[Trade], day: date, rules: MarketRules, segment: _Segment) -> None:
    """Add one NFO contract's day to `segment`: STT on the contract's sell value (premium for options), summed
    at client-contract level and rounded to the rupee (NSE F&O STT report; STT Rules 2004, rule 4)."""
    rates = rules.charge_rates("FUT" if trades[0].kind is Kind.FUT else "OPT", day)
    buy_value = Decimal(sum(t.value for t in trades if t.side is Side.BUY)) / PAISE_PER_RUPEE
    sell_value = Decimal(sum(t.value for t in trades if t.side is Side.SELL)) / PAISE_PER_RUPEE
    segment.stt += to_rupee((buy_value * rates.stt_buy_pct + sell_value * rates.stt_sell_pct) * PCT)
    segment.stamp += buy_value * rates.stamp_buy_pct * PCT
    segment.levy(buy_value + sell_value, rates)
    for value, _ in _orders(trades):
        segment.brokerage += brokerage_on(value, rates)


def _orders(trades: list[Trade]) -> list[tuple[Decimal, Product]]:
    """The executed orders among `trades` as (value in rupees, product); fills sharing an order_id are one."""
    orders: dict[tuple[str, int], tuple[Decimal, Product]] = {}
    for i, trade in enumerate(trades):
        key = (trade.order_id, -1) if trade.order_id else ("", i)
        value, _ = orders.get(key, (Decimal(0), trade.product))
        orders[key] = (value + Decimal(trade.value) / PAISE_PER_RUPEE, trade.product)
    return list(orders.values())
