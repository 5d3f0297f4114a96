"""Per-order charges: what Kite's virtual contract note shows for one executed order, and what the engine
books per fill. Every component is rounded to the paisa on its own (STT included: the per-order note does not
round it to the rupee); the day's contract note (note.py) rounds differently, see the package docstring."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engines.charges.model import CRORE, PCT, Charges, GstSupply, Trade, default_product, gst_on, to_paise
from engines.market.instruments import Instrument
from engines.market.rules import ChargeRates, MarketRules, load_rules
from engines.money import PAISE_PER_RUPEE, Paise
from engines.vocabulary import Product, Side


def trade_charges(
    trade: Trade,
    day: date,
    rules: MarketRules | None = None,
    supply: GstSupply = GstSupply.INTERSTATE,
    *,
    dp_due: bool = True,
) -> Charges:
    """Charges of one executed order, each component rounded to the paisa (half up).

    `dp_due` says whether a CNC sell carries the day's DP charge for its scrip: the charge is per scrip per
    day, so pass False for the second and later CNC sells of a scrip on one day. It is ignored otherwise."""
    return value_charges(
        trade.segment, trade.product, trade.side, trade.value, day, rules, supply, dp_due=dp_due
    )


def value_charges(
    segment: str,
    product: Product,
    side: Side,
    value_paise: Paise,
    day: date,
    rules: MarketRules | None = None,
    supply: GstSupply = GstSupply.INTERSTATE,
    *,
    dp_due: bool = True,
) -> Charges:
    """Charges of one executed order worth `value_paise` in all (its fills together), each component
    rounded to the paisa once: the engine books an order filled in parts as the difference of this figure
    before and after each part, so the order's total is exactly its charges and brokerage is capped once."""
    rates = (rules or load_rules()).charge_rates(segment, day)
    value = Decimal(value_paise) / PAISE_PER_RUPEE
    buying = side is Side.BUY
    brokerage = to_paise(brokerage_on(value, rates))
    exchange = to_paise(value * rates.exchange_pct * PCT)
    sebi = to_paise(value * rates.sebi_per_crore / CRORE)
    delivery_sell = product is Product.CNC and not buying
    return Charges(
        brokerage=brokerage,
        stt=to_paise(value * (rates.stt_buy_pct if buying else rates.stt_sell_pct) * PCT),
        exchange=exchange,
        sebi=sebi,
        stamp=to_paise(value * rates.stamp_buy_pct * PCT) if buying else 0,
        **gst_on(brokerage + exchange + sebi, rates.gst_pct, supply),
        dp=dp_charge(rates, supply) if delivery_sell and dp_due else 0,
    )


def order_charges(
    instrument: Instrument,
    side: Side,
    quantity: int,
    price: Paise,
    day: date,
    rules: MarketRules | None = None,
    product: Product | None = None,
    *,
    supply: GstSupply = GstSupply.INTERSTATE,
    dp_due: bool = True,
) -> Charges:
    """Charges of one executed order of `quantity` units of `instrument` at `price` paise: the figure the
    engine books per fill. `product` defaults to MIS for cash stocks and NRML for F&O (charged alike)."""
    if not instrument.tradable:
        raise ValueError(f"{instrument.symbol} ({instrument.kind}) is not tradable")
    trade = Trade(
        instrument.kind, instrument.symbol, side, quantity, price, product or default_product(instrument.kind)
    )
    return trade_charges(trade, day, rules, supply, dp_due=dp_due)


def brokerage_on(value: Decimal, rates: ChargeRates) -> Decimal:
    """Brokerage in rupees of one executed order worth `value` rupees: a percentage capped at brokerage_max,
    or a flat brokerage_max when the segment has no percentage (options)."""
    if rates.brokerage_pct is None:
        return rates.brokerage_max
    return min(value * rates.brokerage_pct * PCT, rates.brokerage_max)


def dp_charge(rates: ChargeRates, supply: GstSupply) -> Paise:
    """The DP charge of one scrip on one day, GST included (Rs 13 + 18% = Rs 15.34 at the 2026 rate)."""
    fee = to_paise(rates.dp_per_scrip)
    return fee + sum(gst_on(fee, rates.gst_pct, supply).values())
