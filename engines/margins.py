"""Margin: a documented approximation of NSE's SPAN plus exposure margin, at the dated rates of
rules/margin_rates.csv (one row per instrument type and product; `min_pct` only for short options).

- Futures: (SPAN% + exposure%) of the notional, quantity x price, long or short.
- Cash stocks: the product's rate of the value: MIS is intraday leverage (20%: 5x), CNC the full value.
- Long options: the premium, paid in full.
- Short options, per underlying: SPAN scans the index up and down, and short calls lose on the way up while
  short puts lose on the way down, so SPAN is the worse side: max(sum over calls, sum over puts) of
  units x max(SPAN% x S - out-of-the-money amount, min% x S), S the index level (the strike when the index
  is not quoted). Exposure margin, exposure% x S x units, is added for every short leg. A short straddle so
  blocks about one leg's SPAN and both legs' exposure, as SPAN's offsets do.

The figures are what an order is checked against, `Insufficient funds. Required margin is X but available
margin is Y`, where X is what the order adds to the book's margin and Y is capital + net P&L - the book's
margin. Premium received by a short option is not counted as cash (Zerodha blocks the full margin).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from engines.market.instruments import Instrument, Kind
from engines.market.rules import MarketRules, load_rules
from engines.money import Paise
from engines.vocabulary import Product


@dataclass(frozen=True, slots=True)
class Holding:
    """A position, or an order's effect on one: signed units at a price, in a product."""

    instrument: Instrument
    quantity: int
    price: Paise
    product: Product


class MarginModel:
    def __init__(
        self,
        day: date,
        spot: Callable[[str], Paise | None] = lambda _: None,
        rules: MarketRules | None = None,
    ) -> None:
        self.day = day
        self.spot = spot
        self.rules = rules or load_rules()

    def required(self, holdings: Iterable[Holding]) -> Paise:
        total = Decimal(0)
        shorts: dict[str, dict[Kind, Decimal]] = {}
        for h in holdings:
            units = abs(h.quantity)
            if not units:
                continue
            kind = h.instrument.kind
            if kind is Kind.FUT or kind is Kind.EQ:
                rate = self.rules.margin_rate(kind.value, h.product.value, self.day)
                total += Decimal(units * h.price) * rate.total_pct / 100
            elif h.instrument.is_option and h.quantity > 0:
                total += units * h.price
            elif h.instrument.is_option:
                span, exposure = self._short_option(h.instrument, units)
                by_side = shorts.setdefault(h.instrument.underlying or h.instrument.symbol, {})
                by_side[kind] = by_side.get(kind, Decimal(0)) + span
                total += exposure
        total += sum((max(sides.values()) for sides in shorts.values()), Decimal(0))
        return int(total.to_integral_value(ROUND_CEILING))

    def _short_option(self, option: Instrument, units: int) -> tuple[Decimal, Decimal]:
        rate = self.rules.margin_rate("OPT_SHORT", "NRML", self.day)
        level = Decimal(self.spot(option.underlying or "") or option.strike)
        strike = Decimal(option.strike)
        away = strike - level if option.kind is Kind.CE else level - strike
        out_of_money = max(away, Decimal(0))
        span = max(rate.span_pct * level / 100 - out_of_money, rate.min_pct * level / 100)
        return units * span, units * rate.exposure_pct * level / 100
